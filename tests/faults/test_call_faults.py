"""CDR ingest and the day's call charges with a fault at each AWS call:
a file imported (the admin CLI's path into the pipeline) and its day closed
(the scheduled job), then, as a redelivery and the next run would, both
again without faults. Afterwards each customer's posted charges for the day
equal an independent computation from the rows, once, and every balance
equals its ledger sum."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from tests.support.worlds.cdrs import build_world, expected, generate, ts, world, write  # noqa: F401 - world is a fixture
from tests.support.injection.fault_sweep import Flow, sweep
from tests.support.injection.faults import LOST_ANSWER, Fault, Faults
from tests.support.worlds.money import assert_balance_is_ledger_sum


class CallCharges(Flow):
    name = "CDR ingest and call charges"

    def __init__(self, world: dict[str, Any]) -> None:
        self.world, self.rng, self.n, self.worlds = world, random.Random(15), 0, 1
        self.rows: list[list[str]] = []
        self.days: list[str] = []

    def renew(self) -> None:
        from chalicelib.services.identity import users
        from tests.support.harness.in_process import empty_aws

        empty_aws()
        self.worlds += 1
        tmp = self.world["tmp"] / f"world-{self.worlds}"
        tmp.mkdir()
        self.world = build_world(users.create_tenant(name="Test Tenant"), tmp)
        self.n, self.rows, self.days = 0, [], []

    def prepare(self) -> tuple[str, str]:
        self.n += 1
        day = (date(2026, 4, 1) + timedelta(days=self.n)).isoformat()
        rows = generate(self.rng, self.world, 12, day, f"d{self.n}") + every_group(self.world, day, f"g{self.n}")
        self.rows += rows
        self.days.append(day)
        return day, str(write(self.world["tmp"] / f"calls-{self.n}.csv", rows))

    def act(self, ctx: tuple[str, str]) -> None:
        from chalicelib.services.calls import daily, ingest

        day, path = ctx
        ingest.import_file(tenant=self.world["tenant"], path=path)
        daily.daily_close(tenant=self.world["tenant"], day=day)

    def recover(self, ctx: tuple[str, str]) -> None:
        self.act(ctx)

    def check(self) -> None:
        from chalicelib.services.calls import charges

        tenant, want = self.world["tenant"], expected(self.world, self.rows)
        for customer in self.world["customers"]:
            total = Decimal("0")
            for day in self.days:
                record = charges.posted_call_charges(tenant=tenant, customer_id=customer["id"], day=day)
                cost = want["costs"].get((customer["id"], day), Decimal("0"))
                posted = Decimal(str(record["total"])) if record else Decimal("0")
                assert posted == cost, (customer["id"], day, posted, cost)
                if record:
                    assert sum(Decimal(str(e["amount"])) for e in record["entries"]) == cost
                total += cost
            assert assert_balance_is_ledger_sum(tenant, customer["id"]) == -total


def every_group(world: dict[str, Any], day: str, prefix: str) -> list[list[str]]:
    """An answered call on each DID through its owner's trunk group and one on
    each termination trunk: every day then has the same groups (figures and
    export files) and a charge for each customer, so each run makes the calls
    the sweep enumerated (a day that lacked a group made fewer, and a fault
    planned for one of the last calls never fired)."""
    rows, start = [], datetime.fromisoformat(day).replace(hour=12, tzinfo=timezone.utc)
    calls = [("inbound", world["origination"][owner], did) for did, (owner, _) in world["dids"].items()]
    calls += [("outbound", trunk, "442071234567") for trunk in world["termination"]]
    for n, (direction, trunk, to) in enumerate(calls):
        at = start + timedelta(minutes=n)
        rows.append([f"{prefix}-{n}", direction, "acct", trunk, "15551234567", to, ts(at),
                     ts(at + timedelta(seconds=5)), ts(at + timedelta(seconds=95)), "90", "ANSWERED"])
    return rows


def test_call_charges_survive_a_fault_at_each_aws_call(world: dict[str, Any]) -> None:
    with Faults() as faults:
        coverage = sweep(faults, CallCharges(world), offset=4)
    assert coverage.calls and coverage.injected == coverage.scenarios


def test_a_cdr_file_whose_claim_answer_was_lost_is_still_imported(world: dict[str, Any]) -> None:
    """The claim of the file (a conditional PutItem) commits, its answer is
    lost, botocore's retry finds the claim: the import goes on (it used to
    report the file as already imported, and so did every import after it:
    its calls were never charged)."""
    from chalicelib.services.calls import ingest

    flow = CallCharges(world)
    with Faults() as faults:
        faults.record()
        flow.act(flow.prepare())
        claim = faults.calls.index("dynamodb.PutItem")
        faults.arm(Fault(LOST_ANSWER, claim, persistent=False))
        day, path = flow.prepare()
        summary = ingest.import_file(tenant=world["tenant"], path=path)
        assert faults.fired == [f"lost_answer(once)@{claim} at dynamodb.PutItem"]
    assert not summary.get("repeated") and summary["rows"] == 12 + len(every_group(world, day, "g"))
    from chalicelib.services.calls import daily

    daily.daily_close(tenant=world["tenant"], day=day)
    flow.check()

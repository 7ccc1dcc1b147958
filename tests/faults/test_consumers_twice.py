"""Queue consumers get every message twice and out of order (SQS is
at-least-once and unordered): the effects happen once. The order worker's
case, with overlapping invocations, is in tests/integration/carrier/test_twice.py
(DynamoDB Local); this is the CDR file consumer, in process."""
from __future__ import annotations

import random
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

from chalice.local import LambdaContext

from tests.support.harness import events
from tests.support.worlds.cdrs import expected, generate, world, write  # noqa: F401 - world is a fixture
from tests.support.worlds.money import assert_balance_is_ledger_sum


def _invoke(name: str, event: dict[str, Any]) -> Any:
    from app import app

    context = LambdaContext(function_name=f"dialtone-test-{name}", memory_size=1024, max_runtime_ms=60_000)
    return app.handler_map[name](event, context)


def test_the_cdr_file_consumer_given_each_notification_twice_out_of_order_charges_once(world: dict[str, Any]) -> None:
    from chalicelib.services.calls import charges, daily, inbox

    rng, tenant, rows, day = random.Random(3), world["tenant"], [], "2026-04-20"
    bodies = []
    for n in range(3):
        mine = generate(rng, world, 10, day, f"f{n}")
        rows += mine
        key = inbox.upload_to_inbox(tenant=tenant, name=f"switch-{n}.csv",
                                    body=write(world["tmp"] / f"f{n}.csv", mine).read_bytes())
        bodies.append(events.load("s3_object_created_via_sqs", key=quote_plus(key))["Records"][0]["body"])
    # every notification twice, the second round in reverse, in two batches
    for batch in (bodies + bodies[::-1][:1], bodies[::-1]):
        assert _invoke("cdr_files", events.sqs_event(*batch, like="s3_object_created_via_sqs")) == {
            "batchItemFailures": []}
    daily.daily_close(tenant=tenant, day=day)
    daily.daily_close(tenant=tenant, day=day)  # the schedule firing twice
    want = expected(world, rows)
    assert any(want["costs"].get((c["id"], day)) for c in world["customers"]), "no call costs anything"
    for customer in world["customers"]:
        record = charges.posted_call_charges(tenant=tenant, customer_id=customer["id"], day=day)
        cost = want["costs"].get((customer["id"], day), Decimal("0"))
        assert (Decimal(str(record["total"])) if record else Decimal("0")) == cost
        assert assert_balance_is_ledger_sum(tenant, customer["id"]) == -cost

"""Invoice close (the monthly job) with a fault at each AWS call: the run
fails cleanly or finishes, the next run finishes the month, and afterwards
each customer that moved has exactly one invoice for the month, equal to its
ledger statement, with its PDF in S3, and no PDF is left without an invoice."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib import clock
from tests.support.injection.fault_sweep import Flow, sweep
from tests.support.injection.faults import Faults
from tests.support.worlds.money import admin, new_customer

FIRST_YEAR = 2010  # each faulted run closes the next month (months close in order, after they end)


def month_of(n: int) -> str:
    return f"{FIRST_YEAR + n // 12}-{n % 12 + 1:02d}"


class InvoiceClose(Flow):
    name = "invoice close (monthly job)"

    def __init__(self, tenant: dict[str, Any]) -> None:
        self._start(tenant)

    def _start(self, tenant: dict[str, Any]) -> None:
        self.tenant, principal = tenant["tenant"]["id"], admin(tenant)
        # two customers that move every month, and one that never does (no invoice)
        self.customers = [new_customer(principal, name=f"C{n}", credit_limit="-1000") for n in range(2)]
        new_customer(principal, name="Idle")
        self.months: list[str] = []

    def renew(self) -> None:
        from chalicelib.services.identity import users
        from tests.support.harness.in_process import empty_aws

        empty_aws()
        self._start(users.create_tenant(name="Test Tenant"))

    def prepare(self) -> str:
        from chalicelib.domain.money import ledger as rules
        from chalicelib.services.money import ledger

        month = month_of(len(self.months))
        self.months.append(month)
        for customer in self.customers:
            for n, (day, amount) in enumerate((("02", "100"), ("17", "-1.23457"))):
                with clock.frozen(f"{month}-{day}T12:00:{n:02d}"):
                    ledger.post_movement(tenant=self.tenant, account=customer["id"], activity=rules.ADJUSTMENT,
                                         amount=Decimal(amount), reference=f"r{n}",
                                         idempotency_key=f"k{n}-{month}-{customer['id']}")
        return month

    def act(self, month: str) -> None:
        from chalicelib.services.money import invoices

        invoices.close_month(tenant=self.tenant, month=month)

    def recover(self, month: str) -> None:
        from chalicelib.services.money import invoices

        assert invoices.close_month(tenant=self.tenant, month=month)["done"]

    def check(self) -> None:
        from chalicelib import settings
        from chalicelib.domain.money import ledger as ledger_rules
        from chalicelib.services.money import ledger_reads
        from chalicelib.store.clients import client as aws_client
        from chalicelib.store.money import invoices as store

        keys = set()
        for month in self.months:
            first, last = ledger_rules.month_bounds(month)
            for customer in self.customers:
                record = store.get_invoice(self.tenant, customer["id"], month)  # one per customer and month
                assert record is not None, (month, customer["id"])
                statement = ledger_reads.statement(tenant=self.tenant, account=customer["id"], first_day=first,
                                                   last_day=last)
                assert Decimal(str(record["closing"])) == statement.closing_balance
                keys.add(f"tenants/{self.tenant}/{record['pdfKey']}")
        answer = aws_client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"tenants/{self.tenant}/")
        objects = {o["Key"] for o in answer.get("Contents", [])}
        assert objects == keys, (objects ^ keys)


def test_invoice_close_survives_a_fault_at_each_aws_call(tenant: dict[str, Any]) -> None:
    with Faults() as faults:
        coverage = sweep(faults, InvoiceClose(tenant), offset=5)
    assert coverage.calls and coverage.injected == coverage.scenarios

"""The business events are counted where they happen, once per event, and
not again when the same work is repeated (a redelivered message, a file
sent twice, a payment retried with its Idempotency-Key)."""
from __future__ import annotations

import io
import random
from datetime import date
from typing import Any, Iterator

import pytest

from chalicelib.observability import metrics
from tests.support.checks import emf
from tests.support.worlds.cdrs import DAY1, generate, world, write  # noqa: F401  (world is a fixture)
from tests.support.worlds.money import admin, new_customer


@pytest.fixture(autouse=True)
def counted() -> Iterator[None]:
    metrics.discard()
    yield
    metrics.discard()


def flushed() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """What one invocation's flush would write, each document checked as EMF."""
    out = io.StringIO()
    metrics.flush(out)
    return emf.totals(emf.documents(out.getvalue()))


def test_payments_by_outcome(tenant: dict[str, Any]) -> None:
    from chalicelib.adapters.payments import APPROVE_CARD, DECLINE_CARD
    from chalicelib.domain.errors import PaymentDeclinedError
    from chalicelib.domain.money.cards import Card
    from chalicelib.services.money import payments

    principal = admin(tenant)
    customer = new_customer(principal)

    def card(number: str) -> Card:
        return Card(number=number, exp_month=12, exp_year=date.today().year + 1, cvv="123", first_name="Ada",
                    last_name="L")

    for _ in range(2):  # the retry with the same key is answered from the first payment
        payments.make_payment(principal=principal, customer=customer, card=card(APPROVE_CARD), amount="10",
                              idempotency_key="pay-1")
    with pytest.raises(PaymentDeclinedError):
        payments.make_payment(principal=principal, customer=customer, card=card(DECLINE_CARD), amount="10",
                              idempotency_key="pay-2")

    assert flushed() == {("Payments", (("Outcome", "approved"),)): 1, ("Payments", (("Outcome", "declined"),)): 1}


def test_cdr_rows_and_call_charges(world: dict[str, Any]) -> None:  # noqa: F811
    from chalicelib.services.calls import charges, daily, ingest

    rows = generate(random.Random(7), world, 40, DAY1, "m")
    bad = [["bad-1", "sideways", "acct", "", "1", "4420", f"{DAY1}T01:00:00Z", "", f"{DAY1}T01:00:01Z", "0",
            "FAILED"]]
    path = write(world["tmp"] / "calls.csv", rows + bad)
    summary = ingest.import_file(tenant=world["tenant"], path=str(path))
    ingest.import_file(tenant=world["tenant"], path=str(path))  # the same file again: nothing new
    daily.daily_close(tenant=world["tenant"], day=DAY1)
    daily.daily_close(tenant=world["tenant"], day=DAY1)  # closed twice: charged once

    found = flushed()
    assert found[("CdrFilesIngested", ())] == 1
    assert found[("CdrRows", (("Outcome", "ingested"),))] == summary["accepted"] == 40
    assert found[("CdrRows", (("Outcome", "rejected"),))] == summary["rejected"] == 1
    posted = [charges.posted_call_charges(tenant=world["tenant"], customer_id=c["id"], day=DAY1)
              for c in world["customers"]]
    entries = sum(len(record["entries"]) for record in posted if record)
    assert entries and found[("CallChargesPosted", (("Outcome", "charge"),))] == entries

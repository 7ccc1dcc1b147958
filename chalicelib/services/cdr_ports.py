"""The CDR pipeline's two seams with other capabilities, kept small so that
the merge with issues 3 (ledger) and 4 (numbers and trunks) touches only
this module (docs/cdrs.md, "Ports"):

1. Owners: which customer a DID or a trunk belongs to, and whether a DID is
   Metered or Unmetered (as the origination trunk group it was ordered on).
   Today they are read from small stand-in items (``register_number``,
   ``register_trunk``); at merge they read issue 4's NUMBER and TRUNK entities.
2. Charges: ``post_call_charges`` posts a customer's call charges of a day.
   Today it keeps one charge record per customer and day, moved by a
   conditional write, so each day is charged exactly once and a re-rate posts
   only the difference; at merge the same conditional write joins the
   ledger's movement (activity "Call Charges") in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.money import as_money, round_money
from chalicelib.store import cdrs as store

CHARGE_ATTEMPTS = 5


@dataclass(frozen=True)
class Owner:
    customer_id: int
    account_number: str
    metered: bool = True


def register_number(*, tenant: str, number: str, customer_id: int, account_number: str, metered: bool) -> None:
    """Stand-in for issue 4: a DID owned by a customer, Metered or Unmetered."""
    store.port_item(tenant, "DID", normalise_number(number),
                    {"customerId": customer_id, "accountNumber": account_number, "metered": metered})


def register_trunk(*, tenant: str, trunk_id: str, customer_id: int, account_number: str) -> None:
    """Stand-in for issue 4: a trunk group (origination or termination) owned by a customer."""
    store.port_item(tenant, "TRUNK", str(trunk_id), {"customerId": customer_id, "accountNumber": account_number})


def normalise_number(number: str) -> str:
    return number.strip().lstrip("+")


def number_owners(*, tenant: str) -> dict[str, Owner]:
    """Every DID of the tenant with its owner: read once per file or day (one paged Query)."""
    return {i["SK"]: Owner(int(i["customerId"]), str(i["accountNumber"]), bool(i.get("metered", True)))
            for i in store.port_items(tenant, "DID")}


def trunk_owners(*, tenant: str) -> dict[str, Owner]:
    return {i["SK"]: Owner(int(i["customerId"]), str(i["accountNumber"])) for i in store.port_items(tenant, "TRUNK")}


def post_call_charges(*, tenant: str, customer_id: int, day: str, amount: Decimal,
                      idempotency_key: str) -> Decimal:
    """Bring the customer's "Call Charges" of ``day`` to ``amount`` (the day as
    rated now); posts and returns only the difference from what was posted before.
    Calling it again with the same amount posts nothing."""
    amount = round_money(amount)
    for _ in range(CHARGE_ATTEMPTS):
        record = store.get_charge(tenant, customer_id, day)
        posted = as_money(record["total"]) if record else as_money(0)
        difference = amount - posted
        if difference == 0:
            return difference
        version = int(record["version"]) + 1 if record else 1
        entries: list[dict[str, Any]] = list(record.get("entries", [])) if record else []
        # Each entry's key is the business key of the movement the ledger will
        # receive at merge: same day and version -> same entry, never two.
        entries.append({"key": f"{idempotency_key}#v{version}", "amount": difference})
        if store.put_charge(tenant, customer_id, day, total=amount, version=version, entries=entries):
            return difference
    raise ConcurrentUpdateError(f"call charges of customer {customer_id} on {day} kept changing")


def posted_call_charges(*, tenant: str, customer_id: int, day: str) -> dict[str, Any] | None:
    return store.get_charge(tenant, customer_id, day)

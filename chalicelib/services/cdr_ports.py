"""The CDR pipeline's two seams with other capabilities, kept small so that
the merge with issues 3 (ledger) and 4 (numbers and trunks) touches only
this module (docs/cdrs.md, "Ports"):

1. Owners: which customer a DID or a trunk belongs to, and whether a DID is
   Metered or Unmetered (as the origination trunk group it was ordered on).
   Today they are read from small stand-in items (``register_number``,
   ``register_trunk``); at merge they read issue 4's NUMBER and TRUNK entities.
2. Charges: ``post_call_charges`` posts a customer's call charges of a day
   through the ledger (services.ledger.post_movement, activity "Call
   Charges"), in one transaction with a charge record per customer and day
   moved by a version-conditional write: each day is charged exactly once and
   a re-rate posts only the difference.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.money import as_money, round_money
from chalicelib.store import cdrs as store
from chalicelib.store.dynamo import Transaction

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
    """Bring the customer's call charges of ``day`` to ``amount`` (the day as
    rated now): posts only the difference from what was posted before, as one
    ledger movement ("Call Charges" for more, "Adjustment" for a re-rate that
    lowers the day), in one transaction with the day's charge record. Calling
    it again with the same amount posts nothing. The calls were made: the
    charge is posted with the ledger's overdraft allowance for "Call Charges"
    and may take the balance below the customer's credit limit, which then
    blocks new spend (docs/money.md, "Usage below the credit limit")."""
    from chalicelib.domain import ledger as ledger_rules
    from chalicelib.services import ledger

    amount = round_money(amount)
    for _ in range(CHARGE_ATTEMPTS):
        record = store.get_charge(tenant, customer_id, day)
        posted = as_money(record["total"]) if record else as_money(0)
        difference = amount - posted
        if difference == 0:
            return difference
        version = int(record["version"]) + 1 if record else 1
        entries: list[dict[str, Any]] = list(record.get("entries", [])) if record else []
        # The entry key is the movement's idempotency key: one movement per
        # customer, day and version, never two.
        key = f"{idempotency_key}#v{version}"
        entries.append({"key": key, "amount": difference})

        def record_charge(tx: Transaction, entries: list[dict[str, Any]] = entries, version: int = version) -> None:
            store.add_charge_put(tx, tenant, customer_id, day, total=amount, version=version, entries=entries)

        activity = ledger_rules.CALL_CHARGES_ACTIVITY if difference > 0 else ledger_rules.ADJUSTMENT
        try:
            ledger.post_movement(tenant=tenant, account=customer_id, activity=activity, amount=-difference,
                                 reference=f"call-charges:{day}", idempotency_key=key,
                                 description=f"Call charges {day}" + (" (re-rated)" if version > 1 else ""),
                                 also=record_charge, overdraft=activity == ledger_rules.CALL_CHARGES_ACTIVITY)
        except ConcurrentUpdateError:
            continue  # another close moved the record first: read it again
        return difference
    raise ConcurrentUpdateError(f"call charges of customer {customer_id} on {day} kept changing")


def posted_call_charges(*, tenant: str, customer_id: int, day: str) -> dict[str, Any] | None:
    return store.get_charge(tenant, customer_id, day)

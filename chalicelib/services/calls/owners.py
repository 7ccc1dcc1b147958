"""The CDR pipeline's two seams with other capabilities (docs/cdrs.md, "Ports"):

1. Owners: which customer a DID or a trunk belongs to, and whether a DID is
   Metered or Unmetered. They are issue 4's inventory: an owned NUMBER item
   carries its ``customerId`` and the ``trunkId`` it was ordered on; a DID is
   Metered when that origination trunk group's ``billingType`` is Metered
   (TRUNK entities). Read once per file or day: one paged Query of the
   tenant's owned numbers (ByParent) and one of its trunks, never per row.
2. Charges: ``post_call_charges`` posts a customer's call charges of a day
   through the ledger (services.ledger.post_movement, activity "Call
   Charges"), in one transaction with a charge record per customer and day
   moved by a version-conditional write: each day is charged exactly once and
   a re-rate posts only the difference.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.money.amounts import as_money, round_money
from chalicelib.store import calls as store
from chalicelib.store.dynamo.table import Transaction

CHARGE_ATTEMPTS = 5
UNMETERED = "Unmetered"


@dataclass(frozen=True)
class Owner:
    customer_id: int
    metered: bool = True
    direction: str = ""  # trunks: origination or termination


def normalise_number(number: str) -> str:
    """A DID as the inventory keys it: 10 digits (a leading + and the NANP
    country code 1 of an 11-digit number dropped). The engine's SQL does the same."""
    digits = number.strip().lstrip("+")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


@dataclass(frozen=True)
class Owners:
    """Who owns what in a tenant, read once per file or day: DIDs (10 digits)
    and trunk groups (ids as CDRs name them)."""
    numbers: dict[str, Owner]
    trunks: dict[str, Owner]

    def digest(self) -> str:
        """Changes when any owner, metering or trunk direction changes (a day's
        stored figures record the digest of the owners they were computed with)."""
        digest = hashlib.sha256()
        for kind, table in (("N", self.numbers), ("T", self.trunks)):
            for key in sorted(table):
                owner = table[key]
                digest.update(f"{kind}{key},{owner.customer_id},{owner.metered:d},{owner.direction};".encode())
        return digest.hexdigest()[:32]


def owners(*, tenant: str) -> Owners:
    trunks = trunk_owners(tenant=tenant)
    return Owners(number_owners(tenant=tenant, trunks=trunks), trunks)


def trunk_owners(*, tenant: str) -> dict[str, Owner]:
    """Every trunk group of the tenant by id (as CDRs name it): owner and direction."""
    return {str(int(i["SK"])): Owner(int(i["customerId"]), i.get("billingType") != UNMETERED,
                                     str(i.get("direction", "")))
            for i in store.trunk_items(tenant)}


def number_owners(*, tenant: str, trunks: dict[str, Owner]) -> dict[str, Owner]:
    """Every owned DID of the tenant with its owner; Metered as the trunk group
    (of ``trunks``) it was ordered on (a number ordered without a trunk is Metered)."""
    from chalicelib.store import numbers as inventory

    owners = {}
    for item in inventory.owned_in_tenant(tenant, attributes=("number", "customerId", "trunkId")):
        trunk = trunks.get(str(item["trunkId"])) if item.get("trunkId") is not None else None
        owners[item["number"]] = Owner(int(item["customerId"]), trunk.metered if trunk else True)
    return owners


_UNREAD: Any = object()


def post_call_charges(*, tenant: str, customer_id: int, day: str, amount: Decimal,
                      idempotency_key: str, record: Any = _UNREAD) -> Decimal:
    """Bring the customer's call charges of ``day`` to ``amount`` (the day as
    rated now): posts only the difference from what was posted before, as one
    ledger movement ("Call Charges" for more, "Adjustment" for a re-rate that
    lowers the day), in one transaction with the day's charge record. Calling
    it again with the same amount posts nothing. The calls were made: the
    charge is posted with the ledger's overdraft allowance for "Call Charges"
    and may take the balance below the customer's credit limit, which then
    blocks new spend (docs/money.md, "Usage below the credit limit").
    ``record``: the day's charge record as the caller just read it (None: there
    is none), saving the first read; a lost race reads it again."""
    from chalicelib.domain.money import ledger as ledger_rules
    from chalicelib.services.money import ledger

    amount = round_money(amount)
    for attempt in range(CHARGE_ATTEMPTS):
        if attempt or record is _UNREAD:
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

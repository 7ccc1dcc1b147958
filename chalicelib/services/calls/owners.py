"""Owners of DIDs and trunk groups: which customer a CDR's number or trunk
belongs to, and whether a DID is Metered or Unmetered (docs/cdrs.md, "Owners").

They are issue 4's inventory: an owned NUMBER item carries its ``customerId``
and the ``trunkId`` it was ordered on; a DID is Metered when that origination
trunk group's ``billingType`` is Metered (TRUNK entities). Read once per file
or day (``read_owners``): one paged Query of the tenant's owned numbers and
one of its trunks, never per row.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from chalicelib.services.calls.shared import timed
from chalicelib.store import calls as store
from chalicelib.store.numbers import owned as owned_numbers

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


def read_owners(*, tenant: str) -> Owners:
    """Every owner in the tenant, as the scan and a day's computation join them."""
    with timed("dynamodb.owners"):
        trunks = trunk_owners(tenant=tenant)
        return Owners(number_owners(tenant=tenant, trunks=trunks), trunks)


def trunk_owners(*, tenant: str) -> dict[str, Owner]:
    """Every trunk group of the tenant by id (as CDRs name it): owner and direction."""
    return {str(t["id"]): Owner(int(t["customerId"]), t.get("billingType") != UNMETERED, str(t.get("direction", "")))
            for t in store.trunk_owners(tenant)}


def number_owners(*, tenant: str, trunks: dict[str, Owner]) -> dict[str, Owner]:
    """Every owned DID of the tenant with its owner; Metered as the trunk group
    (of ``trunks``) it was ordered on (a number ordered without a trunk is Metered)."""
    owners = {}
    for item in owned_numbers.owned_in_tenant(tenant, attributes=("number", "customerId", "trunkId")):
        trunk = trunks.get(str(item["trunkId"])) if item.get("trunkId") is not None else None
        owners[item["number"]] = Owner(int(item["customerId"]), trunk.metered if trunk else True)
    return owners


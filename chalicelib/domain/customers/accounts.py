"""Customers (accounts): statuses and the rules for their fields.

Storage names are the domain's; each surface renames them for its dialect
(``customerName`` and ``statusID`` on the billing platform API, ``accountno``
on the carrier API, ``account_number`` on the partner API).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from chalicelib.domain.errors import ValidationError

STATUS_CUSTOMER = 1
STATUS_EX_CUSTOMER = 2
STATUS_PROSPECT = 3
STATUS_SUSPENDED = 4
STATUS_NAMES = {
    STATUS_CUSTOMER: "Customer",
    STATUS_EX_CUSTOMER: "Ex-Customer",
    STATUS_PROSPECT: "Prospect",
    STATUS_SUSPENDED: "Suspended",
}
ACTIVE_STATUSES = frozenset({STATUS_CUSTOMER})

ACCOUNT_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
# Allocated account numbers start here so they are always seven digits.
ACCOUNT_NUMBER_BASE = 1_000_000

# Fields a client may set, with their type; everything else is read-only.
TEXT_FIELDS = (
    "name", "email", "phone", "contactName", "companyNumber", "address1", "address2",
    "city", "state", "postcode", "country",
)


def is_active(customer: Mapping[str, Any]) -> bool:
    return customer.get("status", STATUS_CUSTOMER) in ACTIVE_STATUSES


def validate_account_number(value: Any) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError("accountNumber must be a string", field="accountNumber")
    text = str(value).strip()
    if not ACCOUNT_NUMBER_PATTERN.match(text):
        raise ValidationError("accountNumber must be 1-32 letters, digits, '-' or '_'", field="accountNumber")
    return text


def allocated_account_number(sequence: int) -> str:
    return str(ACCOUNT_NUMBER_BASE + sequence)

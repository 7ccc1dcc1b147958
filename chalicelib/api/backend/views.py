"""Billing platform field names <-> domain field names, for customers."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain import customers as rules
from chalicelib.domain.errors import ReadOnlyFieldError, UnknownFieldError, ValidationError
from chalicelib.domain.money import as_money

# API name -> domain name, for fields a client may write.
CUSTOMER_WRITABLE = {
    "customerName": "name", "name": "name", "accountNumber": "accountNumber", "email": "email", "phone": "phone",
    "contactName": "contactName", "companyNumber": "companyNumber", "address1": "address1", "address2": "address2",
    "city": "city", "state": "state", "postcode": "postcode", "country": "country", "creditLimit": "creditLimit",
    "accountManagerID": "accountManagerId", "commissionHolderID": "commissionHolderId",
}
CUSTOMER_READ_ONLY = frozenset({
    "id", "statusID", "status", "statusReason", "dateDrop", "balance", "pin", "createdDate", "updatedDate",
})
# accountNumber is chosen (or allocated) at creation and then fixed: the
# carrier and partner APIs address the customer by it.
CUSTOMER_CREATE_ONLY = frozenset({"accountNumber"})


def customer_view(record: Mapping[str, Any]) -> dict[str, Any]:
    status = record.get("status", rules.STATUS_CUSTOMER)
    view = {
        "id": record["id"],
        "accountNumber": record.get("accountNumber"),
        "customerName": record.get("name"),
        # The seed's expansion example calls it "name"; both are served.
        "name": record.get("name"),
        "statusID": status,
        "status": rules.STATUS_NAMES.get(status, "Unknown"),
        "statusReason": record.get("statusReason"),
        "dateDrop": record.get("dateDrop"),
        "email": record.get("email"),
        "phone": record.get("phone"),
        "contactName": record.get("contactName"),
        "companyNumber": record.get("companyNumber"),
        "address1": record.get("address1"),
        "address2": record.get("address2"),
        "city": record.get("city"),
        "state": record.get("state"),
        "postcode": record.get("postcode"),
        "country": record.get("country"),
        "creditLimit": as_money(record.get("creditLimit")),
        # Kept on the customer item by every ledger movement (services/ledger.py).
        "balance": as_money(record.get("balance")),
        "accountManagerID": record.get("accountManagerId"),
        "commissionHolderID": record.get("commissionHolderId"),
        "createdDate": _seconds(record.get("createdAt")),
        "updatedDate": _seconds(record.get("updatedAt")),
    }
    return view


def _seconds(stamp: str | None) -> str | None:
    # Stored with microseconds for ordering; shown as ISO 8601 to the second.
    return f"{stamp[:19]}Z" if stamp else None


def customer_input(body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """API body -> domain fields; read-only and unknown fields are refused."""
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name in CUSTOMER_READ_ONLY or (name in CUSTOMER_CREATE_ONLY and not creating):
            raise ReadOnlyFieldError(f"'{name}' is read-only", field=name)
        target = CUSTOMER_WRITABLE.get(name)
        if target is None:
            raise UnknownFieldError(f"unknown field '{name}'", field=name)
        if target in values and values[target] != value:
            raise ValidationError("customerName and name disagree", field=name)
        values[target] = value
    return values

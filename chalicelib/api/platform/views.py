"""Billing platform field names <-> domain field names: records to the
seed's views, and request bodies to the fields a client may write."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.domain.customers import accounts as rules
from chalicelib.domain.errors import ReadOnlyFieldError, UnknownFieldError, ValidationError
from chalicelib.domain.money.amounts import as_money
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain.customers import items as item_rules
else:
    item_rules = lazy("chalicelib.domain.customers.items")

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
        # Kept on the customer item by every ledger movement (services/money/ledger.py).
        "balance": as_money(record.get("balance")),
        "accountManagerID": record.get("accountManagerId"),
        "commissionHolderID": record.get("commissionHolderId"),
        # Shown to those who may see the customer: the PIN callers quote on the phone.
        "pin": record.get("pin"),
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


# Fields every customer child shows but no client writes (the rest are refused
# by the resource's write model as unknown: no mass assignment).
READ_ONLY = frozenset({
    "id", "customerID", "statusID", "status", "statusReason", "dateApproved", "dateCancelled", "dateDrop",
    "createdDate", "updatedDate", "createdByUserID", "noteID", "storedFileID", "storedFile",
})


def writable_fields(body: Mapping[str, Any], *, allow: tuple[str, ...] = ()) -> dict[str, Any]:
    """A child's body without the names in ``allow``; a read-only field is refused."""
    for name in body:
        if name in READ_ONLY and name not in allow:
            raise ReadOnlyFieldError(f"'{name}' is read-only", field=name)
    return {k: v for k, v in body.items() if k not in allow}


def _status(record: Mapping[str, Any], names: Mapping[Any, str]) -> dict[str, Any]:
    return {"statusID": record.get("status"), "status": names.get(record.get("status"), "Unknown")}


def service_view(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"], "customerID": record["customerId"], "name": record.get("name"),
        "description": record.get("description"), "reference": record.get("reference"),
        "quantity": record.get("quantity"), "unitPrice": _money(record.get("unitPrice")),
        "startDate": record.get("startDate"), **_status(record, item_rules.SERVICE_STATUS_NAMES),
        "dateApproved": record.get("dateApproved"), "dateCancelled": record.get("dateCancelled"),
        "statusReason": record.get("statusReason"),
        "createdDate": _seconds(record.get("createdAt")), "updatedDate": _seconds(record.get("updatedAt")),
    }


def feature_view(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"], "customerID": record["customerId"], "name": record.get("name"),
        "description": record.get("description"), "unitPrice": _money(record.get("unitPrice")),
        "startDate": record.get("startDate"), **_status(record, item_rules.FEATURE_STATUS_NAMES),
        "dateDrop": record.get("dateDrop"), "statusReason": record.get("statusReason"),
        "createdDate": _seconds(record.get("createdAt")), "updatedDate": _seconds(record.get("updatedAt")),
    }


def note_view(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"], "customerID": record["customerId"], "subject": record.get("subject"),
        "text": record.get("text"), "createdByUserID": record.get("createdBy"),
        "createdDate": _seconds(record.get("createdAt")), "updatedDate": _seconds(record.get("updatedAt")),
    }


# Where a customer's number came from, by the order that made it theirs.
NUMBER_ORIGINS = {"Portin": "ported", "Own": "own"}


def number_view(record: Mapping[str, Any]) -> dict[str, Any]:
    # A number a customer owns: sold from the inventory, ported in, or their own (issue 14).
    return {
        "id": record["id"], "customerID": record.get("customerId"), "number": record.get("number"),
        "status": record.get("status"), "dateDrop": record.get("dateDrop"), "statusReason": record.get("statusReason"),
        "origin": NUMBER_ORIGINS.get(record.get("orderType") or "", "inventory"),
        "category": record.get("category"), "state": record.get("state"),
        "npanxx": record.get("npanxx"), "rateCenter": record.get("rateCenter") or None,
        "city": record.get("city") or None, "tfnPrefix": record.get("tfnPrefix"),
        "monthlyPrice": _money(record.get("monthlyPrice")), "setupPrice": _money(record.get("setupPrice")),
        "trunkID": record.get("trunkId"), "cnam": record.get("cnam"), "orderID": record.get("orderId"),
        "portOrderID": record.get("portOrderId"),
        "createdDate": _seconds(record.get("createdAt")), "updatedDate": _seconds(record.get("updatedAt")),
    }


def stored_file_view(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": record["storedFileId"], "fileName": record.get("fileName"), "fileSize": record.get("fileSize"),
        "fileHash": record.get("fileHash"), "mimeType": record.get("mimeType"),
        "createdDate": _seconds(record.get("fileStoredAt")),
    }


def attachment_view(record: Mapping[str, Any], *, expand_file: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": record["id"], "noteID": record["noteId"], "storedFileID": record["storedFileId"],
        "fileName": record.get("fileName"), "description": record.get("description"),
        "createdDate": _seconds(record.get("createdAt")), "updatedDate": _seconds(record.get("updatedAt")),
    }
    if expand_file:
        view["storedFile"] = stored_file_view(record)
    return view


def user_view(record: Mapping[str, Any]) -> dict[str, Any]:
    # Never hashes, secrets or the key itself: a key is shown once, when issued.
    return {
        "id": record["id"], "username": record.get("username"), "roles": sorted(record.get("roles") or ()),
        "apiOnly": bool(record.get("apiOnly")), "canRead": bool(record.get("canRead")),
        "canWrite": bool(record.get("canWrite")), "customerAccess": record.get("customerAccess"),
        "customerID": record.get("customerId"), "hasAPIKey": bool(record.get("apiKeyHash")),
        "apiKeyCreatedDate": _seconds(record.get("apiKeyCreatedAt")),
        "createdDate": _seconds(record.get("createdAt")), "updatedDate": _seconds(record.get("updatedAt")),
    }


def _money(value: Any) -> Any:
    return None if value is None else as_money(value)


def payment_view(record: Mapping[str, Any]) -> dict[str, Any]:
    # Only brand and last four digits of a card are ever stored.
    return {
        "id": record["id"], "customerID": record["customerId"], "amount": as_money(record.get("amount")),
        "method": record.get("method"), "status": record.get("status"), "cardBrand": record.get("brand"),
        "cardLast4": record.get("last4"), "gatewayReference": record.get("gatewayRef"),
        "createdDate": _seconds(record.get("createdAt")), "updatedDate": _seconds(record.get("updatedAt")),
    }


def invoice_view(record: Mapping[str, Any]) -> dict[str, Any]:
    # The seed names no invoice fields: these follow the surface's own
    # conventions (customerID, ...Date) and the statement's categories.
    call, other = as_money(record.get("callCharges")), as_money(record.get("otherCharges"))
    return {
        "id": record["id"], "customerID": record["customerId"], "accountNumber": record.get("accountNumber"),
        "invoiceDate": record.get("date"), "periodStart": f"{record['month']}-01", "periodEnd": record.get("date"),
        "openingBalance": as_money(record.get("opening")), "payments": as_money(record.get("payments")),
        "adjustments": as_money(record.get("adjustments")), "callCharges": call, "otherCharges": other,
        "totalCharges": call + other, "closingBalance": as_money(record.get("closing")),
        "lineCount": record.get("lines"), "detail": record.get("detail"),
        "createdDate": _seconds(record.get("createdAt")), "updatedDate": _seconds(record.get("updatedAt")),
    }


def request_log_view(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"time": entry.get("at"), "requestID": entry.get("requestId"), "userID": entry.get("userId"),
            "username": entry.get("username"), "method": entry.get("method"), "path": entry.get("path"),
            "status": entry.get("status"), "sourceIP": entry.get("sourceIp"), "touched": entry.get("touched") or []}

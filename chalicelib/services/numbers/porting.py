"""Porting numbers in: portability checks against the tenant's portability
table, port orders with their documents in S3, staff-driven state changes;
a completed port order makes its numbers the customer's active numbers.

There is no real number-portability database here: which numbers are
portable, why not, the losing carrier and its minimum days come from the
table the tenant loads with ``python -m chalicelib.admin import-portability``.
"""
from __future__ import annotations

import csv
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from chalicelib import clock
from chalicelib.domain.numbers import inventory as number_rules
from chalicelib.domain.numbers import porting as rules
from chalicelib.domain.errors import DialtoneError, NotFoundError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.store import blobs
from chalicelib.store.numbers import inventory as number_store
from chalicelib.store.numbers import porting as store

PORTABILITY_HEADER = ("number", "portable", "reason", "losing_carrier", "min_port_days")
SUBSCRIBER_FIELDS = (
    "subscriberFirstName", "subscriberLastName", "addressHouseNumber", "addressStreetName", "addressStreetSuffix",
    "addressCity", "addressStateCode", "addressZip", "billingNumber", "losingCarrierName",
    "wirelessAccountNumber", "wirelessPin",
)


def import_portability(*, tenant: str, lines: Iterable[str]) -> dict[str, Any]:
    """Load or replace portability rows (a re-run writes the same items)."""
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != PORTABILITY_HEADER:
        raise ValidationError(f"header must be {','.join(PORTABILITY_HEADER)}", field="header")
    items, rejected = [], []
    for line_no, row in enumerate(reader, start=2):
        try:
            number = number_rules.parse_number(row.get("number"))
            portable = (row.get("portable") or "").strip().lower()
            if portable not in ("yes", "no", "true", "false", "1", "0"):
                raise ValidationError("portable must be yes or no", field="portable")
            days = (row.get("min_port_days") or "0").strip()
            if not days.isdigit() or int(days) > 90:
                raise ValidationError("min_port_days must be 0-90", field="min_port_days")
        except ValidationError as error:
            rejected.append({"line": line_no, "field": error.field, "reason": error.message})
            continue
        items.append({"number": number,
                      "portable": portable in ("yes", "true", "1"), "reason": (row.get("reason") or "").strip(),
                      "losingCarrier": (row.get("losing_carrier") or "").strip(), "minPortDays": int(days)})
    store.put_portability(tenant, items)
    return {"tenant": tenant, "loaded": len(items), "rejected": len(rejected), "rejections": rejected}


def check(*, principal: Principal, numbers: Sequence[str]) -> dict[str, Any]:
    """Accepted numbers, and rejected ones with the reason (one BatchGet)."""
    principal.require_read()
    tenant = principal.tenant_id
    table = store.portability(tenant, numbers)
    ours = number_store.existing(tenant, numbers)
    accepted, rejected = [], {}
    for number in numbers:
        row = table.get(number)
        if number in ours:
            rejected[number] = "already in this carrier's inventory"
        elif row is None:
            rejected[number] = "not found in the portability table"
        elif not row["portable"]:
            rejected[number] = row.get("reason") or "not portable"
        else:
            accepted.append(row)
    return {"accepted": accepted, "rejected": rejected}


def create_port_order(*, principal: Principal, customer: Mapping[str, Any], numbers: Sequence[str],
                      category: str, subscriber_type: str, authorizing_person: str, loa: bytes,
                      carrier_doc: bytes, requested_foc: str | None, details: Mapping[str, str],
                      today: date | None = None) -> dict[str, Any]:
    """A port order for the accepted numbers; nothing is written if none is."""
    principal.require_write()
    category = number_rules.parse_category(category)
    if subscriber_type not in rules.SUBSCRIBER_TYPES:
        raise ValidationError("Invalid subscriberType", field="subscriberType")
    if not authorizing_person.strip() or len(authorizing_person.split()) < 2:
        raise ValidationError("Invalid loaAuthorizingPerson", field="loaAuthorizingPerson")
    rules.check_zip(loa, "loa_doc")
    rules.check_zip(carrier_doc, "carrier_doc")
    if len(numbers) > rules.MAX_PORT_NUMBERS:
        raise ValidationError("Invalid numbers", field="numbers")
    verdict = check(principal=principal, numbers=numbers)
    accepted = verdict["accepted"]
    if not accepted:
        raise ValidationError("Invalid numbers", field="numbers")
    min_days = max(int(r["minPortDays"]) for r in accepted)
    foc = rules.parse_foc(requested_foc, today=today or clock.today(), min_port_days=min_days)
    tenant = principal.tenant_id
    order_id = store.allocate_id(tenant)
    # The documents carry the pending tag (the bucket's lifecycle rule
    # expires them) until the order that names them is written: a crash
    # between the two leaves nothing that no order names and nothing expires.
    documents = [f"portin/{order_id}/loa.zip", f"portin/{order_id}/carrier_doc.zip"]
    for key, content in zip(documents, (loa, carrier_doc)):
        blobs.put(tenant, key, content, content_type="application/zip", tagged=True)
    now = clock.now_iso()
    carriers = sorted({r.get("losingCarrier") or "" for r in accepted} - {""})
    fields = {
        "customerId": customer["id"], "accountNumber": customer["accountNumber"],
        "numbers": [r["number"] for r in accepted], "rejected": verdict["rejected"], "category": category,
        "subscriberType": subscriber_type, "loaAuthorizingPerson": authorizing_person.strip(),
        "requestedFocDate": foc.strftime("%Y-%m-%d %H:%M:%S"), "losingCarrierName": ", ".join(carriers),
        "loaKey": documents[0], "carrierDocKey": documents[1],
        **{k: v for k, v in details.items() if k in SUBSCRIBER_FIELDS and v},
        "status": rules.SUBMITTED, "history": [{"status": rules.SUBMITTED, "at": now, "by": principal.username}],
    }
    try:
        record = store.create(tenant, fields, order_id=order_id, files=documents)
    except DialtoneError:
        for key in documents:  # refused: nothing names them
            blobs.delete(tenant, key)
        raise
    store.settle_files(tenant, documents)
    audit.touch("portorder", order_id)
    return record


def list_port_orders(*, principal: Principal, customer: Mapping[str, Any], order_id: Any = None) -> list[dict[str, Any]]:
    principal.require_read()
    if order_id is not None:
        text = str(order_id).strip()
        found = store.get(principal.tenant_id, int(text)) if text.isdigit() else None
        if found is None or found["customerId"] != customer["id"]:
            raise NotFoundError("Invalid orderId", field="orderId")
        return [found]
    return store.orders_of(principal.tenant_id, customer["id"])


def document_url(*, tenant: str, key: str, filename: str) -> str:
    return blobs.presigned_download(tenant, key, filename=filename)


def set_port_order_state(*, tenant: str, order_id: int, state: str, by: str = "staff",
                         foc_date: str | None = None) -> dict[str, Any]:
    """A staff action: move the port order on; completing it makes its numbers
    the customer's active numbers in the same transaction."""
    order = store.get(tenant, order_id)
    if order is None:
        raise NotFoundError(f"port order {order_id} not found", field="order")
    rules.check_transition(order["status"], state)
    now = clock.now_iso()
    changes: dict[str, Any] = {"status": state, "lastModifiedBy": by,
                               "history": [*order.get("history", []), {"status": state, "at": now, "by": by}]}
    if state == rules.FOC_CONFIRMED:
        changes["actualFocDate"] = foc_date or order["requestedFocDate"]
    return store.update(tenant, order, changes, port_in=state == rules.COMPLETE, stamp=now)

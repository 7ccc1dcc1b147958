"""Domain records -> the document's field names. Every value is text (the
document shows ids and numbers as strings: ``"customer_id":"1"``), a
boolean is "1" or "0", an unset custom field null, a time UTC ISO 8601."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib.domain import tracking as rules


def _stamp(value: Any) -> str | None:
    # Stored stamps carry microseconds; the surface shows whole seconds, UTC.
    return None if not value else str(value)[:19] + "Z"


def customer_view(record: Mapping[str, Any], defined: Iterable[rules.FieldDefinition]) -> dict[str, Any]:
    return {
        "customer_id": str(record["id"]),
        "name": record.get("name") or "",
        "custnr": record.get("accountNumber") or "",
        "corporateid": record.get("companyNumber") or "",
        "email": record.get("email") or "",
        **rules.custom_view(record.get("customFields"), defined, "customer"),
    }


def source_view(record: Mapping[str, Any], defined: Iterable[rules.FieldDefinition]) -> dict[str, Any]:
    return {
        "source_id": str(record["id"]),
        "customer_id": str(record["customerId"]),
        "name": record.get("name") or "",
        "number": "+1" + record["number"] if record.get("number") else None,
        "forward_to": record.get("forwardTo"),
        "active": "1" if record.get("active") else "0",
        "pool_size": str(len(record.get("pool") or [])),
        "created": _stamp(record.get("createdAt")),
        "updated": _stamp(record.get("updatedAt")),
        **rules.custom_view(record.get("customFields"), defined, "source"),
    }


def custom_field_view(spec: rules.FieldDefinition) -> dict[str, Any]:
    return {"custom_field_id": spec.field, "entity": spec.entity, "slot": str(spec.slot), "name": spec.name,
            "type": spec.kind, "values": ",".join(spec.values) if spec.values else None}


def greeting_view(record: Mapping[str, Any], url: str | None) -> dict[str, Any]:
    return {
        "vm_greeting_id": str(record["id"]),
        "customer_id": str(record["customerId"]),
        "name": record.get("name") or "",
        "active": "1" if record.get("active") else "0",
        "content_type": record.get("contentType"),
        "size": str(record.get("size", 0)),
        "url": url,
        "created": _stamp(record.get("createdAt")),
        "updated": _stamp(record.get("updatedAt")),
    }


def cdr_view(call: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "cdr_id": call["cdr_id"],
        "customer_id": str(call["customer_id"]),
        "source_id": str(call["source_id"]),
        "number": "+1" + call["number"],
        "caller": call["caller"] or None,
        "start": call["start"],
        "answer": call["answer"],
        "duration": str(call["duration"]),
        "billsec": str(call["billsec"]),
        "disposition": call["disposition"],
        "session": call.get("session"),
    }


def source_stats_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: str(v) for k, v in row.items()}


def number_view(source: Mapping[str, Any], number: str, session: str, until: str) -> dict[str, Any]:
    return {"source_id": str(source["id"]), "number": "+1" + number, "session": session,
            "expires": _stamp(until)}

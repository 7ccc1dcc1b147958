"""Reading the CDR figures for the carrier API: a customer's own numbers and
trunks only, periods built from days (the customer's figures items, one
per kind and day: store/call_stats.py; docs/cdrs.md, "Statistics")."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Mapping

from chalicelib.domain.calls import cdrs as rules
from chalicelib.domain.errors import NotFoundError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.domain.numbers import inventory as number_rules
from chalicelib.services.common import audit
from chalicelib.services.calls import exports
from chalicelib.services.calls.exports import export_key
from chalicelib.services.calls.owners import normalise_number
from chalicelib.store import blobs
from chalicelib.store import call_stats
from chalicelib.store import calls as store
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.schema import TRUNK
from chalicelib.store.numbers import inventory

MAX_IDS = 100
MAX_DAYS = 366


def _owned(principal: Principal, customer: Mapping[str, Any], kind: str, ident: str, field: str) -> None:
    """The inventory's own item: a number the customer owns, or its trunk
    group of the right direction (TG origination, TERM termination)."""
    if kind == "DID":
        found = inventory.get_number(principal.tenant_id, normalise_number(ident))
        if found is not None and found.get("status") not in number_rules.OWNED:
            found = None
    else:
        found = entities.get_one(TRUNK, principal.tenant_id, int(ident)) if ident.isdigit() else None
        if found is not None and found.get("direction") != ("origination" if kind == "TG" else "termination"):
            found = None
    if found is None or int(found.get("customerId", -1)) != int(customer["id"]):
        # Someone else's number looks exactly like one that does not exist.
        raise NotFoundError(f"Invalid {field}", field=field)


def overall_stats(*, principal: Principal, customer: Mapping[str, Any], kind: str, ids: list[str],
                  field: str) -> list[dict[str, Any]]:
    """All-time figures of each of the customer's numbers (kind DID) or trunks (TG, TERM)."""
    principal.require_read()
    ids = [i.strip() for i in ids if i.strip()]
    if not ids or len(ids) > MAX_IDS:
        raise ValidationError(f"Invalid {field}", field=field)
    wanted = []
    for ident in ids:
        _owned(principal, customer, kind, ident, field)
        wanted.append((ident, normalise_number(ident) if kind == "DID" else ident))
    # One Query of the customer's items of this kind reads every asked number's days.
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in call_stats.customer_days(principal.tenant_id, int(customer["id"]), kind, ids={k for _, k in wanted}):
        by_id[row["id"]].append(row)
    out = [{"accountno": customer["accountNumber"], "number": ident,
            **rules.presented(rules.combine(by_id.get(key, [])))} for ident, key in wanted]
    audit.touch("customer", customer["id"])
    return out


def monthly_summary(*, principal: Principal, customer: Mapping[str, Any], kind: str, year: int,
                    month: int | None) -> list[dict[str, Any]]:
    """Per number (or trunk) and month of the year: one Query of the customer's items."""
    principal.require_read()
    if not 1970 <= year <= 9999:
        raise ValidationError("Invalid year", field="year")
    if month is not None and not 1 <= month <= 12:
        raise ValidationError("Invalid month", field="month")
    prefix = f"{year:04d}-{month:02d}" if month else f"{year:04d}-"
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in call_stats.customer_stats(principal.tenant_id, int(customer["id"]), kind, prefix):
        groups[(item["day"][:7], item["id"])].append(item)
    audit.touch("customer", customer["id"])
    return [{"accountno": customer["accountNumber"], "number": ident,
             "month": f"{period[:4]}-{period[5:7]}-1", **rules.presented(rules.combine(days))}
            for (period, ident), days in sorted(groups.items())]


def _day_range(first: str, last: str) -> tuple[date, date]:
    """[first, last] as dates, at most MAX_DAYS apart; the carrier API's errors name ``from`` and ``to``."""
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise ValidationError("Invalid from", field="from") from None
    if end < start or end - start > timedelta(days=MAX_DAYS):
        raise ValidationError("Invalid to", field="to")
    return start, end


def daily_files(*, principal: Principal, customer: Mapping[str, Any], direction: str, first: str,
                last: str) -> list[dict[str, str]]:
    """Presigned URLs of the success and failed files of each closed day,
    newest first (files still packed are cut first: services/calls/exports.py)."""
    principal.require_read()
    _day_range(first, last)  # checked only: the days come from the stored day records
    attribute = "exportsInbound" if direction == "inbound" else "exportsOutbound"
    out = []
    for day in reversed(store.days_between(principal.tenant_id, first, last)):
        if not day.get("closed") or int(customer["id"]) not in {int(c) for c in day.get(attribute, [])}:
            continue
        exports.ensure_files(principal.tenant_id, day, int(customer["id"]), direction)
        urls = {outcome: blobs.presigned_download(
            principal.tenant_id, export_key(day["day"], int(customer["id"]), direction, outcome),
            filename=f"{day['day']}-{direction}-{outcome}.csv") for outcome in ("success", "failed")}
        out.append({"date": f"{day['day']} 00:00:00", **urls})
    audit.touch("customer", customer["id"])
    return out


def daily_series(*, principal: Principal, customer: Mapping[str, Any], kind: str, ident: str, first: str,
                 last: str) -> dict[str, Any]:
    """One number's (DID) or trunk's (TG, TERM) figures per day of [first, last]
    (days without calls are zeros) and the period's totals presented as
    ``overall_stats`` presents them: the portal's charts."""
    principal.require_read()
    start, end = _day_range(first, last)
    field = "number" if kind == "DID" else "tg_id"
    _owned(principal, customer, kind, ident, field)
    key = normalise_number(ident) if kind == "DID" else ident
    by_day = {d["day"]: d for d in call_stats.customer_days(principal.tenant_id, int(customer["id"]), kind, first, last,
                                                       ids=[key])}
    days = []
    for offset in range((end - start).days + 1):
        day = (start + timedelta(days=offset)).isoformat()
        totals = rules.combine([by_day[day]] if day in by_day else [])
        shown = rules.presented(totals)
        days.append({"day": day, **totals, "asr": shown["asr"], "acd": shown["acd"], "mou": shown["mou"]})
    audit.touch("customer", customer["id"])
    return {"days": days, "totals": rules.presented(rules.combine(by_day.values()))}

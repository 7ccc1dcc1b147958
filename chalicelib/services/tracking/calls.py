"""statistics/cdrs and statistics/sources: the calls the CDR pipeline has
ingested, read from its accepted part objects in S3 (store/tracking/calls.py),
so a call shows here as soon as its file's parts are written (seconds after
ingest), not only after the day's close.

For each customer asked about: its sources (active or not) and the numbers
they held (own number and pool) and the holding periods of those numbers;
then for each day of the range, each shard holding any of those customers
is listed and its parts read once, for all of them (at most days x
min(customers, scan.SHARDS) listings per request, not days x customers). A call belongs
to the source whose holding period of the dialled number contains the call's
start (a number moved between sources keeps its history straight); a call
to a number outside any holding period is not a tracked call. A call to a
pool number during a session's hand-out carries that ``session``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from chalicelib import clock
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services.calls import scan
from chalicelib.services.tracking import customers, sources
from chalicelib.store.tracking import calls as call_store, pools as pool_store, sources as source_store


def _day(params: Mapping[str, str], name: str) -> date | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationError(f"{name} must be a date (YYYY-MM-DD)", field=name) from None


def day_range(params: Mapping[str, str]) -> tuple[date, date]:
    """date_from .. date_to (inclusive, UTC days); by default the last 7 days."""
    today = clock.now().date()
    last = _day(params, "date_to") or today
    first = _day(params, "date_from") or (last - timedelta(days=6))
    if first > last:
        raise ValidationError("date_from is after date_to", field="date_from")
    if (last - first).days + 1 > rules.STATS_MAX_DAYS:
        raise ValidationError(f"a range covers at most {rules.STATS_MAX_DAYS} days", field="date_to")
    return first, last


def tracked_calls(*, principal: Principal, customer_id: int | None, source_id: int | None,
                  first: date, last: date) -> list[dict[str, Any]]:
    """Every tracked call of the range, ordered by start."""
    principal.require_read()
    tenant = principal.tenant_id
    if source_id is not None:
        source = sources.get_source(principal=principal, source_id=source_id, customer_id=customer_id)
        customer_ids = [source["customerId"]]
    else:
        customer_ids = customers.customer_ids_in_scope(principal=principal, customer_id=customer_id)
    tracked: dict[int, _Tracked] = {}
    for cid in customer_ids:
        held = [s for s in source_store.sources_of(tenant, cid) if source_id in (None, s["id"])]
        numbers = {n for s in held for n in [s["number"], *(s.get("poolSince") or {})]}
        if not numbers:
            continue
        pooled = {n for s in held for n in (s.get("poolSince") or {})}
        tracked[cid] = _Tracked(
            numbers=numbers, periods={n: [p for p in source_store.holdings(tenant, n) if p["customerId"] == cid]
                                      for n in numbers},
            sessions={n: pool_store.visits(tenant, n) for n in pooled})
    # The pipeline keeps all of a customer's calls of a day in its shard; each
    # shard-day is read once for every customer of the request in it.
    by_shard: dict[int, dict[int, set[str]]] = {}
    for cid, found in tracked.items():
        by_shard.setdefault(scan.shard(cid), {})[cid] = found.numbers
    calls: list[dict[str, Any]] = []
    day = first
    while day <= last:
        for shard, numbers_by_customer in sorted(by_shard.items()):
            for row in call_store.call_rows(tenant, day=day.isoformat(), shard=shard,
                                            numbers_by_customer=numbers_by_customer):
                call = _attributed(row, tracked[row["customerId"]], source_id)
                if call is not None:
                    calls.append(call)
        day += timedelta(days=1)
    calls.sort(key=lambda c: (c["start"], c["cdr_id"]))
    return calls


@dataclass(frozen=True)
class _Tracked:
    """A customer's tracked numbers, their holding periods (of this customer)
    and the sessions its pool numbers were handed to."""

    numbers: set[str]
    periods: dict[str, list[dict[str, Any]]]
    sessions: dict[str, list[dict[str, Any]]]


def _attributed(row: Mapping[str, Any], tracked: _Tracked, source_id: int | None) -> dict[str, Any] | None:
    """The call as statistics/cdrs shows it, or None when no source (or not
    the one asked about) held the dialled number when the call started."""
    start = rules.iso_of_epoch_for_compare(row["start"])
    holder = rules.holder_at(tracked.periods.get(row["number"], []), start)
    if holder is None or (source_id is not None and holder["sourceId"] != source_id):
        return None
    session = None
    for visit in tracked.sessions.get(row["number"], []):
        if rules.covers(visit["from"], visit["until"], start):
            session = visit["session"]
    return {
        "cdr_id": row["callId"], "customer_id": row["customerId"], "source_id": int(holder["sourceId"]),
        "number": row["number"], "caller": row["caller"], "start": rules.to_iso(row["start"]),
        "answer": rules.to_iso(row["answer"]), "duration": max(0, int(row["end"] or row["start"]) - int(row["start"])),
        "billsec": int(row["billsec"] or 0), "disposition": row["disposition"], "session": session,
    }


def list_cdrs(*, principal: Principal, customer_id: int | None, source_id: int | None,
              params: Mapping[str, str], paging: rules.Paging) -> tuple[list[dict[str, Any]], int]:
    first, last = day_range(params)
    calls = tracked_calls(principal=principal, customer_id=customer_id, source_id=source_id, first=first, last=last)
    return calls[paging.offset:paging.offset + paging.pagesize], len(calls)


def source_statistics(*, principal: Principal, customer_id: int | None, source_id: int | None,
                      params: Mapping[str, str], paging: rules.Paging) -> tuple[list[dict[str, Any]], int]:
    """Per source and day: calls, answered, unique and first-time callers,
    average duration. First-time: not seen by the source in the 30 days
    before the range (or earlier in it)."""
    first, last = day_range(params)
    lookback = first - timedelta(days=30)
    calls = tracked_calls(principal=principal, customer_id=customer_id, source_id=source_id, first=lookback,
                          last=last)
    before: dict[int, set[str]] = {}
    for call in calls:
        if call["start"][:10] < first.isoformat():
            before.setdefault(call["source_id"], set()).add(str(call["caller"] or ""))
    in_range = [c for c in calls if c["start"][:10] >= first.isoformat()]
    rows = rules.source_day_figures(in_range, seen_before=before)
    return rows[paging.offset:paging.offset + paging.pagesize], len(rows)

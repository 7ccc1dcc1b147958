"""Audit table: PK = T#<tenant>#<yyyy-mm-dd>, SK = <time>#<requestId>.

One partition per tenant per day keeps a day's listing a single Query and
spreads a busy tenant's writes over days; ``expiresAt`` lets DynamoDB TTL
drop records after the retention period.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from chalicelib import clock, settings
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import ddb, query_pages

MAX_LIST_DAYS = 31


def write(entries: list[Mapping[str, Any]], *, retention_days: int) -> int:
    expires = clock.epoch() + retention_days * 86400
    requests = []
    for entry in entries:
        at = str(entry["at"])
        item = {**entry, "PK": keys.audit_pk(entry["tenantId"], at[:10]),
                "SK": f"{at}#{entry['requestId']}", "expiresAt": expires}
        requests.append({"PutRequest": {"Item": to_item(item)}})
    table = settings.audit_table()
    written = 0
    while requests:
        chunk, requests = requests[:25], requests[25:]
        pending: dict[str, Any] = {table: chunk}
        for attempt in range(8):
            answer = ddb().batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError("audit records left unprocessed after retries")
        written += len(chunk)
    return written


def list_entries(*, tenant: str, since: str | None, until: str | None, limit: int) -> list[dict[str, Any]]:
    end = _parse(until) if until else clock.now()
    start = _parse(since) if since else _days_before(end, 7)
    if (end - start).days > MAX_LIST_DAYS:
        start = _days_before(end, MAX_LIST_DAYS)
    # isoformat, not strftime: strftime writes years before 1000 unpadded,
    # which would compare wrongly with the stored keys.
    low = start.replace(tzinfo=None).isoformat(timespec="seconds")
    high = end.replace(tzinfo=None).isoformat(timespec="seconds") + ".999999Z~"
    found: list[dict[str, Any]] = []
    day = end.date()
    while day >= start.date() and len(found) < limit:
        for page in query_pages(
            settings.audit_table(), key_condition="PK = :pk AND SK BETWEEN :low AND :high",
            values={":pk": keys.audit_pk(tenant, day.isoformat()), ":low": low, ":high": high},
            forward=False, page_size=min(limit, 1000),
        ):
            found.extend({k: v for k, v in i.items() if k not in ("PK", "SK", "expiresAt")} for i in page)
            if len(found) >= limit:
                break
        if day == start.date():
            break  # the first day of year 1 has no day before it
        day -= timedelta(days=1)
    return found[:limit]


def _days_before(moment: datetime, days: int) -> datetime:
    # A window ending in the first days of year 1 starts at its beginning.
    earliest = datetime.min.replace(tzinfo=moment.tzinfo)
    return moment - timedelta(days=days) if moment - earliest > timedelta(days=days) else earliest


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

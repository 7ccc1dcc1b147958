"""The CDR figures in DynamoDB: one item per customer, kind and day holding
the figures of every number (DID) or trunk (TG, TERM) of that customer with
calls that day, so a close writes one item where it wrote one per number
(docs/cdrs.md, "Statistics"; docs/architecture.md, access patterns).

Keys (main table), tenant T, customer C (padded), kind K:
  T#T#STATS#C<C>#<K> / D#<day>#<chunk>   figures of C's numbers / trunks of kind K that day
      GSI1 (ByParent) T#T#CDRSTATS / <day>#<K>#<C>#<chunk>   every item of a day (a refresh
      compares with them, one paged Query)

``figures`` is one string, a line per number or trunk, ``id processed
completed billsec peak``, ids in order. A day holding more than CHUNK of them
is cut into chunks 000, 001, ... of CHUNK lines by that order (deterministic:
the same figures make the same items); ``chunks`` on each says how many there
are, so a refresh that needs fewer deletes the rest. CHUNK lines of at most
~60 bytes stay well under DynamoDB's 400 KB item limit.

Before this layout, figures were one item per number and day
(``T#T#STATS#<K>#<id> / D#<day>``, GSI1 ``T#T#CUSTOMER>STATS``): ``admin
repack-cdr-stats`` recomputes a tenant's days in this layout and deletes those.
"""
from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator, Mapping, Sequence

from chalicelib import settings
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import ddb, query_pages

STATS_KINDS = ("DID", "TG", "TERM")
FIGURES = ("processed", "completed", "billsec", "peak")
CHUNK = 4000
# Batch requests in flight at once (the client pool holds 64 connections).
PARALLEL_REQUESTS = 8

Figure = tuple[str, str, int, Mapping[str, int]]  # kind, id, customer, totals


def _table() -> str:
    return settings.main_table()


def stats_pk(tenant: str, customer_id: int, kind: str) -> str:
    return f"T#{tenant}#STATS#C{keys.pad(customer_id)}#{kind}"


def day_index_pk(tenant: str) -> str:
    return f"T#{tenant}#CDRSTATS"


def encode(rows: Iterable[tuple[str, Mapping[str, int]]]) -> str:
    return "\n".join(f"{ident} " + " ".join(str(int(totals[f])) for f in FIGURES) for ident, totals in rows)


def decode(text: str) -> Iterator[tuple[str, dict[str, int]]]:
    for line in text.split("\n"):
        if line:
            ident, *values = line.split(" ")
            yield ident, dict(zip(FIGURES, map(int, values)))


def packed_items(tenant: str, day: str, figures: Sequence[Figure]) -> list[dict[str, Any]]:
    """A day's figures as items: per customer and kind, ids in order, CHUNK lines each."""
    grouped: dict[tuple[int, str], list[tuple[str, Mapping[str, int]]]] = defaultdict(list)
    for kind, ident, customer, totals in figures:
        grouped[(int(customer), kind)].append((ident, totals))
    items = []
    for (customer, kind), rows in sorted(grouped.items()):
        rows.sort(key=lambda row: row[0])
        chunks = (len(rows) + CHUNK - 1) // CHUNK
        for n in range(chunks):
            items.append({
                "PK": stats_pk(tenant, customer, kind), "SK": f"D#{day}#{n:03d}",
                "GSI1PK": day_index_pk(tenant), "GSI1SK": f"{day}#{kind}#{keys.pad(customer)}#{n:03d}",
                "kind": kind, "day": day, "customerId": customer, "chunk": n, "chunks": chunks,
                "figures": encode(rows[n * CHUNK:(n + 1) * CHUNK])})
    return items


def stats_item(tenant: str, kind: str, ident: str, day: str, customer_id: int,
               figures: Mapping[str, Any]) -> dict[str, Any]:
    """The item of one number's figures alone (a customer with one number that day)."""
    return packed_items(tenant, day, [(kind, ident, customer_id, figures)])[0]


def _unpacked(item: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """One dict per number or trunk of an item, in the shape readers use."""
    for ident, totals in decode(str(item.get("figures", ""))):
        yield {"kind": item["kind"], "id": ident, "day": item["day"], "customerId": int(item["customerId"]),
               **totals}


def day_items(tenant: str, day: str) -> list[dict[str, Any]]:
    """Every stored figures item of a day (ByParent, paged)."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), index="ByParent", key_condition="GSI1PK = :pk AND begins_with(GSI1SK, :d)",
                            values={":pk": day_index_pk(tenant), ":d": f"{day}#"}):
        found.extend(page)
    return found


class DayFigures:
    """Stores a day's figures group by group (groups hold whole customers),
    writing only the items whose content changed: with ``compare`` the day's
    stored items are read first (one paged Query for the day); without it
    (the day has none stored yet) every item is written. Chunks a customer no
    longer needs, and at ``finish`` the items of customers without calls in
    the day any more (their numbers changed owner), are deleted."""

    def __init__(self, tenant: str, day: str, *, compare: bool) -> None:
        self.tenant, self.day = tenant, day
        self.stored = {(i["PK"], i["SK"]): i for i in day_items(tenant, day)} if compare else {}
        self.written = 0

    def put(self, figures: Sequence[Figure]) -> int:
        """(kind, id, customer, totals) of every number and trunk of the
        group's customers; returns the items written."""
        items = packed_items(self.tenant, self.day, figures)
        customers = {int(c) for _, _, c, _ in figures}
        mine = {k: self.stored.pop(k) for k, i in list(self.stored.items()) if int(i["customerId"]) in customers}
        changed = [i for i in items if (old := mine.get((i["PK"], i["SK"]))) is None
                   or old.get("figures") != i["figures"] or int(old.get("chunks", 0)) != i["chunks"]]
        kept = {(i["PK"], i["SK"]) for i in items}
        written = write_items(changed, [{"PK": k[0], "SK": k[1]} for k in mine if k not in kept])
        self.written += written
        return written

    def finish(self) -> None:
        write_items([], [{"PK": k[0], "SK": k[1]} for k in self.stored])
        self.stored = {}


def write_items(puts: list[dict[str, Any]], deletes: list[dict[str, Any]]) -> int:
    """BatchWriteItem in chunks of 25 (a few in flight at once), retrying
    unprocessed requests; returns the items put."""
    table = _table()
    requests = [{"PutRequest": {"Item": to_item(i)}} for i in puts] + \
               [{"DeleteRequest": {"Key": to_item(k)}} for k in deletes]

    def write(chunk: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {table: chunk}
        while request:
            request = ddb().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    chunks = [requests[start:start + 25] for start in range(0, len(requests), 25)]
    with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
        list(pool.map(write, chunks))
    return len(puts)


def customer_days(tenant: str, customer_id: int, kind: str, first: str = "", last: str = "",
                  ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Per number (or trunk) and day, the figures of a customer's numbers of
    ``kind`` in [first, last] (all days by default; ``ids``: only these), one
    paged Query of the customer's items."""
    wanted = set(ids) if ids is not None else None
    if first or last:
        condition, values = "PK = :pk AND SK BETWEEN :a AND :b", {":a": f"D#{first}", ":b": f"D#{last or '9'}#~"}
    else:
        condition, values = "PK = :pk AND begins_with(SK, :a)", {":a": "D#"}
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition=condition, values={":pk": stats_pk(tenant, customer_id, kind),
                                                                       **values}):
        for item in page:
            found.extend(row for row in _unpacked(item) if wanted is None or row["id"] in wanted)
    return found


def customer_stats(tenant: str, customer_id: int, kind: str, month: str) -> list[dict[str, Any]]:
    """Every number's (or trunk's) day figures of a customer in a month (or
    year: any prefix of a day): one paged Query."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk AND begins_with(SK, :p)",
                            values={":pk": stats_pk(tenant, customer_id, kind), ":p": f"D#{month}"}):
        for item in page:
            found.extend(_unpacked(item))
    return found


def stats_days(tenant: str, kind: str, ident: str, prefix: str = "") -> list[dict[str, Any]]:
    """Day figures of one number or trunk, whoever owned it, on the days
    starting with ``prefix`` (a day or month): reads every item of those days
    (ByParent), for diagnostics and tests; readers go by customer
    (``customer_days``)."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), index="ByParent", key_condition="GSI1PK = :pk AND begins_with(GSI1SK, :d)",
                            values={":pk": day_index_pk(tenant), ":d": prefix, ":k": kind},
                            names={"#k": "kind"}, filter_expression="#k = :k"):
        for item in page:
            found.extend(row for row in _unpacked(item) if row["id"] == ident)
    return found


def repack_old_items(tenant: str) -> dict[str, int]:
    """Rewrite a tenant's figures stored in the layout before this one (an
    item per number or trunk and day, GSI1 ``T#T#CUSTOMER>STATS``) as packed
    items, then delete the old ones: the figures are the same, so the days'
    records stay as they are. Safe to run again (a day already packed gets
    its old numbers merged in: the old items win only for ids the packed
    items lack). Returns the counts."""
    old: list[dict[str, Any]] = []
    for page in query_pages(_table(), index="ByParent", key_condition="GSI1PK = :pk",
                            values={":pk": keys.parent_pk(tenant, "CUSTOMER", "STATS")}):
        old.extend(page)
    by_day: dict[str, list[Figure]] = defaultdict(list)
    for item in old:
        by_day[str(item["day"])].append((str(item["kind"]), str(item["id"]), int(item["customerId"]),
                                         {f: int(item.get(f, 0)) for f in FIGURES}))
    written = 0
    for day, figures in sorted(by_day.items()):
        stored = day_items(tenant, day)
        seen = {(row["kind"], row["id"], row["customerId"]) for item in stored for row in _unpacked(item)}
        merged = [f for f in figures if (f[0], f[1], f[2]) not in seen]
        merged += [(row["kind"], row["id"], row["customerId"], row) for item in stored for row in _unpacked(item)]
        writer = DayFigures(tenant, day, compare=bool(stored))
        writer.put(merged)
        writer.finish()
        written += writer.written
    write_items([], [{"PK": i["PK"], "SK": i["SK"]} for i in old])
    return {"old_items": len(old), "days": len(by_day), "items_written": written}

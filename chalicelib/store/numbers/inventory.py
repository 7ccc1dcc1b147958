"""Numbers and availability counters in the main table (carts: carts.py; owned numbers and ids: owned.py).

A number item (PK T#<t>#NUMBER, SK <10 digits>) carries its state. While it
is available it sits in ByRef1 under its state (landline) or toll-free prefix,
sorted by number; while a customer owns it, in ByParent under the customer.
Every change of a number's availability updates the counters of its state and
NPANXX in the same transaction, so the counts are exact.

A reserved number points at its cart with ``reserveId``; the cart's side of
a reservation is in store/carts.py.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

from chalicelib import settings
from chalicelib.domain.numbers import inventory as rules
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import MAX_TRANSACTION_ITEMS, Transaction, batch_get, ddb, execute_reporting, get, query_pages
from chalicelib.store.dynamo.codec import to_attr


def _table() -> str:
    return settings.main_table()


def available_index(tenant: str, category: str, group: str, number: str) -> dict[str, str]:
    return {"GSI3PK": keys.available_pk(tenant, category, group), "GSI3SK": number}


def number_item(tenant: str, row: rules.InventoryRow, stamp: str, number_id: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.number_key(tenant, row.number), "kind": "NUMBER", "tenantId": tenant, "id": number_id,
        "number": row.number, "category": row.category, "npanxx": row.npanxx,
        "rateCenter": row.rate_center, "city": row.city, "monthlyPrice": row.monthly_price,
        "setupPrice": row.setup_price, "status": rules.AVAILABLE, "version": 1,
        "createdAt": stamp, "updatedAt": stamp,
        **available_index(tenant, row.category, row.group, row.number),
    }
    if row.category == rules.TOLLFREE:
        item["tfnPrefix"] = row.number[:3]
    else:
        item["state"] = row.state
    return item


def id_item(tenant: str, number_id: int, number: str) -> dict[str, Any]:
    """The id lookup item of a number (PK T#<t>#NUMBERID, SK <12-digit id>)."""
    return {**keys.number_id_key(tenant, number_id), "kind": "NUMBERID", "tenantId": tenant, "number": number}


def group_of(item: Mapping[str, Any]) -> str:
    return str(item["tfnPrefix"] if item["category"] == rules.TOLLFREE else item["state"])


def counter_deltas(items: Iterable[Mapping[str, Any]], sign: int) -> dict[str, int]:
    """Counter sort keys -> change, for numbers entering (+1) or leaving (-1) availability."""
    deltas: Counter[str] = Counter()
    for item in items:
        deltas[keys.state_counter_sk(item["category"], group_of(item))] += sign
        if item["category"] == rules.LANDLINE:
            deltas[keys.npanxx_counter_sk(item["state"], item["npanxx"])] += sign
    return dict(deltas)


def add_counter_updates(tx: Transaction, tenant: str, items: Sequence[Mapping[str, Any]], sign: int) -> None:
    by_sk: dict[str, Mapping[str, Any]] = {}
    for item in items:
        by_sk.setdefault(keys.state_counter_sk(item["category"], group_of(item)), item)
        if item["category"] == rules.LANDLINE:
            by_sk.setdefault(keys.npanxx_counter_sk(item["state"], item["npanxx"]), item)
    for sk, delta in counter_deltas(items, sign).items():
        sample = by_sk[sk]
        values: dict[str, Any] = {":d": delta, ":cat": sample["category"], ":g": group_of(sample)}
        expression = "ADD #c :d SET category = :cat, #g = :g"
        if sk.startswith("NPANXX#"):
            values.update({":n": sample["npanxx"], ":rc": sample.get("rateCenter") or ""})
            expression += ", npanxx = :n, rateCenter = :rc"
        tx.update(_table(), {"PK": keys.counter_pk(tenant), "SK": sk}, expression,
                  names={"#c": "count", "#g": "group"}, values=values)


def _counter_keys(item: Mapping[str, Any]) -> tuple[str, ...]:
    state = keys.state_counter_sk(item["category"], group_of(item))
    if item["category"] == rules.LANDLINE:
        return state, keys.npanxx_counter_sk(item["state"], item["npanxx"])
    return (state,)


def chunk_for_transactions(items: Sequence[Mapping[str, Any]], reserved: int,
                           first_only: bool = False, per_item: int = 1) -> list[list[Mapping[str, Any]]]:
    """Split items into groups whose writes (``per_item`` per item, one per
    counter they touch, plus ``reserved`` others) fit one transaction of 100
    actions. ``first_only``: just the first group (the caller re-plans after each)."""
    chunks: list[list[Mapping[str, Any]]] = []
    current: list[Mapping[str, Any]] = []
    counters_seen: set[str] = set()
    for item in items:
        wanted = counters_seen.union(_counter_keys(item))
        if current and (len(current) + 1) * per_item + len(wanted) + reserved > MAX_TRANSACTION_ITEMS:
            chunks.append(current)
            if first_only:
                return chunks
            current, counters_seen = [item], set(_counter_keys(item))
        else:
            current.append(item)
            counters_seen = wanted
    if current:
        chunks.append(current)
    return chunks


def existing(tenant: str, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
    found = batch_get(_table(), [keys.number_key(tenant, n) for n in numbers])
    return {item["number"]: item for item in found}


def get_number(tenant: str, number: str) -> dict[str, Any] | None:
    return get(_table(), keys.number_key(tenant, number))


def insert_available(tenant: str, items: Sequence[Mapping[str, Any]]) -> list[int]:
    """Add new numbers (with their id lookup items and counters) in one
    transaction; returns the indexes of numbers that already existed (then
    nothing was written). Chunk with ``per_item=2``."""
    tx = Transaction()
    for item in items:
        tx.put(_table(), item, condition="attribute_not_exists(PK)")
    for item in items:
        tx.put(_table(), id_item(tenant, item["id"], item["number"]), condition="attribute_not_exists(PK)")
    add_counter_updates(tx, tenant, items, +1)
    return [n for n in execute_reporting(tx) if n < len(items)]


def put_npanxx_directory(tenant: str, entries: Mapping[str, str]) -> None:
    """NPANXX -> state, written once per NPANXX seen in an import."""
    requests = [{"PutRequest": {"Item": {k: to_attr(v) for k, v in {
        **keys.npanxx_directory_key(tenant, npanxx), "state": state}.items()}}}
        for npanxx, state in entries.items()]
    for start in range(0, len(requests), 25):
        pending = {_table(): requests[start:start + 25]}
        while pending:
            pending = ddb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def state_of_npanxx(tenant: str, npanxx: str) -> str | None:
    found = get(_table(), keys.npanxx_directory_key(tenant, npanxx), consistent=False)
    return found["state"] if found else None


def query_available(tenant: str, criteria: rules.Criteria, *, limit: int,
                    skip: frozenset[str] = frozenset(), after: str | None = None) -> list[dict[str, Any]]:
    """Available numbers matching ``criteria`` in ascending order, at most
    ``limit``, leaving out ``skip`` (numbers known to be lost to others)."""
    values: dict[str, Any] = {":pk": keys.available_pk(tenant, criteria.category, criteria.group)}
    condition = "GSI3PK = :pk"
    if after:
        values[":after"] = after
        condition += " AND GSI3SK > :after"
        if criteria.sk_prefix:
            values[":high"] = criteria.sk_prefix + "\uffff"
            condition = "GSI3PK = :pk AND GSI3SK BETWEEN :after AND :high"
    elif criteria.sk_prefix:
        values[":p"] = criteria.sk_prefix
        condition += " AND begins_with(GSI3SK, :p)"
    names = None
    filter_expression = None
    if criteria.city:
        filter_expression, names = "#city = :city", {"#city": "city"}
        values[":city"] = criteria.city
    found: list[dict[str, Any]] = []
    for items in query_pages(_table(), index="ByRef1", key_condition=condition, values=values, names=names,
                             filter_expression=filter_expression,
                             page_size=min(1000, limit + len(skip) + 20)):
        found.extend(i for i in items if i["number"] not in skip and i["status"] == rules.AVAILABLE)
        if len(found) >= limit:
            break
    return found[:limit]


def counters(tenant: str, prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    condition, values = "PK = :pk", {":pk": keys.counter_pk(tenant)}
    if prefix:
        condition, values[":p"] = condition + " AND begins_with(SK, :p)", prefix
    for items in query_pages(_table(), key_condition=condition, values=values):
        found.extend(items)
    return found

"""Sources and the numbers they hold: a source is a generic entity (entities.py);
the live claim on a number, its holding periods, the count of a customer's
active sources and the sales not yet settled are written in the sources' own
transactions (services/tracking/sources.py)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib import clock
from chalicelib.store.dynamo import entities, keys, schema
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import Transaction, ddb, get, query_pages
from chalicelib.store.tracking.keys import (
    active_sources_key, hold_key, hold_pk, live_key, partition, sale_key, sale_pk, table, without_keys,
)

SOURCE = schema.TRACKING_SOURCE


def allocate_id(tenant: str) -> int:
    return entities.allocate_ids(tenant, SOURCE.kind)[0]


def add_holding(tx: Transaction, tenant: str, *, number: str, source_id: int, customer_id: int, since: str,
                failure: Any) -> None:
    """The source starts holding ``number``: the live claim (refused while
    another active source holds it) and the start of a holding period."""
    tx.put(table(), {**live_key(tenant, number), "sourceId": source_id, "customerId": customer_id,
                     "since": since}, condition="attribute_not_exists(PK)", failure=failure)
    tx.put(table(), {**hold_key(tenant, number, since=since, source_id=source_id),
                     "sourceId": source_id, "customerId": customer_id, "from": since})


def customer_not_in_status(tx: Transaction, tenant: str, customer_id: int, *, status: int, failure: Any) -> None:
    """The write goes through only while the customer exists and is not in
    ``status`` (Ex-Customer): read by the transaction, not before it."""
    tx.check(table(), {"PK": keys.entity_pk(tenant, schema.CUSTOMER.kind), "SK": keys.pad(customer_id)},
             "attribute_exists(PK) AND (attribute_not_exists(#st) OR #st <> :st)",
             names={"#st": "status"}, values={":st": status}, failure=failure)


def count_active_sources(tx: Transaction, tenant: str, customer_id: int, delta: int) -> None:
    tx.update(table(), active_sources_key(tenant, customer_id), "ADD activeSources :d", values={":d": delta})


def record_pending_sale(tenant: str, customer_id: int, number: str, *, criteria: str) -> None:
    """Before ``number`` is sold for a source of the customer: if the source's
    transaction then fails (or the process dies), a retry finds it here."""
    ddb().put_item(TableName=table(), Item=to_item({**sale_key(tenant, customer_id, number), "criteria": criteria,
                                                    "at": clock.now_iso()}))


def pending_sales(tenant: str, customer_id: int, *, criteria: str) -> list[str]:
    """Numbers sold for ``criteria`` whose source never committed, oldest first."""
    found: list[dict[str, Any]] = []
    for page in query_pages(table(), key_condition="PK = :pk", values={":pk": sale_pk(tenant, customer_id)},
                            consistent=True):
        found.extend(page)
    return [i["SK"] for i in sorted(found, key=lambda i: str(i.get("at"))) if i.get("criteria") == criteria]


def settle_pending_sale(tx: Transaction, tenant: str, customer_id: int, number: str) -> None:
    """In the transaction that makes the number held: the sale is complete."""
    tx.delete(table(), sale_key(tenant, customer_id, number))


def drop_pending_sale(tenant: str, customer_id: int, number: str) -> None:
    """A recorded sale whose number is no longer the customer's to take."""
    ddb().delete_item(TableName=table(), Key=to_item(sale_key(tenant, customer_id, number)))


def end_holding(tx: Transaction, tenant: str, *, number: str, source_id: int, since: str, until: str) -> None:
    tx.delete(table(), live_key(tenant, number), condition="sourceId = :s", values={":s": source_id})
    tx.update(table(), hold_key(tenant, number, since=since, source_id=source_id),
              "SET #u = :u", names={"#u": "until"}, values={":u": until})


def holdings(tenant: str, number: str) -> list[dict[str, Any]]:
    """A number's holding periods, oldest first: {sourceId, customerId, from, until?}."""
    return partition(hold_pk(tenant, number), consistent=True)


def live_holder(tenant: str, number: str) -> dict[str, Any] | None:
    item = get(table(), live_key(tenant, number))
    return without_keys(item) if item else None


def create_source(tenant: str, fields: Mapping[str, Any], *, entity_id: int,
                  also: Transaction) -> dict[str, Any]:
    return entities.create(SOURCE, tenant, fields, entity_id=entity_id, also=also)


def get_source(tenant: str, source_id: int) -> dict[str, Any] | None:
    return entities.get_one(SOURCE, tenant, source_id)


def sources_of(tenant: str, customer_id: int) -> list[dict[str, Any]]:
    return entities.children_of(SOURCE, tenant, [customer_id])[customer_id]


def sources_page(tenant: str, *, customer_ids: Iterable[int] | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """(the page, the total) of the sources of ``customer_ids`` (all of the
    tenant's when None), in id order."""
    if customer_ids is None:
        every = list(entities.every(SOURCE, tenant, page_size=1000))
    else:
        grouped = entities.children_of(SOURCE, tenant, list(customer_ids))
        every = sorted((s for items in grouped.values() for s in items), key=lambda s: s["id"])
    return every[offset:offset + limit], len(every)


def update_source(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
                  also: Transaction | None = None) -> dict[str, Any]:
    return entities.update(SOURCE, tenant, current, changes, also=also)

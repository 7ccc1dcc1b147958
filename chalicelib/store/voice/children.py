"""An account's hooks, devices, calls and trunks as generic child entities
(entities.py, parent CUSTOMER), and the account's flow version: every device
write and trunk delete is conditional on it (keys.py)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.store.dynamo import entities, schema
from chalicelib.store.dynamo.entities import EntityType, Page
from chalicelib.store.dynamo.table import Transaction, get
from chalicelib.store.voice.keys import entity_key, flow_key, table

HOOK = schema.VOICE_HOOK
DEVICE = schema.VOICE_DEVICE
CALL = schema.VOICE_CALL


def children(etype: EntityType, tenant: str, customer_id: int, *, after: int = 0,
             limit: int = 1000) -> list[dict[str, Any]]:
    return entities.list_page(etype, tenant, Page(id_after=after, limit=limit), parent_id=customer_id)


def child(etype: EntityType, tenant: str, customer_id: int, entity_id: int | None) -> dict[str, Any] | None:
    record = entities.get_one(etype, tenant, entity_id) if entity_id else None
    return record if record is not None and record.get("customerId") == customer_id else None


def every_hook(tenant: str) -> Iterable[dict[str, Any]]:
    """Every hook of the tenant, whatever its account (the credentials migration)."""
    return entities.every(HOOK, tenant)


def flow_version(tenant: str, customer_id: int) -> int:
    item = get(table(), flow_key(tenant, customer_id))
    return int(item["version"]) if item else 0


def bump_flow(tx: Transaction, tenant: str, customer_id: int, seen: int) -> None:
    """Add to ``tx``: the account's flow moves from version ``seen`` to the next."""
    condition = "attribute_not_exists(PK)" if seen == 0 else "version = :seen"
    values: dict[str, Any] = {":one": 1}
    if seen:
        values[":seen"] = seen
    tx.update(table(), flow_key(tenant, customer_id), "ADD version :one", condition=condition, values=values,
              failure=ConcurrentUpdateError("the account's flow changed meanwhile"))


def new_id(etype: EntityType, tenant: str) -> int:
    return entities.allocate_ids(tenant, etype.kind)[0]


def create_child(etype: EntityType, tenant: str, fields: Mapping[str, Any], *, entity_id: int | None = None,
                 also: Transaction | None = None) -> dict[str, Any]:
    return entities.create(etype, tenant, fields, entity_id=entity_id, also=also)


def update_child(etype: EntityType, tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
                 also: Transaction | None = None) -> dict[str, Any]:
    return entities.update(etype, tenant, current, changes, also=also)


def delete_child(etype: EntityType, tenant: str, current: Mapping[str, Any], *,
                 also: Transaction | None = None) -> None:
    tx = Transaction()
    tx.delete(table(), entity_key(tenant, etype, current["id"]), condition="version = :v",
              values={":v": current["version"]},
              failure=ConcurrentUpdateError("the resource changed while it was being deleted"))
    if also is not None:
        tx.actions.extend(also.actions)
        tx.failures.extend(also.failures)
    tx.execute()

"""Custom-field definitions of the tracking surface (services/tracking/fields.py),
one item per (entity, slot)."""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import ddb
from chalicelib.store.tracking.keys import field_key, field_pk, partition, table


def put_definition(tenant: str, *, entity: str, slot: int, name: str, kind: str, values: list[str]) -> dict[str, Any]:
    record = {"entity": entity, "slot": slot, "name": name, "type": kind, "values": values,
              "updatedAt": clock.now_iso()}
    ddb().put_item(TableName=table(), Item=to_item({**field_key(tenant, entity, slot), **record}))
    return record


def definitions(tenant: str) -> list[dict[str, Any]]:
    return partition(field_pk(tenant))

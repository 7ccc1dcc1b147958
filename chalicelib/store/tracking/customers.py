"""A customer's drop as the tracking surface guards it: conditional on none
of its sources being active (the count sources.count_active_sources keeps)."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.store.dynamo import entities, schema
from chalicelib.store.dynamo.table import Transaction
from chalicelib.store.tracking.keys import active_sources_key, table


def no_active_sources(tx: Transaction, tenant: str, customer_id: int, *, failure: Any) -> None:
    """The write (a drop) goes through only while no source of the customer
    is active. Sources made before the count existed are not in it: the
    caller checks those by listing first (no race can create them now)."""
    tx.check(table(), active_sources_key(tenant, customer_id),
             "attribute_not_exists(activeSources) OR activeSources <= :zero", values={":zero": 0}, failure=failure)


def drop_customer(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *, failure: Any
                  ) -> dict[str, Any]:
    """The customer's drop (``changes``, conditional on the version read), in
    one transaction with the check that none of its sources is active."""
    tx = Transaction()
    no_active_sources(tx, tenant, int(current["id"]), failure=failure)
    return entities.update(schema.CUSTOMER, tenant, current, changes, also=tx)

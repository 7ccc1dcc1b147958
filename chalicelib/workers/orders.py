"""The order worker and the reservation sweeper.

Each SQS record names one order; records that fail are reported back as
batch item failures so only they are redelivered. Processing is idempotent
on the order id (services.orders.process_order), so a record delivered twice,
or redelivered after the worker died half-way, charges and activates once.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Iterable

_log = logging.getLogger("dialtone.workers.orders")


def handle_order_records(records: Iterable[Any]) -> dict[str, list[dict[str, str]]]:
    """``records``: objects with ``message_id`` and ``body`` (Chalice's SQS records)."""
    from chalicelib.services.numbers import orders

    failures = []
    for record in records:
        try:
            message = json.loads(record.body)
            orders.process_order(tenant=str(message["tenant"]), order_id=int(message["orderId"]))
        except Exception:
            _log.exception("order message %s failed", record.message_id)
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}


def sweep_reservations() -> dict[str, Any]:
    """Release every expired cart of every tenant (the schedule's job)."""
    from chalicelib.services.numbers import inventory as numbers
    from chalicelib.store import identity

    tenants = [t["id"] for t in identity.list_tenants()]
    return {"released": numbers.sweep_all(tenants=tenants)}

"""The sandbox payment gateway's own records (its side of each charge), kept
in the main table as a real processor keeps its own (adapters/payments.py).

  SANDBOXPAY / <reference>    outcome, gatewayRef, amount
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib import settings
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import ddb, get


def get_charge(reference: str) -> dict[str, Any] | None:
    return get(settings.main_table(), keys.sandbox_charge_key(reference))


def put_charge(reference: str, record: Mapping[str, Any]) -> None:
    ddb().put_item(TableName=settings.main_table(), Item=to_item({**keys.sandbox_charge_key(reference), **record}))

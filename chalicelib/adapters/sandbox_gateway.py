"""The sandbox payment gateway's own records (its side of each charge)."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib import settings
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import ddb, get


def get_charge(reference: str) -> dict[str, Any] | None:
    return get(settings.main_table(), {"PK": "SANDBOXPAY", "SK": reference})


def put_charge(reference: str, record: Mapping[str, Any]) -> None:
    ddb().put_item(TableName=settings.main_table(), Item=to_item({"PK": "SANDBOXPAY", "SK": reference, **record}))

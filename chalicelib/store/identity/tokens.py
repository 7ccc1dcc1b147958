"""One-time tokens (e-mail confirmation, login URL, password reset) and sessions.

  TOKEN#<sha256 of token> / TOKEN    purpose, tenant, subject, expiresAt (TTL)
  SESSION#<sha256> / SESSION         a customer session made from a login URL
Single use: consuming is one conditional delete that returns the item, so
two concurrent uses cannot both succeed. DynamoDB's TTL deletes late (up to
days), so expiry is also part of the condition.
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

from chalicelib import clock, settings
from chalicelib.store.dynamo.codec import from_item, to_attr, to_item
from chalicelib.store.dynamo.table import ddb


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def put(kind: str, token: str, record: Mapping[str, Any], *, ttl_seconds: int) -> None:
    item = {"PK": f"{kind}#{_hash(token)}", "SK": kind, **record, "expiresAt": clock.epoch() + ttl_seconds}
    ddb().put_item(TableName=settings.main_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")


def usable(kind: str, token: str, purpose: str) -> bool:
    """Whether the token could still be consumed (unknown, used, expired or
    another purpose: False). Only a look: it consumes nothing."""
    answer = ddb().get_item(TableName=settings.main_table(),
                            Key=to_item({"PK": f"{kind}#{_hash(token)}", "SK": kind}), ConsistentRead=True)
    if "Item" not in answer:
        return False
    item = from_item(answer["Item"])
    return item.get("purpose") == purpose and int(item.get("expiresAt", 0)) > clock.epoch()


def consume(kind: str, token: str, purpose: str) -> dict[str, Any] | None:
    """The record, deleted in the same call; None if unknown, used, expired or for another purpose."""
    db = ddb()
    try:
        answer = db.delete_item(
            TableName=settings.main_table(), Key=to_item({"PK": f"{kind}#{_hash(token)}", "SK": kind}),
            ConditionExpression="attribute_exists(PK) AND purpose = :p AND expiresAt > :now",
            ExpressionAttributeValues={":p": to_attr(purpose), ":now": to_attr(clock.epoch())},
            ReturnValues="ALL_OLD")
    except db.exceptions.ConditionalCheckFailedException:
        return None
    return from_item(answer["Attributes"])

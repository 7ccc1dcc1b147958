"""Counters of failed sign-ins, shared by every door (auth/attempts.py).

  SIGNINFAIL#<sha256 of who> / <window>   failed sign-ins of one username or
                                           source address in one window:
                                           count, expiresAt (TTL)
  user item: signInLockedUntil             set when the user's count reaches
                                           the limit (read by the Digest path
                                           with the user, at no extra cost)

``who`` is ``user:<name>`` or ``ip:<address>``; only its hash is a key, so
usernames and addresses are not stored in clear. DynamoDB's TTL deletes late,
which does not matter here: a window's items are never read after it ends.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

from chalicelib import settings
from chalicelib.store.dynamo import entities, keys
from chalicelib.store.dynamo.codec import from_item, to_attr, to_item
from chalicelib.store.dynamo.schema import USER
from chalicelib.store.dynamo.table import batch_get, ddb


def _table() -> str:
    return settings.main_table()


def _key(who: str, window: int) -> dict[str, str]:
    return {"PK": "SIGNINFAIL#" + hashlib.sha256(who.encode()).hexdigest(), "SK": str(window)}


def counts(whos: Sequence[str], window: int) -> dict[str, int]:
    """Failed sign-ins of each ``who`` in ``window`` (one strongly consistent BatchGetItem)."""
    wanted = {who: _key(who, window) for who in whos}
    found = {item["PK"]: int(item.get("count", 0))
             for item in batch_get(_table(), list(wanted.values()))}
    return {who: found.get(key["PK"], 0) for who, key in wanted.items()}


def add_failure(whos: Sequence[str], window: int, *, expires_at: int) -> dict[str, int]:
    """One more failure for each ``who``; the new counts (an atomic ADD each,
    so concurrent failures in other functions are all counted)."""
    new: dict[str, int] = {}
    for who in whos:
        answer = ddb().update_item(
            TableName=_table(), Key=to_item(_key(who, window)),
            UpdateExpression="ADD #c :one SET expiresAt = :exp", ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":one": to_attr(1), ":exp": to_attr(expires_at)}, ReturnValues="UPDATED_NEW")
        new[who] = int(from_item(answer["Attributes"])["count"])
    return new


def lock_user(username: str, *, until: int) -> None:
    """Mark the user (if there is one by that name) locked until ``until``
    (epoch seconds); a lock already reaching further is kept."""
    owner = entities.find_id_by_unique(USER, None, "username", username)
    if owner is None:
        return
    try:
        ddb().update_item(
            TableName=_table(), Key=to_item({"PK": keys.entity_pk(owner[0], USER.kind), "SK": keys.pad(owner[1])}),
            # Not a change of the user's data: no version bump, no audit.
            UpdateExpression="SET signInLockedUntil = :u",
            ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(signInLockedUntil) "
                                "OR signInLockedUntil < :u)",
            ExpressionAttributeValues={":u": to_attr(until)})
    except ddb().exceptions.ConditionalCheckFailedException:
        pass  # gone, or already locked at least as long



"""What Digest sign-in (auth/digest.py) reads and writes: the user a username
names, and the (nonce, nc) pairs already used."""
from __future__ import annotations

from typing import Any

from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.schema import USER
from chalicelib.store.dynamo.table import ddb, get
from chalicelib.store.tracking.keys import nonce_key, table


def digest_user(username: str) -> tuple[str, dict[str, Any]] | None:
    """(tenant, user) by username (unique across tenants). An unknown name
    reads a second (absent) item, so it costs what a known one does."""
    owner = entities.find_id_by_unique(USER, None, "username", username)
    if owner is None:
        get(table(), {"PK": "U#USER#username#absent", "SK": "-"})
        return None
    user = entities.get_one(USER, owner[0], owner[1])
    return (owner[0], user) if user else None


def claim_nonce_count(nonce: str, nc: str, *, expires_at: int) -> bool:
    """Record (nonce, nc) as used; False when it already was (a replay), also
    when the first use came through another function instance."""
    try:
        ddb().put_item(TableName=table(), Item=to_item({**nonce_key(nonce, nc), "expiresAt": expires_at}),
                       ConditionExpression="attribute_not_exists(PK)")
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True

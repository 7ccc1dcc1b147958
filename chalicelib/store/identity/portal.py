"""The portal's server-side sessions (failed logins: store/identity/attempts.py).

  PORTAL#<sha256 of session id> / SESSION    state (enrol, user), tenantId, userId,
                                             csrf, expiresAt (TTL); an enrolment's
                                             pendingSecret (sealed) and secretShown
The cookie holds the session id; only its hash is a key, so a read of the
table does not give anyone a session. DynamoDB's TTL deletes late (up to
days), so every read also compares expiresAt with the clock.
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

from chalicelib import clock, settings
from chalicelib.store.dynamo.codec import from_item, to_attr, to_item
from chalicelib.store.dynamo.table import ddb


def _table() -> str:
    return settings.main_table()


def _session_key(session_id: str) -> dict[str, Any]:
    return to_item({"PK": f"PORTAL#{hashlib.sha256(session_id.encode()).hexdigest()}", "SK": "SESSION"})


def put_session(session_id: str, record: Mapping[str, Any], *, ttl_seconds: int) -> None:
    item = {**from_item(_session_key(session_id)), **record, "expiresAt": clock.epoch() + ttl_seconds}
    ddb().put_item(TableName=_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")


def get_session(session_id: str) -> dict[str, Any] | None:
    """The live session, or None when unknown or expired."""
    found = ddb().get_item(TableName=_table(), Key=_session_key(session_id), ConsistentRead=True).get("Item")
    if not found:
        return None
    record = from_item(found)
    if int(record.get("expiresAt", 0)) <= clock.epoch():
        return None
    return {k: v for k, v in record.items() if k not in ("PK", "SK")}


def mark_secret_shown(session_id: str) -> bool:
    """Record that the session's pending secret has been shown; False if it
    was already (one conditional write: two reloads racing cannot both pass)."""
    try:
        ddb().update_item(TableName=_table(), Key=_session_key(session_id), UpdateExpression="SET secretShown = :yes",
                          ConditionExpression="attribute_exists(PK) AND attribute_not_exists(secretShown)",
                          ExpressionAttributeValues={":yes": to_attr(True)})
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True


def delete_session(session_id: str) -> dict[str, Any] | None:
    """Delete the session and return it (None if it was gone): one call, so a
    session id is consumed once even by two requests racing with it."""
    answer = ddb().delete_item(TableName=_table(), Key=_session_key(session_id), ReturnValues="ALL_OLD")
    old = answer.get("Attributes")
    if not old:
        return None
    record = from_item(old)
    return None if int(record.get("expiresAt", 0)) <= clock.epoch() else record

"""Tenants, users and API keys in the main table.

  TENANTS / <tenantId>              a tenant (listable by the admin CLI)
  T#<t>#USER / <id>                 a user (generic entity, see entities.py)
  U#USER#username / <username>      usernames are unique across tenants: Digest
                                    and the OAuth password grant name no tenant
  APIKEY#<sha256> / APIKEY          an API key -> (tenant, user)
"""
from __future__ import annotations

from typing import Any

from chalicelib import settings
from chalicelib.domain.errors import AuthenticationError
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import Transaction, get, query_pages
from chalicelib.store.dynamo.entities import EntityType

USER = EntityType(kind="USER", global_unique_fields=("username",))


def _table() -> str:
    return settings.main_table()


def tenant_item(tenant_id: str, name: str, created_at: str) -> dict[str, Any]:
    return {**keys.tenant_key(tenant_id), "id": tenant_id, "name": name, "createdAt": created_at}


def get_tenant(tenant_id: str) -> dict[str, Any] | None:
    item = get(_table(), keys.tenant_key(tenant_id))
    return entities.public(item) if item else None


def list_tenants() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk", values={":pk": "TENANTS"}):
        found.extend(entities.public(i) for i in page)
    return found


def api_key_put(tx: Transaction, key_hash: str, tenant_id: str, user_id: int, created_at: str) -> None:
    tx.put(_table(), {**keys.api_key_key(key_hash), "tenantId": tenant_id, "userId": user_id,
                      "createdAt": created_at}, condition="attribute_not_exists(PK)")


def api_key_delete(tx: Transaction, key_hash: str) -> None:
    tx.delete(_table(), keys.api_key_key(key_hash))


def resolve_api_key(key_hash: str) -> tuple[str, dict[str, Any]]:
    """(tenant, user) owning a key hash; AuthenticationError when none does."""
    item = get(_table(), keys.api_key_key(key_hash), consistent=False)
    if not item:
        raise AuthenticationError("unknown or revoked API key")
    user = entities.get_one(USER, item["tenantId"], item["userId"])
    if not user or user.get("apiKeyHash") != key_hash or not user.get("active", True):
        raise AuthenticationError("unknown or revoked API key")
    return item["tenantId"], user


def find_user_by_username(username: str) -> tuple[str, dict[str, Any]] | None:
    owner = entities.find_id_by_unique(USER, None, "username", username)
    if owner is None:
        return None
    user = entities.get_one(USER, owner[0], owner[1])
    return (owner[0], user) if user else None


def claim_totp_step(tenant_id: str, user_id: int, step: int) -> bool:
    """Record ``step`` as the user's last accepted TOTP time-step, only if it is
    later than the one recorded (one conditional write). False: a code of this
    step or an earlier one was already accepted, so this one is a replay."""
    from chalicelib.store.dynamo.table import ddb
    from chalicelib.store.dynamo.codec import to_attr, to_item

    try:
        ddb().update_item(
            TableName=_table(), Key=to_item({"PK": keys.entity_pk(tenant_id, USER.kind), "SK": keys.pad(user_id)}),
            UpdateExpression="SET totpLastStep = :s ADD version :one",
            ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(totpLastStep) OR totpLastStep < :s)",
            ExpressionAttributeValues={":s": to_attr(step), ":one": to_attr(1)})
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True

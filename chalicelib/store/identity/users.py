"""Tenants, users and API keys in the main table.

  TENANTS / <tenantId>              a tenant (listable by the admin CLI)
  T#<t>#USER / <id>                 a user (generic entity, see entities.py)
  U#USER#username / <username>      usernames are unique across tenants: Digest
                                    and the OAuth password grant name no tenant
  APIKEY#<sha256> / APIKEY          an API key -> (tenant, user)
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from chalicelib import clock, settings
from chalicelib.domain.errors import AuthenticationError, DialtoneError
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import Transaction, ddb, get, query_pages
from chalicelib.store.dynamo.schema import CUSTOMER, USER
from chalicelib.store.dynamo.codec import to_attr, to_item


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


def create_user(tenant_id: str, fields: Mapping[str, Any], *, user_id: int, new_tenant_name: str | None = None,
                bound_customer: tuple[int, DialtoneError] | None = None) -> dict[str, Any]:
    """A user with its username claim and, when ``fields`` carry an
    ``apiKeyHash``, its API key item, in one transaction. ``new_tenant_name``:
    the tenant is created with it (its first user). ``bound_customer``: the
    customer (id, error if gone) a customer user belongs to must still exist."""
    tx = Transaction()
    if new_tenant_name is not None:
        tx.put(_table(), tenant_item(tenant_id, new_tenant_name, clock.now_iso()),
               condition="attribute_not_exists(PK)")
    if bound_customer is not None:
        customer_id, gone = bound_customer
        tx.check(_table(), {"PK": keys.entity_pk(tenant_id, CUSTOMER.kind), "SK": keys.pad(customer_id)},
                 "attribute_exists(PK)", failure=gone)
    if fields.get("apiKeyHash"):
        api_key_put(tx, fields["apiKeyHash"], tenant_id, user_id, fields["apiKeyCreatedAt"])
    return entities.create(USER, tenant_id, fields, entity_id=user_id, also=tx)


def prepare_user(tenant_id: str, fields: Mapping[str, Any]) -> tuple[dict[str, Any], Transaction]:
    """The record and the not yet executed writes of a new user (with its
    username claim), for a caller that creates it with something else."""
    return entities.prepare_create(USER, tenant_id, fields)


def allocate_user_id(tenant_id: str) -> int:
    return entities.allocate_ids(tenant_id, USER.kind)[0]


def get_user(tenant_id: str, user_id: int) -> dict[str, Any] | None:
    return entities.get_one(USER, tenant_id, user_id)


def every_user(tenant_id: str) -> Iterator[dict[str, Any]]:
    """Every user of the tenant, in id order, a page at a time (migrations)."""
    return entities.every(USER, tenant_id)


def update_user(tenant_id: str, current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` applied if the user is still as read (ConcurrentUpdateError otherwise)."""
    return entities.update(USER, tenant_id, current, changes)


def replace_api_key(tenant_id: str, user: Mapping[str, Any], key_hash: str, created_at: str) -> dict[str, Any]:
    """The user's API key becomes ``key_hash``; the old key's item is deleted
    in the same transaction, so the old key stops working when the new one starts."""
    tx = Transaction()
    api_key_put(tx, key_hash, tenant_id, user["id"], created_at)
    if user.get("apiKeyHash"):
        api_key_delete(tx, user["apiKeyHash"])
    return entities.update(USER, tenant_id, user, {"apiKeyHash": key_hash, "apiKeyCreatedAt": created_at}, also=tx)


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


def users_by_id(tenant: str, user_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The tenant's users among ``user_ids``, by id (one BatchGetItem)."""
    return entities.get_many(USER, tenant, user_ids)


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
    try:
        ddb().update_item(
            TableName=_table(), Key=to_item({"PK": keys.entity_pk(tenant_id, USER.kind), "SK": keys.pad(user_id)}),
            UpdateExpression="SET totpLastStep = :s ADD version :one",
            ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(totpLastStep) OR totpLastStep < :s)",
            ExpressionAttributeValues={":s": to_attr(step), ":one": to_attr(1)})
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True

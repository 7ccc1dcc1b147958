"""The OAuth grant's refresh tokens (single use) and their families (revoked on
reuse, bound to a password version); and, on the local and test stages, the
key set that signs the access tokens (deployed stages read SSM)."""
from __future__ import annotations

from typing import Any

from chalicelib.store.dynamo.codec import to_attr, to_item
from chalicelib.store.dynamo.table import Transaction, ddb, get
from chalicelib.store.voice.keys import SIGNING_KEYS, family_key, refresh_key, table


def put_refresh(tx: Transaction, token_hash: str, *, tenant: str, user_id: int, family: str,
                expires_at: int) -> None:
    tx.put(table(), {**refresh_key(token_hash), "tenantId": tenant, "userId": user_id, "family": family,
                     "used": False, "expiresAt": expires_at}, condition="attribute_not_exists(PK)")


def new_family(tx: Transaction, family: str, *, tenant: str, user_id: int, password_version: str,
               expires_at: int) -> None:
    """Add to ``tx``: a new family, bound to the user's password version."""
    tx.put(table(), {**family_key(family), "tenantId": tenant, "userId": user_id, "revoked": False,
                     "passwordVersion": password_version, "expiresAt": expires_at},
           condition="attribute_not_exists(PK)")


def get_refresh(token_hash: str) -> dict[str, Any] | None:
    return get(table(), refresh_key(token_hash))


def use_refresh(tx: Transaction, token_hash: str, *, failure: Exception) -> None:
    """Add to ``tx``: mark the token used, only if it was not (each is accepted once)."""
    tx.update(table(), refresh_key(token_hash), "SET used = :t", condition="used = :f",
              values={":t": True, ":f": False}, failure=failure)  # type: ignore[arg-type]


def family_live(tx: Transaction, family: str, *, password_version: str, failure: Exception) -> None:
    """Add to ``tx``: the family is not revoked and was started under ``password_version``
    (a family from before versions were recorded has none, and fails)."""
    tx.check(table(), family_key(family), "revoked = :f AND passwordVersion = :pwv",
             values={":f": False, ":pwv": password_version}, failure=failure)  # type: ignore[arg-type]


def revoke_family(family: str) -> None:
    ddb().update_item(TableName=table(), Key=to_item(family_key(family)), UpdateExpression="SET revoked = :t",
                      ExpressionAttributeValues={":t": to_attr(True)})


# ------------------------------------------------------------------ signing keys (local stages)

def stored_signing_keys() -> str | None:
    item = get(table(), SIGNING_KEYS)
    return str(item["value"]) if item else None


def store_signing_keys(value: str, *, previous: str | None) -> bool:
    """Write the key set if it is still ``previous`` (None: not yet written); False if someone else won."""
    condition = "attribute_not_exists(PK)" if previous is None else "#v = :p"
    params: dict[str, Any] = {"TableName": table(), "Item": to_item({**SIGNING_KEYS, "value": value}),
                              "ConditionExpression": condition}
    if previous is not None:
        params["ExpressionAttributeNames"] = {"#v": "value"}
        params["ExpressionAttributeValues"] = {":p": to_attr(previous)}
    try:
        ddb().put_item(**params)
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True

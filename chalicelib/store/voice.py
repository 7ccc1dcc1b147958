"""The voice platform's items in the main table: the only module that knows
their keys and attribute names (docs/architecture.md, "voice").

  T#<t>#VHOOK / <id>, T#<t>#VDEVICE / <id>, T#<t>#VCALL / <id>
        generic entities (entities.py) with ByParent CUSTOMER>VHOOK ... :
        one account's hooks, devices and calls in id order
  T#<t>#VFLOW / <customer id>            the account's flow version: every device
        write and trunk delete is conditional on it, so two concurrent edits
        cannot together make a loop or orphan a reference
  T#<t>#VDELIVERY#<hook id> / <call id>#<seq>   one event for one hook: the
        delivery log (attempts, outcome); a call's pending ones are a prefix
  T#<t>#VLEASE / <call id>#<hook id>     who is delivering a call's events to a hook
  VREFRESH#<sha256> / VREFRESH           a refresh token (single use) -> its family
  VFAMILY#<family id> / VFAMILY          a refresh-token family (revoked on reuse)
  SYSTEM / VOICE-JWT-KEYS                local and test stages only: the
        generated signing keys (deployed stages read SSM)
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from chalicelib import clock, settings
from chalicelib.domain.errors import ConcurrentUpdateError, InvalidStateError
from chalicelib.store.dynamo import entities, keys
from chalicelib.store.dynamo.codec import from_item, to_attr, to_item
from chalicelib.store.dynamo.table import Transaction, ddb, get, query_pages, unique_violation
from chalicelib.store.dynamo import schema
from chalicelib.store.dynamo.entities import EntityType, Page

HOOK = schema.VOICE_HOOK
DEVICE = schema.VOICE_DEVICE
CALL = schema.VOICE_CALL


def _table() -> str:
    return settings.main_table()


def _entity_key(tenant: str, etype: EntityType, entity_id: int) -> dict[str, str]:
    return {"PK": keys.entity_pk(tenant, etype.kind), "SK": keys.pad(entity_id)}


# ------------------------------------------------------------------ account children

def children(etype: EntityType, tenant: str, customer_id: int, *, after: int = 0,
             limit: int = 1000) -> list[dict[str, Any]]:
    return entities.list_page(etype, tenant, Page(id_after=after, limit=limit), parent_id=customer_id)


def child(etype: EntityType, tenant: str, customer_id: int, entity_id: int | None) -> dict[str, Any] | None:
    record = entities.get_one(etype, tenant, entity_id) if entity_id else None
    return record if record is not None and record.get("customerId") == customer_id else None


def flow_key(tenant: str, customer_id: int) -> dict[str, str]:
    return {"PK": f"T#{tenant}#VFLOW", "SK": keys.pad(customer_id)}


def flow_version(tenant: str, customer_id: int) -> int:
    item = get(_table(), flow_key(tenant, customer_id))
    return int(item["version"]) if item else 0


def bump_flow(tx: Transaction, tenant: str, customer_id: int, seen: int) -> None:
    """Add to ``tx``: the account's flow moves from version ``seen`` to the next."""
    condition = "attribute_not_exists(PK)" if seen == 0 else "version = :seen"
    values: dict[str, Any] = {":one": 1}
    if seen:
        values[":seen"] = seen
    tx.update(_table(), flow_key(tenant, customer_id), "ADD version :one", condition=condition, values=values,
              failure=ConcurrentUpdateError("the account's flow changed meanwhile"))


def new_id(etype: EntityType, tenant: str) -> int:
    return entities.allocate_ids(tenant, etype.kind)[0]


def create_child(etype: EntityType, tenant: str, fields: Mapping[str, Any], *, entity_id: int | None = None,
                 also: Transaction | None = None) -> dict[str, Any]:
    return entities.create(etype, tenant, fields, entity_id=entity_id, also=also)


def update_child(etype: EntityType, tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
                 also: Transaction | None = None) -> dict[str, Any]:
    return entities.update(etype, tenant, current, changes, also=also)


def delete_child(etype: EntityType, tenant: str, current: Mapping[str, Any], *,
                 also: Transaction | None = None) -> None:
    tx = Transaction()
    tx.delete(_table(), _entity_key(tenant, etype, current["id"]), condition="version = :v",
              values={":v": current["version"]},
              failure=ConcurrentUpdateError("the resource changed while it was being deleted"))
    if also is not None:
        tx.actions.extend(also.actions)
        tx.failures.extend(also.failures)
    tx.execute()


# ------------------------------------------------------------------ calls

def new_call_id(tenant: str) -> int:
    return entities.allocate_ids(tenant, CALL.kind)[0]


def set_call(tenant: str, call_id: int, changes: Mapping[str, Any], *, expect_states: Sequence[str] | None = None,
             append_history: Sequence[Mapping[str, Any]] = (), expect_control: int | None = None,
             expect_history: int | None = None) -> bool:
    """Change a call's fields (and append history entries) in one UpdateItem;
    False when its state is not one of ``expect_states`` (or its control
    version moved on, or its history has not ``expect_history`` entries: the
    append was made already, by this very write when botocore retried it after
    its answer was lost)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts = []
    for n, (name, value) in enumerate(changes.items()):
        names[f"#f{n}"] = name
        values[f":f{n}"] = value
        parts.append(f"#f{n} = :f{n}")
    if append_history:
        names["#h"] = "history"
        values[":h"] = list(append_history)
        values[":empty"] = []
        parts.append("#h = list_append(if_not_exists(#h, :empty), :h)")
    conditions = ["attribute_exists(PK)"]
    if expect_states:
        names["#s"] = "state"
        placeholders = []
        for n, state in enumerate(expect_states):
            values[f":s{n}"] = state
            placeholders.append(f":s{n}")
        conditions.append(f"#s IN ({', '.join(placeholders)})")
    if expect_control is not None:
        names["#c"] = "controlVersion"
        values[":c"] = expect_control
        conditions.append("#c = :c")
    if expect_history is not None:
        names["#h"] = "history"
        values[":hn"] = expect_history
        conditions.append("size(#h) = :hn")
    try:
        ddb().update_item(TableName=_table(), Key=to_item(_entity_key(tenant, CALL, call_id)),
                          UpdateExpression="SET " + ", ".join(parts), ConditionExpression=" AND ".join(conditions),
                          ExpressionAttributeNames=names,
                          ExpressionAttributeValues={k: to_attr(v) for k, v in values.items()})
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True


def control_call(tenant: str, call: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
    """A client's change to a live call (new verbs, hang up): conditional on it
    still being live; bumps its control version so the worker notices."""
    names = {"#s": "state", "#c": "controlVersion"}
    values: dict[str, Any] = {":one": 1, ":zero": 0}
    parts = ["#c = if_not_exists(#c, :zero) + :one"]
    for n, (name, value) in enumerate(changes.items()):
        names[f"#f{n}"] = name
        values[f":f{n}"] = value
        parts.append(f"#f{n} = :f{n}")
    live = ("queued", "initiated", "ringing", "answered")
    for n, state in enumerate(live):
        values[f":l{n}"] = state
    try:
        ddb().update_item(TableName=_table(), Key=to_item(_entity_key(tenant, CALL, call["id"])),
                          UpdateExpression="SET " + ", ".join(parts),
                          ConditionExpression=f"#s IN ({', '.join(f':l{n}' for n in range(len(live)))})",
                          ExpressionAttributeNames=names,
                          ExpressionAttributeValues={k: to_attr(v) for k, v in values.items()})
    except ddb().exceptions.ConditionalCheckFailedException:
        raise InvalidStateError("the call has ended") from None


def get_call(tenant: str, call_id: int) -> dict[str, Any] | None:
    return entities.get_one(CALL, tenant, call_id)


# ------------------------------------------------------------------ deliveries

def delivery_pk(tenant: str, hook_id: int) -> str:
    return f"T#{tenant}#VDELIVERY#{keys.pad(hook_id)}"


def delivery_sk(call_id: int, seq: int) -> str:
    return f"{keys.pad(call_id)}#{seq:06d}"


def put_deliveries(tenant: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """New delivery records (hookId, callId, seq, deliveryId, event body ...); a
    record already there (a retried worker) is left as it is."""
    for row in rows:
        item = {"PK": delivery_pk(tenant, row["hookId"]), "SK": delivery_sk(row["callId"], row["seq"]),
                **row, "status": "pending", "attempts": []}
        try:
            ddb().put_item(TableName=_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")
        except ddb().exceptions.ConditionalCheckFailedException:
            pass


def pending_deliveries(tenant: str, hook_id: int, call_id: int) -> list[dict[str, Any]]:
    return [d for d in call_deliveries(tenant, hook_id, call_id) if d.get("status") == "pending"]


def call_deliveries(tenant: str, hook_id: int, call_id: int) -> list[dict[str, Any]]:
    """The call's delivery records for the hook, whatever their status."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk AND begins_with(SK, :p)", consistent=True,
                            values={":pk": delivery_pk(tenant, hook_id), ":p": keys.pad(call_id) + "#"}):
        found.extend(page)
    return found


def record_attempt(tenant: str, delivery: Mapping[str, Any], attempt: Mapping[str, Any], status: str) -> None:
    """Append ``attempt`` to the delivery as read (``delivery``) and set its status.

    Conditional on the attempts being those read: botocore retrying the write
    after its answer was lost finds the attempt already there and leaves it
    (an unconditional append recorded one request as two)."""
    try:
        ddb().update_item(
            TableName=_table(), Key=to_item({"PK": delivery["PK"], "SK": delivery["SK"]}),
            UpdateExpression="SET #s = :s, attempts = list_append(attempts, :a), updatedAt = :t",
            ConditionExpression="size(attempts) = :n",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": to_attr(status), ":a": to_attr([attempt]), ":t": to_attr(attempt["at"]),
                                       ":n": to_attr(len(delivery.get("attempts") or []))})
    except ddb().exceptions.ConditionalCheckFailedException:
        pass


def deliveries_of_hook(tenant: str, hook_id: int, *, limit: int, before: str | None = None) -> list[dict[str, Any]]:
    """Newest first (call ids grow with time), at most ``limit``."""
    condition, values = "PK = :pk", {":pk": delivery_pk(tenant, hook_id)}
    if before:
        condition += " AND SK < :b"
        values[":b"] = before
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition=condition, values=values, forward=False, page_size=limit):
        found.extend(page)
        if len(found) >= limit:
            break
    return found[:limit]


def _lease_key(tenant: str, call_id: int, hook_id: int) -> dict[str, str]:
    return {"PK": f"T#{tenant}#VLEASE", "SK": f"{keys.pad(call_id)}#{keys.pad(hook_id)}"}


def take_lease(tenant: str, call_id: int, hook_id: int, owner: str, seconds: int) -> dict[str, Any] | None:
    """The right to deliver a call's events to a hook, for ``seconds``: None while
    another worker holds it or the hook's next retry is not due yet. Returns the
    lease (``attempt``: failed attempts of its oldest pending delivery)."""
    now = clock.epoch()
    try:
        answer = ddb().update_item(
            TableName=_table(), Key=to_item(_lease_key(tenant, call_id, hook_id)),
            UpdateExpression="SET #o = :o, #u = :u, expiresAt = :e, attempt = if_not_exists(attempt, :zero)",
            # The holder may take it again: botocore retrying the take after its answer
            # was lost must not find the lease "held by another" (its own, for 120 s).
            ConditionExpression="(attribute_not_exists(#u) OR #u < :now OR #o = :o) AND "
                                "(attribute_not_exists(nextAt) OR nextAt <= :now)",
            ExpressionAttributeNames={"#o": "owner", "#u": "until"},
            ExpressionAttributeValues=to_item({":o": owner, ":u": now + seconds, ":e": now + 7 * 86400,
                                               ":now": now, ":zero": 0}),
            ReturnValues="ALL_NEW")
    except ddb().exceptions.ConditionalCheckFailedException:
        return None
    return from_item(answer["Attributes"])


def get_lease(tenant: str, call_id: int, hook_id: int) -> dict[str, Any] | None:
    """The (call, hook) lease as it is now (``until``: held till then; ``nextAt``: the next retry)."""
    return get(_table(), _lease_key(tenant, call_id, hook_id))


def set_lease(tenant: str, call_id: int, hook_id: int, owner: str, *, attempt: int, next_at: int = 0,
              release: bool = False) -> None:
    """Record the attempt count (and when the next try is due); ``release`` lets others take it."""
    parts = ["attempt = :a", "nextAt = :n"] + (["#u = :zero"] if release else [])
    ddb().update_item(TableName=_table(), Key=to_item(_lease_key(tenant, call_id, hook_id)),
                      UpdateExpression="SET " + ", ".join(parts), ConditionExpression="#o = :o",
                      ExpressionAttributeNames={"#o": "owner", **({"#u": "until"} if release else {})},
                      ExpressionAttributeValues=to_item({":a": attempt, ":n": next_at, ":o": owner,
                                                         **({":zero": 0} if release else {})}))


# ------------------------------------------------------------------ refresh tokens

def refresh_key(token_hash: str) -> dict[str, str]:
    return {"PK": f"VREFRESH#{token_hash}", "SK": "VREFRESH"}


def family_key(family: str) -> dict[str, str]:
    return {"PK": f"VFAMILY#{family}", "SK": "VFAMILY"}


def put_refresh(tx: Transaction, token_hash: str, *, tenant: str, user_id: int, family: str,
                expires_at: int) -> None:
    tx.put(_table(), {**refresh_key(token_hash), "tenantId": tenant, "userId": user_id, "family": family,
                      "used": False, "expiresAt": expires_at}, condition="attribute_not_exists(PK)")


def new_family(tx: Transaction, family: str, *, tenant: str, user_id: int, expires_at: int) -> None:
    tx.put(_table(), {**family_key(family), "tenantId": tenant, "userId": user_id, "revoked": False,
                      "expiresAt": expires_at}, condition="attribute_not_exists(PK)")


def get_refresh(token_hash: str) -> dict[str, Any] | None:
    return get(_table(), refresh_key(token_hash))


def use_refresh(tx: Transaction, token_hash: str, *, failure: Exception) -> None:
    """Add to ``tx``: mark the token used, only if it was not (each is accepted once)."""
    tx.update(_table(), refresh_key(token_hash), "SET used = :t", condition="used = :f",
              values={":t": True, ":f": False}, failure=failure)  # type: ignore[arg-type]


def family_live(tx: Transaction, family: str, *, failure: Exception) -> None:
    tx.check(_table(), family_key(family), "revoked = :f", values={":f": False},
             failure=failure)  # type: ignore[arg-type]


def revoke_family(family: str) -> None:
    ddb().update_item(TableName=_table(), Key=to_item(family_key(family)), UpdateExpression="SET revoked = :t",
                      ExpressionAttributeValues={":t": to_attr(True)})


# ------------------------------------------------------------------ signing keys (local stages)

SIGNING_KEYS = {"PK": "SYSTEM", "SK": "VOICE-JWT-KEYS"}


def stored_signing_keys() -> str | None:
    item = get(_table(), SIGNING_KEYS)
    return str(item["value"]) if item else None


def store_signing_keys(value: str, *, previous: str | None) -> bool:
    """Write the key set if it is still ``previous`` (None: not yet written); False if someone else won."""
    condition = "attribute_not_exists(PK)" if previous is None else "#v = :p"
    params: dict[str, Any] = {"TableName": _table(), "Item": to_item({**SIGNING_KEYS, "value": value}),
                              "ConditionExpression": condition}
    if previous is not None:
        params["ExpressionAttributeNames"] = {"#v": "value"}
        params["ExpressionAttributeValues"] = {":p": to_attr(previous)}
    try:
        ddb().put_item(**params)
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True


# ------------------------------------------------------------------ accounts

def update_customer(etype: EntityType, tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
                    claim_domain: str | None = None) -> dict[str, Any]:
    """Voice fields of a customer (voiceDomain, voiceMbn); with ``claim_domain``
    the label's per-tenant uniqueness item is written in the same transaction."""
    also = Transaction()
    if claim_domain is not None:
        also.put(_table(), {"PK": keys.unique_pk(tenant, etype.kind, "voiceDomain"), "SK": claim_domain,
                            "id": current["id"], "tenantId": tenant},
                 condition="attribute_not_exists(PK)", failure=unique_violation("domain", claim_domain))
    return entities.update(etype, tenant, current, changes, also=also)

"""The hooks' delivery log (one record per event per hook: attempts, outcome)
and the (call, hook) leases: who delivers a call's events to a hook, and when
its next retry is due (keys.py)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib import clock
from chalicelib.store.dynamo.codec import from_item, to_attr, to_item
from chalicelib.store.dynamo.table import ddb, get, query_pages
from chalicelib.store.voice.keys import delivery_pk, delivery_sk, delivery_sk_prefix, lease_key, table


def put_deliveries(tenant: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """New delivery records (hookId, callId, seq, deliveryId, event body ...); a
    record already there (a retried worker) is left as it is."""
    for row in rows:
        item = {"PK": delivery_pk(tenant, row["hookId"]), "SK": delivery_sk(row["callId"], row["seq"]),
                **row, "status": "pending", "attempts": []}
        try:
            ddb().put_item(TableName=table(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")
        except ddb().exceptions.ConditionalCheckFailedException:
            pass


def pending_deliveries(tenant: str, hook_id: int, call_id: int) -> list[dict[str, Any]]:
    """The call's deliveries to the hook still to send, oldest event first."""
    return [d for d in call_deliveries(tenant, hook_id, call_id) if d.get("status") == "pending"]


def call_deliveries(tenant: str, hook_id: int, call_id: int) -> list[dict[str, Any]]:
    """The call's delivery records for the hook, whatever their status, in the
    call's order (sequence; the sort key pads it, so the Query returns that order)."""
    found: list[dict[str, Any]] = []
    for page in query_pages(table(), key_condition="PK = :pk AND begins_with(SK, :p)", consistent=True,
                            values={":pk": delivery_pk(tenant, hook_id), ":p": delivery_sk_prefix(call_id)}):
        found.extend(page)
    return found


def record_attempt(tenant: str, delivery: Mapping[str, Any], attempt: Mapping[str, Any], status: str) -> None:
    """Append ``attempt`` to the delivery as read (``delivery``) and set its status.

    Conditional on the attempts being those read: botocore retrying the write
    after its answer was lost finds the attempt already there and leaves it
    (an unconditional append recorded one request as two)."""
    try:
        ddb().update_item(
            TableName=table(), Key=to_item({"PK": delivery["PK"], "SK": delivery["SK"]}),
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
    for page in query_pages(table(), key_condition=condition, values=values, forward=False, page_size=limit):
        found.extend(page)
        if len(found) >= limit:
            break
    return found[:limit]


def take_lease(tenant: str, call_id: int, hook_id: int, owner: str, seconds: int) -> dict[str, Any] | None:
    """The right to deliver a call's events to a hook, for ``seconds``: None while
    another worker holds it or the hook's next retry is not due yet. Returns the
    lease (``attempt``: failed attempts of its oldest pending delivery)."""
    now = clock.epoch()
    try:
        answer = ddb().update_item(
            TableName=table(), Key=to_item(lease_key(tenant, call_id, hook_id)),
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
    return get(table(), lease_key(tenant, call_id, hook_id))


def set_lease(tenant: str, call_id: int, hook_id: int, owner: str, *, attempt: int, next_at: int = 0,
              release: bool = False) -> None:
    """Record the attempt count (and when the next try is due); ``release`` lets others take it."""
    parts = ["attempt = :a", "nextAt = :n"] + (["#u = :zero"] if release else [])
    ddb().update_item(TableName=table(), Key=to_item(lease_key(tenant, call_id, hook_id)),
                      UpdateExpression="SET " + ", ".join(parts), ConditionExpression="#o = :o",
                      ExpressionAttributeNames={"#o": "owner", **({"#u": "until"} if release else {})},
                      ExpressionAttributeValues=to_item({":a": attempt, ":n": next_at, ":o": owner,
                                                         **({":zero": 0} if release else {})}))

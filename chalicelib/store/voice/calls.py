"""A voice call's record (a child entity of its account, children.py): its id,
its state and history (one conditional UpdateItem each), and a client's
changes to a live call."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from chalicelib.domain.errors import InvalidStateError
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.codec import to_attr, to_item
from chalicelib.store.dynamo.table import ddb
from chalicelib.store.voice.children import CALL
from chalicelib.store.voice.keys import entity_key, table


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
        ddb().update_item(TableName=table(), Key=to_item(entity_key(tenant, CALL, call_id)),
                          UpdateExpression="SET " + ", ".join(parts), ConditionExpression=" AND ".join(conditions),
                          ExpressionAttributeNames=names,
                          ExpressionAttributeValues={k: to_attr(v) for k, v in values.items()})
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True


def control_call(tenant: str, call: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
    """A client's change to a live call (new verbs, hang up): conditional on it
    still being live and not closing (call control marks it closing, on the
    control version it last saw, before its final state); bumps its control
    version so the worker notices."""
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
        ddb().update_item(TableName=table(), Key=to_item(entity_key(tenant, CALL, call["id"])),
                          UpdateExpression="SET " + ", ".join(parts),
                          ConditionExpression=f"#s IN ({', '.join(f':l{n}' for n in range(len(live)))}) "
                                              "AND attribute_not_exists(closing)",
                          ExpressionAttributeNames=names,
                          ExpressionAttributeValues={k: to_attr(v) for k, v in values.items()})
    except ddb().exceptions.ConditionalCheckFailedException:
        raise InvalidStateError("the call has ended") from None


def get_call(tenant: str, call_id: int) -> dict[str, Any] | None:
    return entities.get_one(CALL, tenant, call_id)

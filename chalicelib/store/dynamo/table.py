"""Thin helpers over the DynamoDB low-level client: get, query pages,
conditional writes and transactions, with failures translated to domain errors."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from chalicelib.domain.errors import AlreadyExistsError, ConcurrentUpdateError, DialtoneError
from chalicelib.store.clients import client
from chalicelib.store.dynamo.codec import from_item, to_attr, to_item

# DynamoDB refuses more than 100 actions in one TransactWriteItems.
MAX_TRANSACTION_ITEMS = 100


def ddb() -> Any:
    return client("dynamodb")


def get(table: str, key: Mapping[str, Any], *, consistent: bool = True,
        attributes: Sequence[str] | None = None) -> dict[str, Any] | None:
    """One item (``attributes``: only those)."""
    params: dict[str, Any] = {"TableName": table, "Key": to_item(key), "ConsistentRead": consistent}
    if attributes:
        params["ProjectionExpression"] = ", ".join(f"#p{n}" for n in range(len(attributes)))
        params["ExpressionAttributeNames"] = {f"#p{n}": name for n, name in enumerate(attributes)}
    found = ddb().get_item(**params).get("Item")
    return from_item(found) if found else None


def batch_get(table: str, keys: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Items for many keys in as few round trips as BatchGetItem allows (100 each)."""
    found: list[dict[str, Any]] = []
    pending = [to_item(k) for k in keys]
    while pending:
        chunk, pending = pending[:100], pending[100:]
        request: dict[str, Any] = {table: {"Keys": chunk, "ConsistentRead": True}}
        while request:
            answer = ddb().batch_get_item(RequestItems=request)
            found.extend(from_item(i) for i in answer["Responses"].get(table, []))
            request = answer.get("UnprocessedKeys") or {}
    return found


def batch_get_tables(keys: Mapping[str, Sequence[Mapping[str, Any]]], *,
                     attributes: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Consistent reads of a few keys in several tables, in one BatchGetItem
    (plus one per round of unprocessed keys). At most 100 keys in all.
    ``attributes``: per table, only these attributes are read."""
    if sum(len(k) for k in keys.values()) > 100:
        raise ValueError("one BatchGetItem reads at most 100 keys")
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in keys}
    request: dict[str, Any] = {}
    for table, table_keys in keys.items():
        if not table_keys:
            continue
        request[table] = {"Keys": [to_item(k) for k in table_keys], "ConsistentRead": True}
        wanted = (attributes or {}).get(table)
        if wanted:
            request[table]["ProjectionExpression"] = ", ".join(f"#p{n}" for n in range(len(wanted)))
            request[table]["ExpressionAttributeNames"] = {f"#p{n}": name for n, name in enumerate(wanted)}
    while request:
        answer = ddb().batch_get_item(RequestItems=request)
        for table, items in answer.get("Responses", {}).items():
            found[table].extend(from_item(i) for i in items)
        request = answer.get("UnprocessedKeys") or {}
    return found


def batch_put(table: str, items: Sequence[Mapping[str, Any]]) -> int:
    """Unconditional puts, 25 per BatchWriteItem (its limit), retrying what
    DynamoDB leaves unprocessed. For bulk loads of new items only: no condition
    can be attached, so never for items an invariant depends on being unique.
    Returns the number of requests made."""
    requests = 0
    pending = [{"PutRequest": {"Item": to_item(i)}} for i in items]
    while pending:
        chunk, pending = pending[:25], pending[25:]
        request: dict[str, Any] = {table: chunk}
        while request:
            answer = ddb().batch_write_item(RequestItems=request)
            requests += 1
            request = answer.get("UnprocessedItems") or {}
    return requests


def query_pages(
    table: str,
    *,
    key_condition: str,
    values: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
    index: str | None = None,
    forward: bool = True,
    filter_expression: str | None = None,
    page_size: int | None = None,
    consistent: bool = False,
    attributes: Sequence[str] = (),
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of a Query; the caller stops iterating when it has enough.
    ``attributes``: only these are returned (smaller pages, fewer of them)."""
    params: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeValues": {k: to_attr(v) for k, v in values.items()},
        "ScanIndexForward": forward,
    }
    if names:
        params["ExpressionAttributeNames"] = dict(names)
    if index:
        params["IndexName"] = index
    elif consistent:
        params["ConsistentRead"] = True
    if filter_expression:
        params["FilterExpression"] = filter_expression
    if page_size:
        params["Limit"] = page_size
    if attributes:
        projected = {f"#p{n}": name for n, name in enumerate(attributes)}
        params["ProjectionExpression"] = ", ".join(projected)
        params["ExpressionAttributeNames"] = {**params.get("ExpressionAttributeNames", {}), **projected}
    while True:
        answer = ddb().query(**params)
        yield [from_item(i) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        params["ExclusiveStartKey"] = last


@dataclass
class Transaction:
    """Collects writes and runs them as one TransactWriteItems.

    Each action may carry a ``failure``: the error raised when that action's
    condition is what cancelled the transaction (e.g. AlreadyExistsError for a
    uniqueness item). Reasons come back in action order, so we can tell which.
    """

    actions: list[dict[str, Any]] = field(default_factory=list)
    failures: list[DialtoneError | None] = field(default_factory=list)

    def put(self, table: str, item: Mapping[str, Any], *, condition: str | None = None,
            values: Mapping[str, Any] | None = None, names: Mapping[str, str] | None = None,
            failure: DialtoneError | None = None) -> "Transaction":
        action: dict[str, Any] = {"TableName": table, "Item": to_item(item)}
        self._add("Put", action, condition, values, names, failure)
        return self

    def update(self, table: str, key: Mapping[str, Any], expression: str, *,
               condition: str | None = None, values: Mapping[str, Any] | None = None,
               names: Mapping[str, str] | None = None,
               failure: DialtoneError | None = None) -> "Transaction":
        action: dict[str, Any] = {"TableName": table, "Key": to_item(key), "UpdateExpression": expression}
        self._add("Update", action, condition, values, names, failure)
        return self

    def delete(self, table: str, key: Mapping[str, Any], *, condition: str | None = None,
               values: Mapping[str, Any] | None = None, names: Mapping[str, str] | None = None,
               failure: DialtoneError | None = None) -> "Transaction":
        action: dict[str, Any] = {"TableName": table, "Key": to_item(key)}
        self._add("Delete", action, condition, values, names, failure)
        return self

    def check(self, table: str, key: Mapping[str, Any], condition: str, *,
              values: Mapping[str, Any] | None = None, names: Mapping[str, str] | None = None,
              failure: DialtoneError | None = None) -> "Transaction":
        action: dict[str, Any] = {"TableName": table, "Key": to_item(key)}
        self._add("ConditionCheck", action, condition, values, names, failure)
        return self

    def _add(self, verb: str, action: dict[str, Any], condition: str | None,
             values: Mapping[str, Any] | None, names: Mapping[str, str] | None,
             failure: DialtoneError | None) -> None:
        if condition:
            action["ConditionExpression"] = condition
        if values:
            action["ExpressionAttributeValues"] = {k: to_attr(v) for k, v in values.items()}
        if names:
            action["ExpressionAttributeNames"] = dict(names)
        self.actions.append({verb: action})
        self.failures.append(failure)

    def __len__(self) -> int:
        return len(self.actions)

    def execute(self, *, token: str | None = None) -> None:
        if not self.actions:
            return
        if len(self.actions) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(self.actions)} actions exceed one transaction")
        if len(self.actions) == 1 and token is None:
            _execute_single(self.actions[0], self.failures[0])
            return
        params: dict[str, Any] = {"TransactItems": self.actions}
        if token:
            params["ClientRequestToken"] = token
        try:
            ddb().transact_write_items(**params)
        except ddb().exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons") or []
            for reason, failure in zip(reasons, self.failures):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise (failure or ConcurrentUpdateError("a condition of the write no longer holds")) from None
            if any(r.get("Code") == "TransactionConflict" for r in reasons):
                raise ConcurrentUpdateError("a concurrent transaction touched the same items") from None
            raise


def execute_reporting(tx: Transaction) -> list[int]:
    """Run ``tx``; instead of raising when conditions fail, return the indexes
    of the actions whose condition failed (empty: it was written). Used where a
    lost race on some items is expected and the caller re-plans around them."""
    if not tx.actions:
        return []
    try:
        ddb().transact_write_items(TransactItems=tx.actions)
    except ddb().exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons") or []
        failed = [n for n, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
        if failed:
            return failed
        if any(r.get("Code") == "TransactionConflict" for r in reasons):
            raise ConcurrentUpdateError("a concurrent transaction touched the same items") from None
        raise
    return []


def _execute_single(action: dict[str, Any], failure: DialtoneError | None) -> None:
    # One action needs no transaction: a plain conditional write costs half.
    (verb, params), = action.items()
    call = {"Put": ddb().put_item, "Update": ddb().update_item,
            "Delete": ddb().delete_item}.get(verb)
    try:
        if call is None:  # a lone ConditionCheck: read and test instead
            raise ValueError("a transaction of one ConditionCheck does nothing")
        call(**params)
    except ddb().exceptions.ConditionalCheckFailedException:
        raise (failure or ConcurrentUpdateError("a condition of the write no longer holds")) from None


def unique_violation(field_name: str, value: str) -> AlreadyExistsError:
    return AlreadyExistsError(f"{field_name} '{value}' is already in use", field=field_name)

"""The CDR pipeline's I/O floor: the AWS requests it made, replayed with
nothing between them (bench_cdrs).

``RequestLog`` records, in the pipeline's process, every S3 / DynamoDB / SQS
request: its operation, what a replay needs (a read's parameters; a write's
item count and bytes), and how many of that operation were in flight at
once. ``replay`` then makes the same number of each request, operation by
operation, at the pipeline's concurrency for it, against the same emulators:
reads with the same parameters (the inbox object's ranged GETs against a
fresh copy of it), writes of the same size under other keys (S3 PUTs of the
same byte counts, BatchWriteItem of as many items of the same size,
TransactWriteItems of as many puts, single writes as PutItem). The pipeline
cannot be faster than this on these emulators; its time over the floor's is
what it adds (compute, and waiting it does not overlap).
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

READS = {"GetItem", "Query", "BatchGetItem", "Scan", "GetObject", "ListObjectsV2", "HeadObject", "ListObjects"}


def _body_size(body: Any) -> int:
    if body is None:
        return 0
    if isinstance(body, (bytes, bytearray, memoryview)):
        return len(body)
    if hasattr(body, "fileno"):
        try:
            return os.fstat(body.fileno()).st_size - body.tell()
        except (OSError, ValueError):
            pass
    return 0


class RequestLog:
    """Every request the process's clients make (register once per client)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.in_flight: dict[str, int] = defaultdict(int)
        self.width: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def register(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"provide-client-params.{service}", self._params)
        client.meta.events.register(f"before-call.{service}", self._began)
        client.meta.events.register(f"after-call.{service}", self._ended)

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        op = f"{model.service_model.service_name}.{model.name}"
        entry: dict[str, Any] = {"op": op}
        name = model.name
        if name in READS:
            entry["params"] = {k: v for k, v in params.items()}
        elif name == "PutObject":
            entry["bytes"] = _body_size(params.get("Body"))
        elif name == "BatchWriteItem":
            requests = [r for rs in params["RequestItems"].values() for r in rs]
            entry["items"] = len(requests)
            entry["bytes"] = len(json.dumps(requests, default=str))
        elif name == "TransactWriteItems":
            entry["items"] = len(params["TransactItems"])
            entry["bytes"] = len(json.dumps(params["TransactItems"], default=str))
        elif name in ("SendMessageBatch", "SendMessage"):
            entry["items"] = len(params.get("Entries", [1]))
        with self._lock:
            self.entries.append(entry)

    def _began(self, model: Any, **_: Any) -> None:
        op = f"{model.service_model.service_name}.{model.name}"
        with self._lock:
            self.in_flight[op] += 1
            self.width[op] = max(self.width[op], self.in_flight[op])

    def _ended(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.in_flight[f"{model.service_model.service_name}.{model.name}"] -= 1

    def dump(self) -> dict[str, Any]:
        return {"entries": self.entries, "width": dict(self.width)}


def counts(log: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for entry in log["entries"]:
        found[entry["op"]] += 1
    return dict(sorted(found.items()))


def replay(log: dict[str, Any], *, inbox_key: str, floor_key: str, tag: str) -> dict[str, float]:
    """Seconds per operation to make the logged requests again (see the module's
    doc). ``inbox_key``: the object the pipeline read, now gone; its reads go
    to ``floor_key``, a copy of it. ``tag``: makes the floor's keys unique."""
    from chalicelib import settings
    from chalicelib.store import clients

    s3, ddb = clients.client("s3"), clients.client("dynamodb")
    bucket, table = settings.blob_bucket(), settings.main_table()
    by_op: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in log["entries"]:
        by_op[entry["op"]].append(entry)
    counter = iter(range(10**9))
    lock = threading.Lock()

    def key() -> str:
        with lock:
            return f"FLOOR#{tag}#{next(counter)}"

    def pad(size: int) -> dict[str, Any]:
        return {"S": "x" * max(1, size)}

    def read(entry: dict[str, Any]) -> None:
        params = dict(entry["params"])
        service, name = entry["op"].split(".")
        if params.get("Key") == inbox_key:
            params["Key"] = floor_key
        call = getattr(s3 if service == "s3" else ddb, _snake(name))
        answer = call(**params)
        if name == "GetObject":
            answer["Body"].read()

    def put_object(entry: dict[str, Any]) -> None:
        s3.put_object(Bucket=bucket, Key=f"floor/{key()}", Body=os.urandom(entry["bytes"]))

    def batch_write(entry: dict[str, Any]) -> None:
        size = entry["bytes"] // max(entry["items"], 1)
        request = {table: [{"PutRequest": {"Item": {"PK": {"S": key()}, "SK": {"S": "0"}, "pad": pad(size - 60)}}}
                           for _ in range(entry["items"])]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    def transact(entry: dict[str, Any]) -> None:
        size = entry["bytes"] // max(entry["items"], 1)
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"PK": {"S": key()}, "SK": {"S": "0"}, "pad": pad(size - 120)},
                     "ConditionExpression": "attribute_not_exists(PK)"}} for _ in range(entry["items"])])

    def single_write(entry: dict[str, Any]) -> None:
        ddb.put_item(TableName=table, Item={"PK": {"S": key()}, "SK": {"S": "0"}, "pad": pad(200)})

    def other(entry: dict[str, Any]) -> None:
        if entry["op"] == "s3.DeleteObject":
            s3.delete_object(Bucket=bucket, Key=f"floor/{key()}")
        elif entry["op"].startswith("sqs."):
            pass  # no queue is replayed: the bench's files are one part (SQS would be counted, not timed)
        else:
            single_write(entry)

    actions: dict[str, Callable[[dict[str, Any]], None]] = {
        "s3.PutObject": put_object, "dynamodb.BatchWriteItem": batch_write,
        "dynamodb.TransactWriteItems": transact, "dynamodb.PutItem": single_write,
        "dynamodb.UpdateItem": single_write, "dynamodb.DeleteItem": single_write}
    seconds: dict[str, float] = {}
    for op, entries in sorted(by_op.items()):
        action = read if "params" in entries[0] else actions.get(op, other)
        width = max(1, log["width"].get(op, 1))
        began = time.perf_counter()
        if width == 1:
            for entry in entries:
                action(entry)
        else:
            with ThreadPoolExecutor(max_workers=width) as pool:
                list(pool.map(action, entries))
        seconds[op] = round(time.perf_counter() - began, 3)
    return seconds


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")

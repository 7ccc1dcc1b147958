"""What a million of something costs on AWS, from what the bench counted.

List prices, us-east-1, on-demand, as published on 2026-12-07 (unchanged
since DynamoDB on-demand's cut of 2024-11-01; re-check before quoting):

- Lambda, x86_64 (infra/package.py builds manylinux x86_64 wheels; arm64
  would be $0.0000133334/GB-s): $0.0000166667 per GB-second, $0.20 per
  million requests; billed per 1 ms.
- API Gateway REST API: $3.50 per million requests (first 333 M a month).
- DynamoDB on-demand, Standard table class: $0.625 per million write request
  units (1 KB; 2 per KB in a transaction), $0.125 per million read request
  units (4 KB strongly consistent, half that eventually consistent; 2 in a
  transaction). Units are measured, not estimated: ``Meter`` asks every
  DynamoDB request for ReturnConsumedCapacity=TOTAL and adds up the answers.
- S3 Standard: $0.005 per 1,000 PUT, COPY, POST and LIST requests; $0.0004
  per 1,000 GET, HEAD and other requests; DELETE free. (Storage is not a
  per-call cost and is left out.)
- SQS standard queue: $0.40 per million requests (each 64 KB of a payload is
  a request).

Free tiers are left out: the figures are what volume costs.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, Mapping

PRICES_AS_OF = "2026-12-07"
PRICES = {
    "lambda_gb_second": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
    "api_gateway_rest_request": 3.50 / 1e6,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "s3_put_class": 0.005 / 1000,
    "s3_get_class": 0.0004 / 1000,
    "sqs_request": 0.40 / 1e6,
}
S3_PUT_CLASS = {"PutObject", "PutObjectTagging", "CopyObject", "PostObject", "ListObjects", "ListObjectsV2",
                "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "ListMultipartUploads", "ListParts"}
S3_FREE = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload"}
_CAPACITY_OPS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                 "BatchWriteItem", "TransactWriteItems", "TransactGetItems"}
_WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class Meter:
    """Counts requests per operation and DynamoDB capacity units, for the
    clients it is registered on (``register(client)``)."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = defaultdict(int)
        self.read_units = 0.0
        self.write_units = 0.0
        self._lock = threading.Lock()

    def register(self, client: Any) -> "Meter":
        service = client.meta.service_model.service_name
        if service == "dynamodb":
            client.meta.events.register("provide-client-params.dynamodb", self._ask_capacity)
        client.meta.events.register(f"after-call.{service}", self._seen)
        return self

    def unregister(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.unregister("provide-client-params.dynamodb", self._ask_capacity)
        client.meta.events.unregister(f"after-call.{service}", self._seen)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.read_units = self.write_units = 0.0

    @staticmethod
    def _ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in _CAPACITY_OPS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _seen(self, model: Any, parsed: Mapping[str, Any] | None = None, **_: Any) -> None:
        service, name = model.service_model.service_name, model.name
        units = 0.0
        consumed = (parsed or {}).get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            units += float(entry.get("CapacityUnits", 0.0))
        with self._lock:
            self.requests[f"{service}.{name}"] += 1
            if name in _WRITE_OPS:
                self.write_units += units
            else:
                self.read_units += units

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(sorted(self.requests.items())), "read_units": round(self.read_units, 2),
                    "write_units": round(self.write_units, 2)}


def dollars(usage: Mapping[str, Any], *, lambda_seconds: float, memory_mb: int, invocations: float,
            api_requests: float = 0.0, scale: float = 1.0) -> dict[str, float]:
    """The cost of ``usage`` (a Meter snapshot) plus the Lambda time and the
    API Gateway requests, times ``scale``, in dollars per line item and total."""
    s3_put = s3_get = sqs = 0
    for op, n in usage["requests"].items():
        service, name = op.split(".", 1)
        if service == "s3" and name not in S3_FREE:
            if name in S3_PUT_CLASS:
                s3_put += n
            else:
                s3_get += n
        elif service == "sqs":
            sqs += n
    lines = {
        "lambda_compute": lambda_seconds * memory_mb / 1024 * PRICES["lambda_gb_second"],
        "lambda_requests": invocations * PRICES["lambda_request"],
        "api_gateway": api_requests * PRICES["api_gateway_rest_request"],
        "dynamodb_writes": usage["write_units"] * PRICES["dynamodb_write_unit"],
        "dynamodb_reads": usage["read_units"] * PRICES["dynamodb_read_unit"],
        "s3_put_list": s3_put * PRICES["s3_put_class"],
        "s3_get_head": s3_get * PRICES["s3_get_class"],
        "sqs": sqs * PRICES["sqs_request"],
    }
    scaled = {k: round(v * scale, 4) for k, v in lines.items() if v}
    scaled["total"] = round(sum(lines.values()) * scale, 4)
    return scaled


def api_call_figure(surface: str, call: str, *, usage: Mapping[str, Any], ms: float,
                    memory_mb: int = 1024) -> dict[str, Any]:
    """A bench result: dollars per million of one API call (usage and time of one call)."""
    billed_ms = float(int(ms) + (ms > int(ms)))  # Lambda bills whole milliseconds, rounded up
    cost = dollars(usage, lambda_seconds=billed_ms / 1000, memory_mb=memory_mb, invocations=1, api_requests=1,
                   scale=1e6)
    return {"name": f"AWS cost per million API calls, {surface}: {call} ($)", "value": cost["total"],
            "target": "reported", "ok": True,
            "detail": {"per_million": cost, "one_call": {**usage, "lambda_ms": round(ms, 2), "memory_mb": memory_mb},
                       "prices": PRICES, "prices_as_of": PRICES_AS_OF, "region": "us-east-1", "arch": "x86_64",
                       "lambda_ms_measured": "in-process on this machine, warm; API Gateway's own latency not billed"}}


def lambda_memory(function: str | None = None) -> int:
    """The memory a function is deployed with (.chalice/config.json, prod stage,
    then the top level)."""
    import json
    from pathlib import Path

    config = json.loads((Path(__file__).resolve().parents[1] / ".chalice" / "config.json").read_text())
    stage = config.get("stages", {}).get("prod", {})
    for scope in (stage.get("lambda_functions", {}).get(function or "", {}), stage,
                  config.get("lambda_functions", {}).get(function or "", {}), config):
        if "lambda_memory_size" in scope:
            return int(scope["lambda_memory_size"])
    return 128


REPEAT = 20  # timed calls per API cost figure
SMOKE = {"REPEAT": 2}


def measure_call(call: Any, *, repeat: int | None = None) -> tuple[dict[str, Any], float]:
    """One in-process API call's AWS usage (metered on the process's clients,
    warm) and its median milliseconds over ``repeat`` calls (unmetered).
    Run with os.environ pointed at the runtime."""
    import statistics
    import time

    from chalicelib.store.clients import client

    made = [client(service) for service in ("dynamodb", "s3", "sqs")]
    meter = Meter()
    for each in made:
        meter.register(each)
    try:
        call()
        call()
        meter.reset()
        call()
        usage = meter.snapshot()
    finally:
        for each in made:
            meter.unregister(each)
    times = []
    for _ in range(REPEAT if repeat is None else repeat):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return usage, statistics.median(times) * 1000

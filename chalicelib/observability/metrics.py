"""Business events as CloudWatch embedded metric format (EMF) documents
(docs/operations.md, "Metrics").

Services count events where they happen (``count("OrdersProcessed",
Outcome="complete")``); the invocation's wrapper (chalicelib/observability/
invocations.py) flushes once at its end: one JSON document per dimension set,
one line each on stdout. On Lambda, CloudWatch Logs turns each into metric
data points with no API call on the request path; locally they are lines in
the runtime's logs.

Namespace ``Dialtone``; every metric has the dimension ``Stage`` plus those
its call names (``Outcome``, ``Consumer``, ``Surface``), and unit Count.
Counts of one invocation are summed per metric and dimension set before
the flush, so a batch of 10 orders is one value 10, not ten documents.
"""
from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, TextIO

from chalicelib import clock

NAMESPACE = "Dialtone"
UNIT = "Count"
# EMF allows at most 100 metrics per document.
MAX_METRICS = 100

_lock = threading.Lock()
# (("Outcome", "complete"), ...) -> metric name -> sum
_pending: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Add ``value`` to metric ``name`` under ``dimensions`` (besides Stage)."""
    if not value:
        return
    key = tuple(sorted((k, str(v)) for k, v in dimensions.items()))
    with _lock:
        metrics = _pending.setdefault(key, {})
        metrics[name] = metrics.get(name, 0) + value


def pending() -> dict[tuple[tuple[str, str], ...], dict[str, float]]:
    """What the next flush would write (tests)."""
    with _lock:
        return {key: dict(values) for key, values in _pending.items()}


def discard() -> None:
    with _lock:
        _pending.clear()


def flush(stream: TextIO | None = None) -> list[dict[str, Any]]:
    """Write the pending counts as EMF lines and forget them; returns the documents."""
    with _lock:
        taken = dict(_pending)
        _pending.clear()
    stamp = clock.wall_ms()  # not the frozen clock: CloudWatch would drop a point stamped in the past
    documents = []
    for key, values in taken.items():
        names = sorted(values)
        for start in range(0, len(names), MAX_METRICS):
            documents.append(document(dict(key), {n: values[n] for n in names[start:start + MAX_METRICS]}, stamp))
    if documents:
        out = stream or sys.stdout
        out.write("".join(json.dumps(d, separators=(",", ":")) + "\n" for d in documents))
        out.flush()
    return documents


def document(dimensions: dict[str, str], values: dict[str, float], timestamp_ms: int) -> dict[str, Any]:
    """One EMF document: the ``_aws`` metadata, then each dimension and metric
    as a top-level member (https://docs.aws.amazon.com/AmazonCloudWatch/latest/
    monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)."""
    every = {"Stage": os.environ.get("DIALTONE_STAGE", "dev"), **dimensions}
    return {
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": [list(every)],
            "Metrics": [{"Name": name, "Unit": UNIT} for name in values],
        }]},
        **every,
        **{name: _number(value) for name, value in values.items()},
    }


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value

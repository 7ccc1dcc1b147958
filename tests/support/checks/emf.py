"""The CloudWatch embedded metric format, checked as its specification
states it (CloudWatch_Embedded_Metric_Format_Specification): what a test
asserts of every document chalicelib/observability/metrics.py writes."""
from __future__ import annotations

import json
from typing import Any

UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
         "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
         "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
         "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}


def check(document: dict[str, Any]) -> None:
    """Raise AssertionError unless ``document`` is a valid EMF document."""
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 1_500_000_000_000, meta
    directives = meta["CloudWatchMetrics"]
    assert isinstance(directives, list) and directives
    for directive in directives:
        assert isinstance(directive["Namespace"], str) and 1 <= len(directive["Namespace"]) <= 1024
        assert isinstance(directive["Dimensions"], list)
        for dimension_set in directive["Dimensions"]:
            assert isinstance(dimension_set, list) and len(dimension_set) <= 30
            for name in dimension_set:
                # Each dimension is a member of the root holding a string value.
                assert isinstance(document[name], str) and document[name], name
        metrics = directive["Metrics"]
        assert isinstance(metrics, list) and 1 <= len(metrics) <= 100
        for metric in metrics:
            assert isinstance(metric["Name"], str) and 1 <= len(metric["Name"]) <= 1024
            assert metric.get("Unit", "None") in UNITS
            value = document[metric["Name"]]  # each metric's value is a member of the root
            values = value if isinstance(value, list) else [value]
            assert values and len(values) <= 100
            assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values), metric


def documents(text: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines of ``text`` (each one checked)."""
    found = []
    for line in text.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            check(document)
            found.append(document)
    return found


def totals(found: list[dict[str, Any]]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(metric, its dimensions but Stage) -> summed value, over ``found``."""
    summed: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for document in found:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            names = [n for dimension_set in directive["Dimensions"] for n in dimension_set if n != "Stage"]
            dimensions = tuple(sorted((n, document[n]) for n in set(names)))
            for metric in directive["Metrics"]:
                key = (metric["Name"], dimensions)
                summed[key] = summed.get(key, 0) + document[metric["Name"]]
    return summed

"""Canned AWS events (tests/events/*.json): the payloads Lambda really hands
the app, loaded by the tests of the handlers that receive them.

A ``${name}`` in any string of a file (an SQS body, an S3 key) is filled in
from the values a test passes, so a canned batch can name the test's own
tenant; the rest of the event stays as AWS sends it (``md5OfBody`` is of the
file's text, which no handler checks).
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from string import Template
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str, **values: Any) -> dict[str, Any]:
    """tests/events/<name>.json with its ``${...}`` placeholders filled in."""
    return _fill(json.loads((EVENTS / f"{name}.json").read_text()), {k: str(v) for k, v in values.items()})


def sqs_event(*bodies: Any, like: str = "sqs_orders") -> dict[str, Any]:
    """An SQS batch of ``bodies`` (dicts are sent as JSON), each record shaped
    like the first of canned batch ``like``, with a message id of its own."""
    template = load(like)["Records"][0]
    return {"Records": [{**template, "messageId": str(uuid.uuid4()),
                         "body": body if isinstance(body, str) else json.dumps(body)} for body in bodies]}


def message_ids(event: dict[str, Any]) -> list[str]:
    return [record["messageId"] for record in event["Records"]]


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return Template(value).safe_substitute(values) if "${" in value else value
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value

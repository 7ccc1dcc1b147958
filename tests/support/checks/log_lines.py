"""The app's log lines as the root logger's handler writes them on Lambda
(JSON, redacted), captured for a test."""
from __future__ import annotations

import contextlib
import io
import json
import logging
from typing import Any, Iterator


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def text(self) -> str:
        return self.stream.getvalue()


@contextlib.contextmanager
def captured() -> Iterator[Captured]:
    from chalicelib.auth.redaction import RedactingFilter
    from chalicelib.observability.logs import JsonFormatter

    found = Captured()
    handler = logging.StreamHandler(found.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root, app_logger = logging.getLogger(), logging.getLogger("chalicelib")
    saved = app_logger.level
    app_logger.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield found
    finally:
        root.removeHandler(handler)
        app_logger.setLevel(saved)

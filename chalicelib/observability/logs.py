"""One JSON object per log line (docs/operations.md, "Logs").

Fields: ``timestamp`` (UTC, milliseconds), ``level``, ``message``,
``service`` (dialtone), ``stage``, ``surface``, ``function`` (the Lambda
handler), ``correlation_id`` and ``request_id`` (chalicelib/observability/
correlation.py), ``logger`` and ``location`` (module.function:line of the
call), anything passed as ``extra=`` (Lambda's filter adds ``aws_request_id``,
the invocation's id), and ``exception`` with its traceback.
CloudWatch Logs Insights reads the fields without a parse step.

Every text that reaches a line goes through chalicelib/auth/redaction.py
first: the message, the traceback and string extras are redacted before
they are JSON-encoded (once encoded, a quoted ``"password": "..."`` would be
escaped past the redactor's patterns).

A stdlib formatter rather than Powertools' Logger: Powertools imports
botocore at import time and adds ~60-200 ms to a cold start (README,
"Dependencies"); this costs nothing beyond modules the app already loads.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from typing import Any

from chalicelib.auth import redaction
from chalicelib.auth.redaction import redact
from chalicelib.observability import correlation

SERVICE = "dialtone"
# Where Dialtone's own records come from; their level is LOG_LEVEL (default
# INFO). Libraries keep the root logger's (WARNING): botocore and fontTools
# say a lot at INFO.
APP_LOGGERS = ("chalicelib", "app", "infra")
# LogRecord's own attributes: everything else on a record came as ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _redacted(value: Any) -> Any:
    """An extra as it may be written: strings redacted, and so are the strings
    inside lists and dicts, and a whole number that reads as a card number
    (an int is written as digits, which the redactor would not see)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        digits = str(value)
        return value if redact(digits) == digits else redact(digits)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, *, terminator: str = "") -> None:
        super().__init__()
        # A StreamHandler ends each line itself; Lambda's handler writes what
        # the formatter gives (its own format ends in a newline).
        self.terminator = terminator

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "message": redact(_message(record)),
            "service": SERVICE,
            "stage": os.environ.get("DIALTONE_STAGE", "dev"),
        }
        found = correlation.current()
        if found is not None:
            entry.update(surface=found.surface, function=found.function, correlation_id=found.correlation_id)
            if found.request_id:
                entry["request_id"] = found.request_id
        entry.update(logger=record.name, location=f"{record.module}.{record.funcName}:{record.lineno}")
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry and value not in (None, ""):
                entry[name] = _redacted(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, default=str, separators=(",", ":"), ensure_ascii=False) + self.terminator


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad format string must not lose the line
        return f"{record.msg} {record.args}"


def _level() -> int | str:
    named = os.environ.get("LOG_LEVEL", "INFO").upper()
    return named if isinstance(logging.getLevelName(named), int) else logging.INFO


def configure(*loggers: logging.Logger) -> None:
    """JSON lines and redaction on the handlers of the root logger and of
    ``loggers`` (Chalice's app.log writes through its own). Idempotent.

    Only a handler with the default formatter is switched to JSON: Lambda's
    and ``logging.basicConfig``'s have it; a handler whose owner chose a
    format (pytest's log capture) keeps it."""
    for logger in (logging.getLogger(), *loggers):
        for handler in logger.handlers:
            if handler.formatter is None or type(handler.formatter) is logging.Formatter:
                streamed = isinstance(handler, logging.StreamHandler)
                handler.setFormatter(JsonFormatter(terminator="" if streamed else "\n"))
    redaction.install(*loggers)
    level = _level()
    for name in APP_LOGGERS:
        app_logger = logging.getLogger(name)
        if app_logger.level == logging.NOTSET:
            app_logger.setLevel(level)

"""Which request or message a log line belongs to.

An invocation (an HTTP request, one SQS message, a scheduled run) opens a
``scope`` naming its correlation id, the surface and the function; every log
line written inside it carries them (chalicelib/observability/logs.py), and
every SQS message published inside it carries the correlation id as the
message attribute ``correlationId`` (chalicelib/store/queues.py), so the
worker that takes the message logs under the id of the request that sent it.

A context variable, not a global: the local API server serves each
connection on its own thread, and the pump runs every consumer in one process.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

# The SQS message attribute carrying the id from publisher to consumer.
ATTRIBUTE = "correlationId"
# Request headers a caller may name its own id in (the first one given wins),
# in lower case as API Gateway's and Chalice's header maps compare them.
HEADERS = ("x-request-id", "x-correlation-id")
# A caller's id goes into every log line of the request: letters, digits and a
# few separators only (no spaces, quotes or newlines to forge a log line with),
# short enough for a header and a message attribute.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")


@dataclass(frozen=True)
class Scope:
    correlation_id: str
    surface: str  # an API surface (carrier, backend, ...), or queue, schedule, logs, admin
    function: str  # the Lambda function's handler (api_handler, order_worker, ...)
    request_id: str | None = None  # API Gateway's request id, the SQS message id, the event id


_current: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("observability_scope", default=None)


def current() -> Scope | None:
    return _current.get()


def correlation_id() -> str | None:
    found = _current.get()
    return found.correlation_id if found else None


@contextlib.contextmanager
def scope(*, correlation_id: str, surface: str, function: str, request_id: str | None = None) -> Iterator[Scope]:
    opened = Scope(correlation_id, surface, function, request_id)
    token = _current.set(opened)
    try:
        yield opened
    finally:
        _current.reset(token)


@contextlib.contextmanager
def continued(found: str | None) -> Iterator[Scope | None]:
    """Within the current scope, the work of an earlier request whose id
    ``found`` was carried some other way than a message attribute (a CDR
    file's object metadata): that id until the block ends. Nothing changes
    without an acceptable id or an open scope."""
    outer, chosen = _current.get(), acceptable(found)
    if outer is None or chosen is None:
        yield outer
        return
    with scope(correlation_id=chosen, surface=outer.surface, function=outer.function,
               request_id=outer.request_id) as opened:
        yield opened


def acceptable(value: Any) -> str | None:
    """``value`` if it may serve as a correlation id, else None."""
    text = str(value).strip() if value is not None else ""
    return text if _ACCEPTABLE.fullmatch(text) else None


def from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The caller's own id, if it sent an acceptable one."""
    for name in HEADERS:
        found = acceptable((headers or {}).get(name))
        if found:
            return found
    return None


def from_record(record: Mapping[str, Any]) -> str | None:
    """The id a publisher put on an SQS record (Lambda's event shape)."""
    attribute = (record.get("messageAttributes") or {}).get(ATTRIBUTE) or {}
    return acceptable(attribute.get("stringValue")) if isinstance(attribute, Mapping) else None


def message_attributes() -> dict[str, str]:
    """What a message published now carries: the current correlation id, if any."""
    found = correlation_id()
    return {ATTRIBUTE: found} if found else {}

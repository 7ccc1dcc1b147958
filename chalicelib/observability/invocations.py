"""Where an invocation's scope opens and its metrics are flushed: the HTTP
middleware (every API request, app.py) and ``handler`` (every event handler,
chalicelib/workers). The SQS loop opens one scope per message inside
(chalicelib/workers/batch.py).

A request's correlation id is the caller's ``X-Request-Id`` (or
``X-Correlation-Id``) when acceptable, else API Gateway's request id; the
answer carries it back as ``X-Request-Id`` (and as ``X-Correlation-Id`` when
the caller named it so). One line per request says what was answered: the
route template (never the filled path or query string, where identifiers
and the carrier API's token travel), the status and the time taken.
"""
from __future__ import annotations

import functools
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from chalicelib.observability import correlation, metrics

if TYPE_CHECKING:  # only the API's middleware sees them; this package stays free of Chalice
    from chalice import Response
    from chalice.app import Request

_log = logging.getLogger(__name__)
# Chalice's name for the REST API's handler; like the event functions' names,
# the same on every stage (the stage is a field of its own).
API_FUNCTION = "api_handler"
Handler = TypeVar("Handler", bound=Callable[..., Any])


def surface_of(request: Request) -> str:
    """The surface the request's path is under (without the stage API Gateway
    puts in front): the package of its surface's errors module
    (chalicelib/api/http/guard.py), else the path's first segment."""
    from chalicelib.api.http import guard

    path = guard.path_of(request)
    mount = guard.mount_of(path)
    if mount is not None:
        return mount.errors.split(".")[2]
    return path.strip("/").split("/", 1)[0] or "root"


def http_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    context = request.context
    # API Gateway always sets it; the local server and hand-built events may
    # not, and the audit record reads the same field (api/http/params.request_id).
    request_id = str(context.get("requestId") or uuid.uuid4())
    context["requestId"] = request_id
    headers: Mapping[str, str] = request.headers or {}
    chosen = correlation.from_headers(headers)
    route = str(context.get("resourcePath") or "/")
    started = time.perf_counter()
    with correlation.scope(correlation_id=chosen or request_id, surface=surface_of(request),
                           function=API_FUNCTION,
                           request_id=request_id) as opened:
        try:
            response = get_response(request)
        except Exception:
            # The guard answers every error; this is the last line of defence.
            metrics.count("ServerErrors", Surface=opened.surface)
            _log.exception("%s %s failed", request.method, route)
            metrics.flush()
            raise
        response.headers["X-Request-Id"] = opened.correlation_id
        if "x-correlation-id" in headers:
            response.headers["X-Correlation-Id"] = opened.correlation_id
        status = response.status_code
        if status >= 500:
            metrics.count("ServerErrors", Surface=opened.surface)
        _log.info("%s %s %s", request.method, route, status, extra={
            "method": request.method, "route": route, "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1)})
        metrics.flush()
    return response


def handler(function: str, surface: str) -> Callable[[Handler], Handler]:
    """Wraps an event handler (below Chalice's decorator): a scope for the
    invocation, under the event's id, and one metrics flush at its end."""

    def wrap(user_handler: Handler) -> Handler:
        @functools.wraps(user_handler)
        def invoke(event: Any, *args: Any) -> Any:
            ident = _event_id(event, args)
            started = time.perf_counter()
            with correlation.scope(correlation_id=ident, surface=surface, function=function, request_id=ident):
                try:
                    answer = user_handler(event, *args)
                except Exception:
                    # Lambda retries (or drops) the invocation; its own report is not JSON.
                    metrics.count("InvocationsFailed", Function=function)
                    _log.exception("%s failed", function)
                    raise
                else:
                    _log.info("%s finished", function, extra={"ms": round((time.perf_counter() - started) * 1000, 1)})
                    return answer
                finally:
                    metrics.flush()

        return invoke  # type: ignore[return-value]

    return wrap


def _event_id(event: Any, args: tuple[Any, ...]) -> str:
    """A schedule's EventBridge event id, else the Lambda invocation's request id."""
    found = getattr(event, "event_id", None)
    if found:
        return str(found)
    context = args[0] if args else getattr(event, "context", None)
    return str(getattr(context, "aws_request_id", None) or uuid.uuid4())

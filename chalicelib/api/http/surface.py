"""What every surface does around a handler: authenticate the caller, map
domain errors to the surface's envelope, write one audit record."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable

from chalice import Response
from chalice.app import Request

from chalicelib import clock
from chalicelib.api.http.params import request_id, source_ip
from chalicelib.api.http.render import gzip_if_accepted
from chalicelib.domain.errors import DialtoneError, ServiceUnavailableError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.common import audit
else:
    audit = lazy("chalicelib.services.common.audit")

_log = logging.getLogger(__name__)


def write_audit(request: Request, principal: Principal, status: int, surface: str, started: float) -> None:
    try:
        audit.record({
            "tenantId": principal.tenant_id,
            "at": clock.now_iso(),
            "requestId": request_id(request),
            "userId": principal.user_id,
            "username": principal.username,
            "surface": surface,
            "method": request.method,
            "path": request.context.get("path") or request.context.get("resourcePath"),
            "status": status,
            "sourceIp": source_ip(request),
            "touched": audit.touched(),
            "ms": int((time.perf_counter() - started) * 1000),
        })
    except Exception:  # the answer is already decided; a lost audit line is logged loudly
        _log.exception("audit record could not be written")


def unavailable(error: Exception) -> ServiceUnavailableError | None:
    """An AWS fault that survived botocore's retries (a throttle, a 5xx, a
    timeout) as the domain's ServiceUnavailableError, which every surface's
    table answers 503; None for any other error (a bug: 500)."""
    from chalicelib.store.clients import transient  # botocore, on this error path only

    if not transient(error):
        return None
    _log.warning("AWS unavailable after retries: %s: %s", type(error).__name__, error)
    return ServiceUnavailableError()


def retry_later(response: Response, error: DialtoneError) -> Response:
    """A 503 for a busy AWS says when to come back (RFC 9110 Retry-After)."""
    if isinstance(error, ServiceUnavailableError):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def unexpected(request: Request, error: Exception, *, envelope: Callable[[DialtoneError], Response],
               internal: Callable[[], Response]) -> Response:
    """The answer to an exception no handler expected, for every surface: an
    AWS fault that outlived botocore's retries is a 503 with Retry-After in the
    surface's envelope; anything else is a bug, logged, and the surface's 500.
    Called from the ``except`` block, so the log line has the traceback."""
    busy = unavailable(error)
    if busy is not None:
        return retry_later(envelope(busy), busy)
    _log.exception("unhandled error in %s %s", request.method, request.context.get("path"))
    return internal()


class Surface:
    """What differs between surfaces when serving a request: how the caller
    authenticates and how errors look. ``serve`` does the rest identically:
    audit context, error mapping, one audit record per authenticated request."""

    def __init__(self, name: str, *, authenticate: Callable[[Request], Principal],
                 error_response: Callable[[DialtoneError], Response], internal_error: Callable[[], Response]) -> None:
        self.name = name
        self.authenticate = authenticate
        self.error_response = error_response
        self.internal_error = internal_error

    def serve(self, request: Request, handler: Callable[[Principal, Request], Response]) -> Response:
        started = time.perf_counter()
        token = audit.begin()
        principal: Principal | None = None
        response: Response | None = None  # the 500 answer is built only when needed
        try:
            principal = self.authenticate(request)
            response = gzip_if_accepted(request, handler(principal, request))
        except DialtoneError as error:
            response = self.error_response(error)
        except Exception as error:
            response = unexpected(request, error, envelope=self.error_response, internal=self.internal_error)
        finally:
            # Requests that never authenticated have no tenant to log under.
            if principal is not None:
                status = response.status_code if response is not None else 500
                write_audit(request, principal, status, self.name, started)
            audit.end(token)
        return response

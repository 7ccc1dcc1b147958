"""Domain errors -> the call-tracking API's answers. One table: the only place
this surface decides status codes. The document lists 400, 401, 403, 404,
405 (and 500, 501, 503), so conflicts a client caused (a duplicate custnr, a
number already taken) are 400 naming the field, and refusals of a valid
request (no write permission, a customer with active tracking numbers, no
balance for a number) are 403 with the reason."""
from __future__ import annotations

from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.api.tracking import render
from chalicelib.domain import errors as e

TABLE: list[tuple[type[e.DialtoneError], int]] = [
    (e.AuthenticationError, 401),
    (e.FileTooLargeError, 400),
    (e.ValidationError, 400),
    (e.AlreadyExistsError, 400),
    (e.NumberUnavailableError, 400),
    (e.IdempotencyKeyReusedError, 400),
    (e.PermissionDeniedError, 403),
    (e.InsufficientFundsError, 403),
    (e.InvalidStateError, 403),
    (e.StorageQuotaExceededError, 403),
    (e.NotFoundError, 404),
    (e.TooManyAttemptsError, 429),
    (e.ConcurrentUpdateError, 503),
    (e.ServiceUnavailableError, 503),
]


class MethodNotAllowedError(e.DialtoneError):
    """The resource has no such method (or ``_method`` names one it lacks)."""

    def __init__(self, message: str, *, allow: list[str]) -> None:
        super().__init__(message, field="_method")
        self.allow = allow


class NotImplementedYetError(e.DialtoneError):
    """A method the document names that this installation does not offer."""


def _body(fmt: str, status: int, message: str, field: str | None, headers: dict[str, Any] | None = None) -> Response:
    item = {"status": str(status), "message": message, "field": field}
    return render.envelope(fmt, "errors", "error", [item], status=status, headers=headers)


def error_response(error: e.DialtoneError, fmt: str) -> Response:
    if isinstance(error, MethodNotAllowedError):
        return _body(fmt, 405, error.message, error.field, {"Allow": ", ".join(error.allow)})
    if isinstance(error, NotImplementedYetError):
        return _body(fmt, 501, error.message, error.field)
    for kind, status in TABLE:
        if isinstance(error, kind):
            if status == 401:
                return unauthorized(fmt, stale=bool(getattr(error, "stale", False)))
            if isinstance(error, e.TooManyAttemptsError):
                return _body(fmt, status, error.message, None, {"Retry-After": str(error.retry_after)})
            return _body(fmt, status, error.message, error.field)
    return internal_error(fmt)


def unauthorized(fmt: str, *, stale: bool = False) -> Response:
    """One answer for every authentication failure (unknown user, wrong
    password, disabled, no permission, replay, address not allowed), with a
    fresh challenge: it tells an attacker nothing about which it was."""
    from chalicelib.auth import digest

    return _body(fmt, 401, "authentication required; if your credentials are right, your IP address may not be "
                 "allowed", None, {"WWW-Authenticate": digest.challenges(stale=stale)})


def internal_error(fmt: str = render.JSON) -> Response:
    return _body(fmt, 500, "the request failed unexpectedly; it has been logged", None)


def refusal(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    """An unknown path, a method no route has (TRACE), a media type (api/http/guard.py), in the format asked for."""
    from chalicelib.api.tracking.dialect import accepted_format

    fmt = accepted_format(request)
    if status >= 500:
        return internal_error(fmt)
    return _body(fmt, status, message, None, headers)


def escaped(request: Request, error: e.DialtoneError) -> Response:
    from chalicelib.api.tracking.dialect import accepted_format

    return error_response(error, accepted_format(request))

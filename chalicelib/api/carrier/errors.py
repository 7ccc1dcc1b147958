"""Domain errors -> the carrier API's ``{"status": "<code>", "error": "..."}``.
One table: the only place this surface decides status codes. The seed answers
a bad parameter with HTTP 404 and "Invalid <parameter>"."""
from __future__ import annotations

from typing import Callable

from chalice import Response
from chalice.app import Request

from chalicelib.api.http import json_response
from chalicelib.domain import errors as e


class InvalidParameter(e.ValidationError):
    """A carrier parameter is missing or wrong: 'Invalid <parameter>'."""

    def __init__(self, parameter: str, detail: str | None = None) -> None:
        super().__init__(detail or f"Invalid {parameter}", field=parameter)


def _own(error: e.DialtoneError) -> str:
    return error.message


def _invalid_parameter(error: e.DialtoneError) -> str:
    if isinstance(error, InvalidParameter) or not error.field:
        return error.message
    return f"Invalid {error.field}"


# (error type, HTTP status, the "error" text), first match wins.
TABLE: list[tuple[type[e.DialtoneError], int, Callable[[e.DialtoneError], str]]] = [
    (e.AuthenticationError, 401, lambda error: "Invalid token"),
    (e.PermissionDeniedError, 403, _own),
    (e.ValidationError, 404, _invalid_parameter),
    (e.NotFoundError, 404, _invalid_parameter),
    (e.NumberUnavailableError, 404, _invalid_parameter),
    (e.PaymentDeclinedError, 402, _own),
    (e.InsufficientFundsError, 402, _own),
    (e.AlreadyExistsError, 409, _own),
    (e.ConcurrentUpdateError, 409, _own),
    (e.InvalidStateError, 409, _own),
    (e.IdempotencyKeyReusedError, 422, _own),
    (e.ServiceUnavailableError, 503, _own),
]


def error_body(status: int, message: str) -> Response:
    return json_response({"status": str(status), "error": message}, status)


def error_response(error: e.DialtoneError) -> Response:
    for kind, status, message in TABLE:
        if isinstance(error, kind):
            return error_body(status, message(error))
    return internal_error()


def internal_error() -> Response:
    return error_body(500, "Internal error")


def refusal(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    """An unknown path, a method the route lacks, a media type it does not take
    (api/http/guard.py): the same envelope as every other carrier error."""
    if status >= 500:
        return internal_error()
    return json_response({"status": str(status), "error": message}, status, headers)


def escaped(request: Request, error: e.DialtoneError) -> Response:
    return error_response(error)

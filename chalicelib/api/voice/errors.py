"""Domain errors -> the voice API's error body, in one table:
``{"status": 400, "error": "Bad Request", "message": "...", "pointer": "/verbs/0/say"}``
(``pointer``: a JSON pointer into the request body, or the parameter, when
one input is to blame). 401 answers carry ``WWW-Authenticate: Bearer`` (RFC 6750)."""
from __future__ import annotations

from chalice import Response
from chalice.app import Request

from chalicelib.api.http import json_response
from chalicelib.domain import errors as e

TABLE: list[tuple[str, int, str]] = [
    ("UnsupportedMediaTypeError", 415, "Unsupported Media Type"),
    ("TooManyAttemptsError", 429, "Too Many Requests"),
]
CLASSES: list[tuple[type[e.DialtoneError], int, str]] = [
    (e.ValidationError, 400, "Bad Request"),
    (e.AuthenticationError, 401, "Unauthorized"),
    (e.PermissionDeniedError, 403, "Forbidden"),
    (e.NotFoundError, 404, "Not Found"),
    (e.AlreadyExistsError, 409, "Conflict"),
    (e.ConcurrentUpdateError, 409, "Conflict"),
    (e.InvalidStateError, 409, "Conflict"),
    (e.InsufficientFundsError, 402, "Payment Required"),
    (e.FileTooLargeError, 413, "Payload Too Large"),
]


def status_of(error: e.DialtoneError) -> tuple[int, str]:
    names = {k.__name__ for k in type(error).__mro__}
    for name, status, title in TABLE:
        if name in names:
            return status, title
    for kind, status, title in CLASSES:
        if isinstance(error, kind):
            return status, title
    return 500, "Internal Server Error"


def error_response(error: e.DialtoneError) -> Response:
    status, title = status_of(error)
    if status == 500:
        return internal_error()
    body = {"status": status, "error": title, "message": error.message}
    if error.field and status in (400, 415):
        body["pointer"] = error.field
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="dialtone", error="invalid_token"'
    if status == 429:
        headers["Retry-After"] = str(getattr(error, "retry_after", 60))
    return json_response(body, status, headers)


def internal_error() -> Response:
    return json_response({"status": 500, "error": "Internal Server Error",
                          "message": "the request failed unexpectedly; it has been logged"}, 500)


def refusal(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    """An unknown path, a method the route lacks, a media type it does not take (api/http/guard.py)."""
    if status >= 500:
        return internal_error()
    titles = {404: "Not Found", 405: "Method Not Allowed", 415: "Unsupported Media Type", 429: "Too Many Requests"}
    return json_response({"status": status, "error": titles.get(status, "Bad Request"), "message": message},
                         status, headers)


def escaped(request: Request, error: e.DialtoneError) -> Response:
    return error_response(error)

"""Domain errors -> the partner API's envelope ``{"code": <status>, "error": ..., "message": ..., "field": ...}``.
One table: the only place this surface decides status codes (described in api/partner/openapi.py, served at
/partner/api/v1/openapi.json)."""
from __future__ import annotations

from chalice import Response
from chalice.app import Request

from chalicelib.api.http import json_response
from chalicelib.domain import errors as e

TABLE: list[tuple[type[e.DialtoneError], int, str]] = [
    (e.CaptchaFailedError, 400, "captcha_failed"),
    (e.LinkInvalidError, 400, "invalid_link"),
    (e.ValidationError, 400, "invalid_request"),
    (e.SourceNotAllowedError, 401, "not_authorised"),
    (e.AuthenticationError, 401, "not_authorised"),
    (e.InsufficientFundsError, 402, "insufficient_funds"),
    (e.PermissionDeniedError, 403, "permission_denied"),
    (e.NotFoundError, 404, "not_found"),
    (e.AlreadyExistsError, 409, "conflict"),
    (e.ConcurrentUpdateError, 409, "conflict"),
]


def error_response(error: e.DialtoneError) -> Response:
    for kind, status, name in TABLE:
        if isinstance(error, kind):
            return json_response({"code": status, "error": name, "message": error.message, "field": error.field},
                                 status)
    return internal_error()


def internal_error() -> Response:
    return json_response({"code": 500, "error": "internal_error", "message": "the request failed unexpectedly"}, 500)


_REFUSALS = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type",
             429: "too_many_requests"}


def refusal(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    """An unknown path, a method the route lacks, a media type it does not take (api/http/guard.py)."""
    if status >= 500:
        return internal_error()
    return json_response({"code": status, "error": _REFUSALS.get(status, "invalid_request"), "message": message,
                          "field": None}, status, headers)


def escaped(request: Request, error: e.DialtoneError) -> Response:
    return error_response(error)

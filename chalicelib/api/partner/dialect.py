"""The partner billing API's dialect (seed 001). The seed shows behaviour,
not paths; the paths are ours (docs/money.md; described at /partner/api/v1/openapi.json).

Credential: header ``token`` (an API key) from an address on the user's
allow-list (401 otherwise; a user with no allow-list has no partner access,
as the seed says: "you must list the IP from which the API request comes"). Every POST also needs ``google_captcha``.
Bodies are multipart/form-data or urlencoded forms, as the seed says; JSON is
accepted too. Answers are ``{"code": 200, "data": ...}``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.partner import errors
from chalicelib.auth import api_key
from chalicelib.domain.errors import DialtoneError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.adapters import captcha
else:
    captcha = lazy("chalicelib.adapters.captcha")

bp = Blueprint(__name__)
FORMS = ["multipart/form-data", "application/x-www-form-urlencoded", "application/json"]
Handler = Callable[[Principal, Request], Response]

SURFACE = http.Surface(
    "partner",
    authenticate=lambda request: api_key.authenticate(request.headers.get("token"), http.source_ip(request),
                                                      require_allowlist=True),
    error_response=errors.error_response,
    internal_error=errors.internal_error,
)


def serve(handler: Handler) -> Response:
    return SURFACE.serve(bp.current_request, handler)


def serve_public(handler: Callable[[Request], Response]) -> Response:
    # Link exchanges: the one-time code is the credential, there is no API key.
    try:
        return handler(bp.current_request)
    except DialtoneError as error:
        return errors.error_response(error)


def ok(data: Any) -> Response:
    return http.json_response({"code": 200, "data": data})


def form(request: Request) -> dict[str, str]:
    """Fields of a multipart/form-data, urlencoded or JSON body (text values only)."""
    raw = http.raw_bytes(request)
    if not raw.strip():
        return {}
    content_type = http.media_type(request)
    if content_type == http.MULTIPART:
        return {name: part.text() for name, part in http.multipart(request).items()}
    if content_type == http.JSON:
        return {k: str(v) for k, v in http.json_object(raw).items() if v is not None}
    return http.form(raw)


def require_captcha(request: Request, fields: dict[str, str]) -> None:
    captcha.require_captcha(fields.get("google_captcha"), http.source_ip(request))

"""The voice API's dialect: ``Authorization: Bearer <JWT>`` (auth.access_tokens),
JSON bodies only as application/json, form bodies only as
application/x-www-form-urlencoded, and the surface's ``serve`` (audit,
error mapping) shared with the other surfaces through ``http.Surface``."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.voice import errors
from chalicelib.auth import access_tokens
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.identity import Principal

bp = Blueprint(__name__)
Handler = Callable[[Principal, Request], Response]
# Chalice would answer a body of another type with its own 415 before the
# route runs; every type reaches the route, which answers in this surface's envelope.
ANY_BODY = ["*/*"]
MAX_BODY = 256 * 1024


class UnsupportedMediaTypeError(ValidationError):
    """The body is not of the media type the resource accepts (415)."""


def _authenticate(request: Request) -> Principal:
    return access_tokens.authenticate(request.headers.get("authorization"))


SURFACE = http.Surface("voice", authenticate=_authenticate, error_response=errors.error_response,
                       internal_error=errors.internal_error)
PUBLIC = http.Surface("voice", authenticate=lambda request: None,  # type: ignore[arg-type,return-value]
                      error_response=errors.error_response, internal_error=errors.internal_error)


def serve(handler: Handler) -> Response:
    return SURFACE.serve(bp.current_request, handler)


def serve_public(handler: Callable[[Request], Response]) -> Response:
    """Routes that need no token (the token endpoint, JWKS, OpenAPI); not audited per tenant."""
    return PUBLIC.serve(bp.current_request, lambda _principal, request: handler(request))


def _media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def json_body(request: Request) -> Any:
    """The body as JSON (any value: the domain says what shape it needs)."""
    if _media_type(request) != "application/json":
        raise UnsupportedMediaTypeError("the body must be application/json", field="Content-Type")
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY:
        raise ValidationError(f"the body is larger than {MAX_BODY} bytes", field="/")
    if not raw.strip():
        raise ValidationError("a JSON body is required", field="/")
    # The one body parser (depth limit, unpaired surrogates); any value, numbers as floats.
    return http.json_value(raw, field="/", decimals=False)


def form_body(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; a field given twice is refused."""
    if _media_type(request) != "application/x-www-form-urlencoded":
        raise UnsupportedMediaTypeError("the body must be application/x-www-form-urlencoded",
                                        field="Content-Type")
    raw = request.raw_body or b""
    if len(raw) > 16 * 1024:
        raise ValidationError("the body is too large", field="/")
    return http.form(raw, repeated=http.ONCE, max_fields=20, field="/")


def created(location: str, ident: str, extra: dict[str, Any] | None = None) -> Response:
    """201 with the new resource's id in the body and its URL in Location."""
    return http.json_response({"id": ident, **(extra or {})}, 201, headers={"Location": location})


def no_content() -> Response:
    return Response(body="", status_code=204, headers={})


def location(request: Request, *parts: str) -> str:
    # The path the client used (API Gateway's stage prefix included), plus the new id.
    path = request.context.get("path") or request.context.get("resourcePath") or ""
    return "/".join([path.rstrip("/"), *parts])


def page_params(request: Request, *, default: int = 100, maximum: int = 1000) -> tuple[int, int]:
    params = http.query(request)
    return (http.int_param(params, "limit", default=default, minimum=1, maximum=maximum),
            http.int_param(params, "offset", default=0, minimum=0, maximum=100_000))


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    # Public: it describes the surface and holds no tenant data.
    from chalicelib.api.voice.openapi import spec

    return serve_public(lambda request: http.json_response(spec()))

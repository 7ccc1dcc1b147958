"""The wholesale carrier API's dialect (seed 002), shared by its route modules.

- Every endpoint is ``/carrier/<name>`` and accepts GET or POST, with its
  parameters in the query string, a form body (urlencoded) or a JSON object.
- ``token`` (the caller's API key) and ``accountno`` (a customer's
  accountNumber, within the caller's scope) come with every call.
- Answers: ``{"status": "200", ...}`` with string values, and errors as
  ``{"status": "<code>", "error": "..."}``; a bad parameter is
  ``{"status": "404", "error": "Invalid <parameter>"}`` with HTTP 404, as the
  seed shows.
"""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import simplejson
from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.auth import api_key
from chalicelib.domain import errors as e
from chalicelib.domain.identity import Principal

bp = Blueprint(__name__)


class InvalidParameter(e.ValidationError):
    """A carrier parameter is missing or wrong: 'Invalid <parameter>'."""

    def __init__(self, parameter: str, detail: str | None = None) -> None:
        super().__init__(detail or f"Invalid {parameter}", field=parameter)


@dataclass(frozen=True)
class Call:
    """One carrier request, parsed: who, for which customer, with what."""

    principal: Principal
    customer: dict[str, Any]
    params: dict[str, str]
    request: Request
    files: dict[str, bytes] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name)
        return value if value not in (None, "") else default

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise InvalidParameter(name)
        return value


def parse_params(request: Request) -> dict[str, str]:
    """Query string, then the body (form or JSON) on top; values as strings."""
    return parse_request(request)[0]


MAX_MULTIPART_BYTES = 12 * 1024 * 1024


def parse_request(request: Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """Parameters as in ``parse_params``, and the files of a multipart body
    (app.py lists multipart/form-data as binary so API Gateway hands over bytes).
    Parsed once per request: authentication reads ``token`` from the same
    parameters the handler then uses."""
    parsed = getattr(request, "_carrier_parsed", None)
    if parsed is None:
        parsed = _parse_request(request)
        request._carrier_parsed = parsed  # type: ignore[attr-defined]
    return parsed


def _parse_request(request: Request) -> tuple[dict[str, str], dict[str, bytes]]:
    params: dict[str, str] = dict(request.query_params or {})
    raw = request.raw_body or b""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        fields, files = _multipart(request.headers.get("content-type") or "", raw)
        params.update(fields)
        return params, files
    if raw.strip():
        if content_type == "application/json" or raw.lstrip()[:1] == b"{":
            try:
                body = simplejson.loads(raw, use_decimal=True)
            except (ValueError, UnicodeDecodeError):
                raise InvalidParameter("body", "Invalid body") from None
            if not isinstance(body, dict):
                raise InvalidParameter("body", "Invalid body")
            params.update({k: _text(v) for k, v in body.items() if v is not None})
        elif content_type == "application/x-www-form-urlencoded" or not content_type:
            try:
                form = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError:
                raise InvalidParameter("body", "Invalid body") from None
            params.update({k: v[-1] for k, v in form.items()})
    return params, {}


def _multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    import io

    import python_multipart

    if len(raw) > MAX_MULTIPART_BYTES:
        raise InvalidParameter("body", "Invalid body")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}

    def on_field(part: Any) -> None:
        fields[part.field_name.decode()] = (part.value or b"").decode("utf-8", "replace")

    def on_file(part: Any) -> None:
        part.file_object.seek(0)
        files[part.field_name.decode()] = part.file_object.read()

    try:
        python_multipart.parse_form({"Content-Type": content_type.encode(), "Content-Length": str(len(raw)).encode()},
                                    io.BytesIO(raw), on_field, on_file)
    except Exception:  # python-multipart raises several types for a malformed body
        raise InvalidParameter("body", "Invalid body") from None
    return fields, files


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def ok(**fields: Any) -> Response:
    return http.json_response({"status": "200", **fields})


def error_body(status: int, message: str) -> Response:
    return http.json_response({"status": str(status), "error": message}, status)


def error_response(error: e.DialtoneError) -> Response:
    if isinstance(error, e.AuthenticationError):
        return error_body(401, "Invalid token")
    if isinstance(error, e.PermissionDeniedError):
        return error_body(403, error.message)
    if isinstance(error, (e.ValidationError, e.NotFoundError)):
        return error_body(404, error.message if isinstance(error, InvalidParameter) else
                          f"Invalid {error.field}" if error.field else error.message)
    if isinstance(error, e.NumberUnavailableError):
        return error_body(404, f"Invalid {error.field}" if error.field else error.message)
    if isinstance(error, (e.PaymentDeclinedError, e.InsufficientFundsError)):
        return error_body(402, error.message)
    if isinstance(error, (e.AlreadyExistsError, e.ConcurrentUpdateError, e.InvalidStateError)):
        return error_body(409, error.message)
    if isinstance(error, e.IdempotencyKeyReusedError):
        return error_body(422, error.message)
    return internal_error()


def internal_error() -> Response:
    return error_body(500, "Internal error")


def _authenticate(request: Request) -> Principal:
    params = parse_params(request)
    token = params.get("token") or request.headers.get("token")
    return api_key.authenticate(token, http.source_ip(request))


SURFACE = http.Surface("carrier", authenticate=_authenticate, error_response=error_response,
                       internal_error=internal_error)
CarrierHandler = Callable[[Call], Response]


def _run_once(call: Call, key: str, handler: CarrierHandler) -> Response:
    from chalicelib.services.common import idempotency

    # The token is the credential, not the request: a rotated key may retry.
    params = {k: v for k, v in call.params.items() if k != "token"}
    multipart = (call.request.headers.get("content-type") or "").lower().startswith("multipart/")
    extra = (call.request.raw_body or b"") if multipart else b""
    print_ = idempotency.fingerprint(call.request.context.get("resourcePath") or "", params, extra)

    def first() -> tuple[int, str]:
        try:
            response = handler(call)
        except e.DialtoneError as error:
            response = error_response(error)
        body = response.body if isinstance(response.body, str) else http.dumps(response.body)
        return response.status_code, body

    status, body = idempotency.run_once(tenant=call.principal.tenant_id, key=key,
                                        request_fingerprint=print_, handler=first)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json; charset=utf-8"})


def endpoint(name: str, *, rename: Mapping[str, str] | None = None,
             idempotent: bool = False, tenant_level: bool = False) -> Callable[[CarrierHandler], CarrierHandler]:
    """Register ``/carrier/<name>`` for GET and POST. The handler gets a Call
    with the customer named by ``accountno`` already resolved within the
    caller's scope. ``rename`` maps domain field names in errors to this API's
    parameter names (e.g. {"accountNumber": "accountno"}). ``idempotent``
    endpoints create or charge: a POST with an Idempotency-Key header runs
    once and its retries get the first answer. ``tenant_level`` endpoints act
    for the whole tenant (an extension such as ``cdr_upload``): ``accountno``
    is optional there, still checked when sent, and ``call.customer`` is then
    that customer or empty; the service checks the caller may act tenant-wide."""
    names = {"accountNumber": "accountno", **(rename or {})}

    def register(handler: CarrierHandler) -> CarrierHandler:
        def route() -> Response:
            def handle(principal: Principal, request: Request) -> Response:
                from chalicelib.services.customers import accounts as customers

                params, files = parse_request(request)
                accountno = params.get("accountno")
                if not accountno and not tenant_level:
                    raise InvalidParameter("accountno")
                try:
                    customer = customers.customer_by_account_number(
                        principal=principal, account_number=accountno) if accountno else {}
                    call = Call(principal, customer, params, request, files)
                    key = request.headers.get("idempotency-key")
                    if idempotent and key is not None and request.method == "POST":
                        return _run_once(call, key, handler)
                    return handler(call)
                except e.DialtoneError as error:
                    if error.field in names:
                        error.field = names[error.field]
                    if isinstance(error, e.NotFoundError) and error.field == "accountno":
                        raise InvalidParameter("accountno") from None
                    raise
            return SURFACE.serve(bp.current_request, handle)

        route.__name__ = f"carrier_{name}"
        bp.route(f"/{name}", methods=["GET", "POST"], content_types=[
            "application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"])(route)
        return handler
    return register

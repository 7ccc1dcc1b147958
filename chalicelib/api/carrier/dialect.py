"""The wholesale carrier API's dialect (seed 002), shared by its section modules.

- Every endpoint is ``/carrier/<name>`` and accepts GET or POST, with its
  parameters in the query string, a form body (urlencoded) or a JSON object.
- ``token`` (the caller's API key) and ``accountno`` (a customer's
  accountNumber, within the caller's scope) come with every call.
- Answers: ``{"status": "200", ...}`` with string values, and errors as
  ``{"status": "<code>", "error": "..."}``; a bad parameter is
  ``{"status": "404", "error": "Invalid <parameter>"}`` with HTTP 404, as the
  seed shows (errors.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.carrier.errors import InvalidParameter, error_response, internal_error
from chalicelib.auth import api_key
from chalicelib.domain import errors as e
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.common import idempotency
    from chalicelib.services.customers import accounts
else:
    idempotency = lazy("chalicelib.services.common.idempotency")
    accounts = lazy("chalicelib.services.customers.accounts")

bp = Blueprint(__name__)


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
    # A malformed body is a ValidationError on "body": answered "Invalid body" (errors.py).
    query: dict[str, str] = dict(request.query_params or {})
    body: dict[str, str] = {}
    files: dict[str, bytes] = {}
    content_type = http.media_type(request)
    if content_type == http.MULTIPART:
        parts = http.multipart(request, max_bytes=MAX_MULTIPART_BYTES)
        body = {name: part.text() for name, part in parts.items() if part.filename is None}
        files = {name: bytes(part.content) for name, part in parts.items() if part.filename is not None}
    else:
        raw = http.raw_bytes(request)
        if raw.strip():
            if content_type == http.JSON or raw.lstrip()[:1] == b"{":
                body = {k: _text(v) for k, v in http.json_object(raw).items() if v is not None}
            elif content_type == http.FORM or not content_type:
                body = http.form(raw)
    return _merged(query, body), files


def _merged(query: Mapping[str, str], body: Mapping[str, str]) -> dict[str, str]:
    """One value per parameter. A parameter sent in both the query string and
    the body with different values is refused: which one the client meant
    cannot be known (a token so sent could act as another user than intended)."""
    for name, value in body.items():
        if name in query and query[name] != value:
            raise InvalidParameter(name, f"Invalid {name}: the query string and the body give different values")
    return {**query, **body}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def ok(**fields: Any) -> Response:
    return http.json_response({"status": "200", **fields})


def _authenticate(request: Request) -> Principal:
    params = parse_params(request)
    header = request.headers.get("token")
    if header and params.get("token") and header != params["token"]:
        raise InvalidParameter("token", "Invalid token: the header and the parameters give different values")
    token = params.get("token") or header
    return api_key.authenticate(token, http.source_ip(request))


SURFACE = http.Surface("carrier", authenticate=_authenticate, error_response=error_response,
                       internal_error=internal_error)
CarrierHandler = Callable[[Call], Response]


def _run_once(call: Call, key: str, handler: CarrierHandler) -> Response:
    # The token is the credential, not the request: a rotated key may retry.
    params = {k: v for k, v in call.params.items() if k != "token"}
    multipart = (call.request.headers.get("content-type") or "").lower().startswith("multipart/")
    extra = http.raw_bytes(call.request) if multipart else b""
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
                params, files = parse_request(request)
                accountno = params.get("accountno")
                if not accountno and not tenant_level:
                    raise InvalidParameter("accountno")
                try:
                    customer = accounts.customer_by_account_number(
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

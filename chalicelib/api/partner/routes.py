"""Routes of the partner billing API (seed 001). The seed shows behaviour,
not paths; the paths are ours (docs/money.md; OpenAPI at /partner/api/v1/openapi.json).

Credential: header ``token`` (an API key) from an address on the user's
allow-list (401 otherwise). Every POST also needs ``google_captcha``.
Bodies are multipart/form-data or urlencoded forms, as the seed says; JSON is
accepted too. Answers are ``{"code": 200, "data": ...}``.
"""
from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any, Callable

import simplejson
from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.partner import errors
from chalicelib.auth import api_key
from chalicelib.domain.errors import DialtoneError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:  # the ledger rules load with the services that use them, not on a cold start
    from chalicelib.domain.ledger import Statement

billing = lazy("chalicelib.services.money.statements")
signup = lazy("chalicelib.services.identity.signup")
captcha = lazy("chalicelib.adapters.captcha")

bp = Blueprint(__name__)
FORMS = ["multipart/form-data", "application/x-www-form-urlencoded", "application/json"]
Handler = Callable[[Principal, Request], Response]

SURFACE = http.Surface(
    "partner",
    authenticate=lambda request: api_key.authenticate(request.headers.get("token"), http.source_ip(request)),
    error_response=errors.error_response,
    internal_error=errors.internal_error,
)


def _serve(handler: Handler) -> Response:
    return SURFACE.serve(bp.current_request, handler)


def _serve_public(handler: Callable[[Request], Response]) -> Response:
    # Link exchanges: the one-time code is the credential, there is no API key.
    try:
        return handler(bp.current_request)
    except DialtoneError as error:
        return errors.error_response(error)


def ok(data: Any) -> Response:
    return http.json_response({"code": 200, "data": data})


def form(request: Request) -> dict[str, str]:
    """Fields of a multipart/form-data, urlencoded or JSON body (text values only)."""
    raw = request.raw_body or b""
    content_type = request.headers.get("content-type") or ""
    kind = content_type.split(";")[0].strip().lower()
    if not raw.strip():
        return {}
    if kind == "multipart/form-data":
        # Imported here: the email package costs a cold start ~35 ms and only
        # multipart bodies need it.
        import email.parser
        import email.policy

        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
        if not message.is_multipart():
            raise ValidationError("malformed multipart body", field="body")
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                payload = part.get_payload(decode=True) or b""
                fields[str(name)] = payload.decode("utf-8", "replace")
        return fields
    if kind == "application/json":
        try:
            body = simplejson.loads(raw, use_decimal=True)
        except (ValueError, UnicodeDecodeError):
            raise ValidationError("malformed JSON body", field="body") from None
        if not isinstance(body, dict):
            raise ValidationError("the body must be an object", field="body")
        return {k: str(v) for k, v in body.items() if v is not None}
    try:
        return {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        raise ValidationError("the body is not UTF-8", field="body") from None


def _captcha(request: Request, fields: dict[str, str]) -> None:
    captcha.require_captcha(fields.get("google_captcha"), http.source_ip(request))


def statement_view(statement: Statement) -> dict[str, Any]:
    return {
        "opening_balance": statement.opening_balance, "payments": statement.payments,
        "adjustments": statement.adjustments, "call_charges": statement.call_charges,
        "other_charges": statement.other_charges, "total_charges": statement.total_charges,
        "closing_balance": statement.closing_balance,
    }


@bp.route("/customers/{account_number}/balance", methods=["GET"])
def customer_balance(account_number: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        first, last = billing.period(params.get("initial_date"), params.get("final_date"))
        return ok(statement_view(billing.customer_statement(
            principal=principal, account_number=account_number, first_day=first, last_day=last)))
    return _serve(handle)


@bp.route("/balance", methods=["GET"])
def partner_balance() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        first, last = billing.period(params.get("initial_date"), params.get("final_date"))
        return ok(statement_view(billing.partner_statement(principal=principal, first_day=first, last_day=last)))
    return _serve(handle)


@bp.route("/funds", methods=["PUT"], content_types=FORMS)
def move_funds() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        fields = form(request)
        account = fields.get("account_number")
        if not account:
            raise ValidationError("account_number is required", field="account_number")
        if "amount" not in fields:
            raise ValidationError("amount is required", field="amount")
        posted = billing.move_funds(principal=principal, account_number=account, amount=fields["amount"],
                                    description=fields.get("description"),
                                    idempotency_key=request.headers.get("idempotency-key"))
        customer_entry = next(e for e in posted.entries if e["account"] != "TENANT")
        return ok({"customer_balance": customer_entry["balanceAfter"],
                   "customer_credit_limit": customer_entry["creditLimit"]})
    return _serve(handle)


@bp.route("/customers", methods=["POST"], content_types=FORMS)
def register_customer() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        fields = form(request)
        _captcha(request, fields)
        principal.require_write()
        made = signup.register_customer(
            principal=principal, name=fields.get("name") or "", email=fields.get("email") or "",
            password=fields.get("password") or "",
            contact={k: fields.get(k) for k in ("phone", "address1", "address2", "city", "state", "postcode",
                                                "country", "contactName", "companyNumber")})
        return ok({"account_number": made["account_number"]})
    return _serve(handle)


def _customer_post(account_number: str, act: Callable[[Principal, dict[str, Any]], Any]) -> Response:
    """A captcha-guarded POST about one customer: the same checks for each."""
    def handle(principal: Principal, request: Request) -> Response:
        fields = form(request)
        _captcha(request, fields)
        principal.require_write()
        return ok(act(principal, fields))
    return _serve(handle)


@bp.route("/customers/{account_number}/confirm-email", methods=["POST"], content_types=FORMS)
def confirm_email(account_number: str) -> Response:
    return _customer_post(account_number, lambda principal, fields: signup.confirm_email(
        principal=principal, account_number=account_number, code=fields.get("code")))


@bp.route("/customers/{account_number}/login-url", methods=["POST"], content_types=FORMS)
def login_url(account_number: str) -> Response:
    return _customer_post(account_number, lambda principal, fields: signup.login_url(
        principal=principal, account_number=account_number))


@bp.route("/customers/{account_number}/reset-password", methods=["POST"], content_types=FORMS)
def reset_password_request(account_number: str) -> Response:
    return _customer_post(account_number, lambda principal, fields: signup.request_password_reset(
        principal=principal, account_number=account_number))


@bp.route("/session", methods=["GET", "POST"], content_types=FORMS)
def exchange_login() -> Response:
    def handle(request: Request) -> Response:
        return ok(signup.exchange_login(code=http.query(request).get("code") or form(request).get("code")))
    return _serve_public(handle)


@bp.route("/password", methods=["POST"], content_types=FORMS)
def set_password() -> Response:
    def handle(request: Request) -> Response:
        fields = form(request)
        return ok(signup.reset_password(code=fields.get("code"), password=fields.get("password")))
    return _serve_public(handle)

"""Partner API, customer sign-up: register, confirm the e-mail address,
one-time login and password-reset links, and their exchanges."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.partner.dialect import FORMS, bp, form, ok, require_captcha, serve, serve_public
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.identity import signup
else:
    signup = lazy("chalicelib.services.identity.signup")


@bp.route("/customers", methods=["POST"], content_types=FORMS)
def register_customer() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        fields = form(request)
        require_captcha(request, fields)
        principal.require_write()
        made = signup.register_customer(
            principal=principal, name=fields.get("name") or "", email=fields.get("email") or "",
            password=fields.get("password") or "",
            contact={k: fields.get(k) for k in ("phone", "address1", "address2", "city", "state", "postcode",
                                                "country", "contactName", "companyNumber")})
        return ok({"account_number": made["account_number"]})
    return serve(handle)


def _customer_post(act: Callable[[Principal, dict[str, str]], Any]) -> Response:
    """A captcha-guarded POST about one customer: the same checks for each."""
    def handle(principal: Principal, request: Request) -> Response:
        fields = form(request)
        require_captcha(request, fields)
        principal.require_write()
        return ok(act(principal, fields))
    return serve(handle)


@bp.route("/customers/{account_number}/confirm-email", methods=["POST"], content_types=FORMS)
def confirm_email(account_number: str) -> Response:
    return _customer_post(lambda principal, fields: signup.confirm_email(
        principal=principal, account_number=account_number, code=fields.get("code")))


@bp.route("/customers/{account_number}/login-url", methods=["POST"], content_types=FORMS)
def login_url(account_number: str) -> Response:
    return _customer_post(lambda principal, fields: signup.login_url(
        principal=principal, account_number=account_number))


@bp.route("/customers/{account_number}/reset-password", methods=["POST"], content_types=FORMS)
def reset_password_request(account_number: str) -> Response:
    return _customer_post(lambda principal, fields: signup.request_password_reset(
        principal=principal, account_number=account_number))


@bp.route("/session", methods=["GET", "POST"], content_types=FORMS)
def exchange_login() -> Response:
    def handle(request: Request) -> Response:
        return ok(signup.exchange_login(code=http.query(request).get("code") or form(request).get("code")))
    return serve_public(handle)


@bp.route("/password", methods=["POST"], content_types=FORMS)
def set_password() -> Response:
    def handle(request: Request) -> Response:
        fields = form(request)
        return ok(signup.reset_password(code=fields.get("code"), password=fields.get("password")))
    return serve_public(handle)

"""Organisation and Account sections: /userAccounts/me, /account, address, DDIs."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.voice import dialect, views
from chalicelib.api.voice.dialect import bp
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.voice import accounts
else:
    accounts = lazy("chalicelib.services.voice.accounts")


@bp.route("/userAccounts/me", methods=["GET"])
def me() -> Response:
    return dialect.serve(lambda principal, request: http.json_response(accounts.organisation(principal=principal)))


@bp.route("/account", methods=["GET"])
def list_accounts() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        limit, offset = dialect.page_params(request, default=1000)
        found = accounts.list_accounts(principal=principal, limit=limit + offset)[offset:]
        return http.json_response([views.account_summary(principal, c) for c in found])
    return dialect.serve(handle)


@bp.route("/account/{account}", methods=["GET"])
def get_account(account: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        customer = accounts.get_account(principal=principal, account=account)
        return http.json_response(views.account(principal, accounts.profile(principal=principal, customer=customer)))
    return dialect.serve(handle)


@bp.route("/account/{account}/address", methods=["GET"])
def get_address(account: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        accounts.get_address(principal=principal, account=account)))


@bp.route("/account/{account}/address", methods=["PUT"], content_types=dialect.ANY_BODY)
def put_address(account: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        accounts.set_address(principal=principal, account=account, body=dialect.json_body(request))
        return dialect.no_content()
    return dialect.serve(handle)


@bp.route("/account/{account}/ddi", methods=["GET"])
def list_ddis(account: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        [views.ddi(d) for d in accounts.list_ddis(principal=principal, account=account)]))

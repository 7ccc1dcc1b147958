"""SIP Trunking section: /account/{id}/trunk."""
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
    from chalicelib.services.voice import trunks
else:
    trunks = lazy("chalicelib.services.voice.trunks")


@bp.route("/account/{account}/trunk", methods=["GET"])
def list_trunks(account: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        [views.trunk(principal, t) for t in trunks.list_trunks(principal=principal, account=account)]))


@bp.route("/account/{account}/trunk", methods=["POST"], content_types=dialect.ANY_BODY)
def create_trunk(account: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = trunks.create_trunk(principal=principal, account=account, body=dialect.json_body(request))
        view = views.trunk(principal, record)
        return dialect.created(dialect.location(request, view["id"]), view["id"], view)
    return dialect.serve(handle)


@bp.route("/account/{account}/trunk/{trunk}", methods=["GET"])
def get_trunk(account: str, trunk: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        views.trunk(principal, trunks.get_trunk(principal=principal, account=account, trunk=trunk))))


@bp.route("/account/{account}/trunk/{trunk}", methods=["PUT"], content_types=dialect.ANY_BODY)
def update_trunk(account: str, trunk: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        trunks.update_trunk(principal=principal, account=account, trunk=trunk, body=dialect.json_body(request))
        return dialect.no_content()
    return dialect.serve(handle)


@bp.route("/account/{account}/trunk/{trunk}", methods=["DELETE"])
def delete_trunk(account: str, trunk: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        trunks.delete_trunk(principal=principal, account=account, trunk=trunk)
        return dialect.no_content()
    return dialect.serve(handle)

"""Hooks section: /account/{id}/hook, plus its delivery log and secret rotation."""
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
    from chalicelib.services.voice import hooks
else:
    hooks = lazy("chalicelib.services.voice.hooks")


@bp.route("/account/{account}/hook", methods=["GET"])
def list_hooks(account: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        [views.hook(principal, h) for h in hooks.list_hooks(principal=principal, account=account)]))


@bp.route("/account/{account}/hook", methods=["POST"], content_types=dialect.ANY_BODY)
def create_hook(account: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record, secret = hooks.create_hook(principal=principal, account=account, body=dialect.json_body(request))
        view = views.hook(principal, record)
        return dialect.created(dialect.location(request, view["id"]), view["id"], {**view, "signingSecret": secret})
    return dialect.serve(handle)


@bp.route("/account/{account}/hook/{hook}", methods=["GET"])
def get_hook(account: str, hook: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        views.hook(principal, hooks.get_hook(principal=principal, account=account, hook=hook))))


@bp.route("/account/{account}/hook/{hook}", methods=["PUT"], content_types=dialect.ANY_BODY)
def update_hook(account: str, hook: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        hooks.update_hook(principal=principal, account=account, hook=hook, body=dialect.json_body(request))
        return dialect.no_content()
    return dialect.serve(handle)


@bp.route("/account/{account}/hook/{hook}", methods=["DELETE"])
def delete_hook(account: str, hook: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        hooks.delete_hook(principal=principal, account=account, hook=hook)
        return dialect.no_content()
    return dialect.serve(handle)


@bp.route("/account/{account}/hook/{hook}/signingSecret", methods=["POST"], content_types=dialect.ANY_BODY)
def rotate_secret(account: str, hook: str) -> Response:
    # An explicit rotation: the new secret is answered once; the old one stops signing at once.
    return dialect.serve(lambda principal, request: http.json_response(
        {"signingSecret": hooks.rotate_secret(principal=principal, account=account, hook=hook)},
        headers={"Cache-Control": "no-store"}))


@bp.route("/account/{account}/hook/{hook}/deliveries", methods=["GET"])
def deliveries(account: str, hook: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        limit, _ = dialect.page_params(request, default=100, maximum=200)
        found = hooks.deliveries(principal=principal, account=account, hook=hook, limit=limit)
        return http.json_response([views.delivery(d) for d in found])
    return dialect.serve(handle)

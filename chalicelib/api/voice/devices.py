"""Flow Devices section: /account/{id}/device."""
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
    from chalicelib.services.voice import devices
else:
    devices = lazy("chalicelib.services.voice.devices")


@bp.route("/account/{account}/device", methods=["GET"])
def list_devices(account: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        [views.device(principal, d) for d in devices.list_devices(principal=principal, account=account)]))


@bp.route("/account/{account}/device", methods=["POST"], content_types=dialect.ANY_BODY)
def create_device(account: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = devices.create_device(principal=principal, account=account, body=dialect.json_body(request))
        view = views.device(principal, record)
        return dialect.created(dialect.location(request, view["id"]), view["id"], view)
    return dialect.serve(handle)


@bp.route("/account/{account}/device/{device}", methods=["GET"])
def get_device(account: str, device: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        views.device(principal, devices.get_device(principal=principal, account=account, device=device))))


@bp.route("/account/{account}/device/{device}", methods=["PUT"], content_types=dialect.ANY_BODY)
def update_device(account: str, device: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        devices.update_device(principal=principal, account=account, device=device, body=dialect.json_body(request))
        return dialect.no_content()
    return dialect.serve(handle)


@bp.route("/account/{account}/device/{device}", methods=["DELETE"])
def delete_device(account: str, device: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        devices.delete_device(principal=principal, account=account, device=device)
        return dialect.no_content()
    return dialect.serve(handle)

"""Channels section: /account/{id}/channels/voice (create, read, list, update,
hang up), and the simulator's inbound-call test endpoint."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.voice import dialect
from chalicelib.api.voice.dialect import bp
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.voice import calls
else:
    calls = lazy("chalicelib.services.voice.calls")


@bp.route("/account/{account}/channels/voice", methods=["POST"], content_types=dialect.ANY_BODY)
def create_call(account: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = calls.create_call(principal=principal, account=account, body=dialect.json_body(request))
        view = calls.view(principal, record)
        return dialect.created(dialect.location(request, view["id"]), view["id"], view)
    return dialect.serve(handle)


@bp.route("/account/{account}/channels/voice", methods=["GET"])
def list_calls(account: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        limit, _ = dialect.page_params(request, default=100, maximum=1000)
        found = calls.list_calls(principal=principal, account=account, after=http.query(request).get("after"),
                                 limit=limit)
        return http.json_response([calls.view(principal, c) for c in found])
    return dialect.serve(handle)


@bp.route("/account/{account}/channels/voice/{call}", methods=["GET"])
def get_call(account: str, call: str) -> Response:
    return dialect.serve(lambda principal, request: http.json_response(
        calls.view(principal, calls.get_call(principal=principal, account=account, call=call))))


@bp.route("/account/{account}/channels/voice/{call}", methods=["PUT"], content_types=dialect.ANY_BODY)
def update_call(account: str, call: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        calls.update_call(principal=principal, account=account, call=call, body=dialect.json_body(request))
        return dialect.no_content()
    return dialect.serve(handle)


@bp.route("/account/{account}/channels/voice/{call}", methods=["DELETE"])
def hangup_call(account: str, call: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        calls.hangup_call(principal=principal, account=account, call=call)
        return dialect.no_content()
    return dialect.serve(handle)


@bp.route("/account/{account}/simulator/inbound", methods=["POST"], content_types=dialect.ANY_BODY)
def simulate_inbound(account: str) -> Response:
    # The simulator's test endpoint: an inbound call to a DDI runs the account's flow.
    # Where it is off (deployed stages, a real media adapter) it answers as a path
    # that does not exist, before any credential is looked at.
    from chalicelib.adapters import media

    if not media.simulator_endpoint():
        from chalicelib.api.http.guard import path_of
        from chalicelib.api.voice import errors

        request = bp.current_request
        return errors.refusal(request, 404, f"no resource at {path_of(request)}", {})

    def handle(principal: Principal, request: Request) -> Response:
        record = calls.simulate_inbound(principal=principal, account=account, body=dialect.json_body(request))
        view = calls.view(principal, record)
        path = dialect.location(request).rsplit("/simulator/", 1)[0]
        return dialect.created(f"{path}/channels/voice/{view['id']}", view["id"], view)
    return dialect.serve(handle)

"""Users on the billing platform API: read your own record; API keys by action."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import views
from chalicelib.api.platform.dialect import action_name, bp, entity_id, serve
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.common import audit
    from chalicelib.services.identity import users
else:
    audit = lazy("chalicelib.services.common.audit")
    users = lazy("chalicelib.services.identity.users")


def _user_id(principal: Principal, text: str) -> int:
    return principal.user_id if text == "me" else entity_id(text)


@bp.route("/users/{user_id}", methods=["GET"])
def get_user(user_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = users.get_own_user(principal=principal, user_id=_user_id(principal, user_id))
        return http.json_response(views.user_view(record))
    return serve(handle)


@bp.route("/users", methods=["GET"])
def list_users() -> Response:
    # Users see themselves only: the list has one entry.
    def handle(principal: Principal, request: Request) -> Response:
        record = users.get_own_user(principal=principal, user_id=principal.user_id)
        return http.json_response([views.user_view(record)])
    return serve(handle)


@bp.route("/users/{user_id}", methods=["POST"])
def user_action(user_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record, key = users.api_key_action(
            principal=principal, user_id=_user_id(principal, user_id), name=action_name(request),
            params=http.json_body(request, required=False), source_ip=http.source_ip(request))
        # The key is in this answer only; the platform keeps its hash.
        return http.json_response({**views.user_view(record), "apiKey": key},
                                  headers={"Cache-Control": "no-store"})
    return serve(handle)


@bp.route("/requestLogs", methods=["GET"])
def list_request_logs() -> Response:
    """Every request is logged; administrators see the tenant's, others their own."""
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        found = audit.list_visible(principal=principal, since=http.iso_param(params, "since"),
                                   until=http.iso_param(params, "until"),
                                   limit=http.int_param(params, "limit", default=100, minimum=1, maximum=1000))
        return http.json_response([views.request_log_view(e) for e in found])
    return serve(handle)

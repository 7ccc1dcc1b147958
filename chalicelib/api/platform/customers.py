"""Billing platform API, customers: list (with their numbers, services and
features expanded), create, read, update, actions."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import views
from chalicelib.api.platform.dialect import action_name, bp, entity_id, page, serve
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.customers import accounts
    from chalicelib.services.customers import items as customer_items
    from chalicelib.services.numbers import sales
else:
    accounts = lazy("chalicelib.services.customers.accounts")
    customer_items = lazy("chalicelib.services.customers.items")
    sales = lazy("chalicelib.services.numbers.sales")


# The seed writes GET /customers/?expandNumbers: API Gateway and Chalice drop the
# trailing slash before routing, so /customers/ reaches this route too.
@bp.route("/customers", methods=["GET"])
def list_customers() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        found = accounts.list_customers(principal=principal, page=page(params),
                                        active=http.optional_bool(params, "active"))
        return http.json_response(_expanded(principal, params, found))
    return serve(handle)


def _expanded(principal: Principal, params: dict[str, str], found: list[dict]) -> list[dict]:
    """Customer views with the requested children, each child type read in one
    batch for the whole page (entities.children_of), not one request per customer."""
    views_out = [views.customer_view(c) for c in found]
    ids = [c["id"] for c in found]
    for flag, active_flag, key, render in (
        ("expandNumbers", "numberActive", "numbers", views.number_view),
        ("expandServices", "serviceActive", "services", views.service_view),
        ("expandFeatures", "featureActive", "features", views.feature_view),
    ):
        active_only = http.flag(params, active_flag)  # validated even when it has no effect
        if not http.flag(params, flag):
            continue
        resource = {"numbers": sales.NUMBERS, "services": customer_items.SERVICES,
                    "features": customer_items.FEATURES}[key]
        children = customer_items.children(principal=principal, resource=resource, customer_ids=ids,
                                           active_only=active_only)
        for view in views_out:
            view[key] = [render(child) for child in children.get(view["id"], [])]
    return views_out


@bp.route("/customers", methods=["POST"])
def create_customer() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        body = views.customer_input(http.json_body(request), creating=True)
        record = accounts.create_customer(principal=principal, fields=body)
        return http.json_response(views.customer_view(record), 201)
    return serve(handle)


@bp.route("/customers/{customer_id}", methods=["GET"])
def get_customer(customer_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = accounts.get_customer(principal=principal, customer_id=entity_id(customer_id))
        return http.json_response(_expanded(principal, http.query(request), [record])[0])
    return serve(handle)


# The seed: "a PUT request will be treated as a PATCH request".
@bp.route("/customers/{customer_id}", methods=["PATCH", "PUT"])
def update_customer(customer_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        changes = views.customer_input(http.json_body(request), creating=False)
        record, changed = accounts.update_customer(
            principal=principal, customer_id=entity_id(customer_id), changes=changes)
        headers = {} if changed else {"X-API-No-Changes": "1"}
        return http.json_response(views.customer_view(record), headers=headers)
    return serve(handle)


@bp.route("/customers/{customer_id}", methods=["POST"])
def customer_action(customer_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = accounts.perform_action(
            principal=principal, customer_id=entity_id(customer_id), name=action_name(request),
            params=http.json_body(request, required=False))
        return http.json_response(views.customer_view(record))
    return serve(handle)

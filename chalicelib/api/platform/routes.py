"""Routes of the billing platform API. Each parses the request, calls one
service function and renders the answer; ``_serve`` does authentication,
error mapping and the audit record for all of them (``http.Surface``)."""
from __future__ import annotations

from typing import Callable

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import errors, views
from chalicelib.auth import api_key
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.identity import Principal
from chalicelib.services.customers import accounts as customer_service
from chalicelib.store.dynamo.entities import Page

bp = Blueprint(__name__)

# One answer holds at most this many resources (documented in docs/billing-api.md):
# with expansion a page of 1,000 customers is one Query for them and one per child type.
MAX_PAGE = 1000
DEFAULT_PAGE = 1000
Handler = Callable[[Principal, Request], Response]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


SURFACE = http.Surface(
    "backend",
    authenticate=lambda request: api_key.authenticate(_bearer(request), http.source_ip(request)),
    error_response=errors.error_response,
    internal_error=errors.internal_error,
)


def _serve(handler: Handler) -> Response:
    return SURFACE.serve(bp.current_request, handler)


def _page(params: dict[str, str]) -> Page:
    return Page(
        id_after=http.int_param(params, "idAfter", default=0, minimum=0, maximum=10**12 - 1),
        limit=http.int_param(params, "limit", default=DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE),
        offset=http.int_param(params, "offset", default=0, minimum=0, maximum=100_000),
        updated_since=http.iso_param(params, "updatedSince"),
    )


def _entity_id(text: str) -> int:
    # All ids are integers; anything else cannot name a resource.
    if not text.isdigit() or len(text) > 12:
        raise NotFoundError(f"no resource with id '{text}'")
    return int(text)


def entity_id(text: str) -> int:
    return _entity_id(text)


def page(params: dict[str, str]) -> Page:
    return _page(params)


def serve(handler: Handler) -> Response:
    return _serve(handler)


def action_name(request: Request) -> str | None:
    return http.query(request).get("action")


# The seed writes GET /customers/?expandNumbers: API Gateway and Chalice drop the
# trailing slash before routing, so /customers/ reaches this route too.
@bp.route("/customers", methods=["GET"])
def list_customers() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        found = customer_service.list_customers(
            principal=principal, page=_page(params), active=http.optional_bool(params, "active"))
        return http.json_response(_expanded(principal, params, found))
    return _serve(handle)


def _expanded(principal: Principal, params: dict[str, str], found: list[dict]) -> list[dict]:
    """Customer views with the requested children, each child type read in one
    batch for the whole page (entities.children_of), not one request per customer."""
    views_out = [views.customer_view(c) for c in found]
    ids = [c["id"] for c in found]
    for flag, active_flag, key, resource_name, render in (
        ("expandNumbers", "numberActive", "numbers", "NUMBERS", views.number_view),
        ("expandServices", "serviceActive", "services", "SERVICES", views.service_view),
        ("expandFeatures", "featureActive", "features", "FEATURES", views.feature_view),
    ):
        active_only = http.flag(params, active_flag)  # validated even when it has no effect
        if not http.flag(params, flag):
            continue
        # Imported on first use: a cold start serving a plain read does not pay for them.
        from chalicelib.services.customers import items as customer_items
        from chalicelib.services.numbers import sales as customer_numbers

        resource = getattr(customer_numbers if resource_name == "NUMBERS" else customer_items, resource_name)
        children = customer_items.children(principal=principal, resource=resource, customer_ids=ids,
                                           active_only=active_only)
        for view in views_out:
            view[key] = [render(child) for child in children.get(view["id"], [])]
    return views_out


@bp.route("/customers", methods=["POST"])
def create_customer() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        body = views.customer_input(http.json_body(request), creating=True)
        record = customer_service.create_customer(principal=principal, fields=body)
        return http.json_response(views.customer_view(record), 201)
    return _serve(handle)


@bp.route("/customers/{customer_id}", methods=["GET"])
def get_customer(customer_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = customer_service.get_customer(principal=principal, customer_id=_entity_id(customer_id))
        return http.json_response(_expanded(principal, http.query(request), [record])[0])
    return _serve(handle)


# The seed: "a PUT request will be treated as a PATCH request".
@bp.route("/customers/{customer_id}", methods=["PATCH", "PUT"])
def update_customer(customer_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        changes = views.customer_input(http.json_body(request), creating=False)
        record, changed = customer_service.update_customer(
            principal=principal, customer_id=_entity_id(customer_id), changes=changes)
        headers = {} if changed else {"X-API-No-Changes": "1"}
        return http.json_response(views.customer_view(record), headers=headers)
    return _serve(handle)


@bp.route("/customers/{customer_id}", methods=["POST"])
def customer_action(customer_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = customer_service.perform_action(
            principal=principal, customer_id=_entity_id(customer_id), name=action_name(request),
            params=http.json_body(request, required=False))
        return http.json_response(views.customer_view(record))
    return _serve(handle)


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    # Public: it describes the surface and holds no tenant data.
    from chalicelib.api.platform.openapi import spec

    return http.json_response(spec())

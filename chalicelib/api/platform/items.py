"""Billing platform API, what a customer has: services, features and notes.

Every kind of customer child is listed and created under its parent
(``/customers/{id}/services``) or with ``customerID`` in the body, and
addressed directly (``/services/{id}``). The handlers are written out one per
path; what they share is the helpers below, which numbers.py and billing.py
use too."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import views
from chalicelib.api.platform.dialect import action_name, bp, entity_id, page, serve
from chalicelib.api.platform.views import writable_fields
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.customers import items as customer_items
    from chalicelib.services.customers.items import ChildResource
else:
    customer_items = lazy("chalicelib.services.customers.items")

Render = Callable[[Mapping[str, Any]], dict]


# Shared by every kind of child -------------------------------------------------

def list_children(resource: ChildResource, render: Render, customer_id: str | None = None) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        found = customer_items.list_items(
            principal=principal, resource=resource, page=page(params),
            customer_id=None if customer_id is None else entity_id(customer_id),
            active=http.optional_bool(params, "active"))
        return http.json_response([render(r) for r in found])
    return serve(handle)


def create_child(resource: ChildResource, render: Render, customer_id: str | None = None) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        body = http.json_body(request)
        parent = _customer_id_of(body, customer_id)
        record = customer_items.create(principal=principal, resource=resource, customer_id=parent,
                                       fields=writable_fields(body, allow=("customerID",)))
        return http.json_response(render(record), 201)
    return serve(handle)


def _customer_id_of(body: Mapping[str, Any], customer_id: str | None) -> int:
    """The customer a new child belongs to: the path's, or the body's customerID."""
    given = body.get("customerID")
    if customer_id is None:
        if not isinstance(given, int) or isinstance(given, bool):
            raise ValidationError("customerID (an integer) is required", field="customerID")
        return given
    parent = entity_id(customer_id)
    if "customerID" in body and given != parent:
        raise ValidationError("customerID differs from the customer in the path", field="customerID")
    return parent


def get_child(resource: ChildResource, render: Render, item_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        return http.json_response(render(customer_items.get(principal=principal, resource=resource,
                                                            item_id=entity_id(item_id))))
    return serve(handle)


def update_child(resource: ChildResource, render: Render, item_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record, changed = customer_items.update(principal=principal, resource=resource, item_id=entity_id(item_id),
                                                changes=writable_fields(http.json_body(request)))
        return http.json_response(render(record), headers={} if changed else {"X-API-No-Changes": "1"})
    return serve(handle)


def act_on_child(resource: ChildResource, render: Render, item_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = customer_items.perform_action(principal=principal, resource=resource, item_id=entity_id(item_id),
                                               name=action_name(request),
                                               params=http.json_body(request, required=False))
        return http.json_response(render(record))
    return serve(handle)


# Services -------------------------------------------------------------------------

@bp.route("/services", methods=["GET"])
def list_services() -> Response:
    return list_children(customer_items.SERVICES, views.service_view)


@bp.route("/customers/{customer_id}/services", methods=["GET"])
def list_customer_services(customer_id: str) -> Response:
    return list_children(customer_items.SERVICES, views.service_view, customer_id)


@bp.route("/services", methods=["POST"])
def create_service() -> Response:
    return create_child(customer_items.SERVICES, views.service_view)


@bp.route("/customers/{customer_id}/services", methods=["POST"])
def create_customer_service(customer_id: str) -> Response:
    return create_child(customer_items.SERVICES, views.service_view, customer_id)


@bp.route("/services/{service_id}", methods=["GET"])
def get_service(service_id: str) -> Response:
    return get_child(customer_items.SERVICES, views.service_view, service_id)


@bp.route("/services/{service_id}", methods=["PATCH", "PUT"])
def update_service(service_id: str) -> Response:
    return update_child(customer_items.SERVICES, views.service_view, service_id)


@bp.route("/services/{service_id}", methods=["POST"])
def service_action(service_id: str) -> Response:
    return act_on_child(customer_items.SERVICES, views.service_view, service_id)


# Features -------------------------------------------------------------------------

@bp.route("/features", methods=["GET"])
def list_features() -> Response:
    return list_children(customer_items.FEATURES, views.feature_view)


@bp.route("/customers/{customer_id}/features", methods=["GET"])
def list_customer_features(customer_id: str) -> Response:
    return list_children(customer_items.FEATURES, views.feature_view, customer_id)


@bp.route("/features", methods=["POST"])
def create_feature() -> Response:
    return create_child(customer_items.FEATURES, views.feature_view)


@bp.route("/customers/{customer_id}/features", methods=["POST"])
def create_customer_feature(customer_id: str) -> Response:
    return create_child(customer_items.FEATURES, views.feature_view, customer_id)


@bp.route("/features/{feature_id}", methods=["GET"])
def get_feature(feature_id: str) -> Response:
    return get_child(customer_items.FEATURES, views.feature_view, feature_id)


@bp.route("/features/{feature_id}", methods=["PATCH", "PUT"])
def update_feature(feature_id: str) -> Response:
    return update_child(customer_items.FEATURES, views.feature_view, feature_id)


@bp.route("/features/{feature_id}", methods=["POST"])
def feature_action(feature_id: str) -> Response:
    return act_on_child(customer_items.FEATURES, views.feature_view, feature_id)


# Notes (their attachments: attachments.py) -------------------------------------

@bp.route("/notes", methods=["GET"])
def list_notes() -> Response:
    return list_children(customer_items.NOTES, views.note_view)


@bp.route("/customers/{customer_id}/notes", methods=["GET"])
def list_customer_notes(customer_id: str) -> Response:
    return list_children(customer_items.NOTES, views.note_view, customer_id)


@bp.route("/notes", methods=["POST"])
def create_note() -> Response:
    return create_child(customer_items.NOTES, views.note_view)


@bp.route("/customers/{customer_id}/notes", methods=["POST"])
def create_customer_note(customer_id: str) -> Response:
    return create_child(customer_items.NOTES, views.note_view, customer_id)


@bp.route("/notes/{note_id}", methods=["GET"])
def get_note(note_id: str) -> Response:
    return get_child(customer_items.NOTES, views.note_view, note_id)


@bp.route("/notes/{note_id}", methods=["PATCH", "PUT"])
def update_note(note_id: str) -> Response:
    return update_child(customer_items.NOTES, views.note_view, note_id)


@bp.route("/notes/{note_id}", methods=["POST"])
def note_action(note_id: str) -> Response:
    return act_on_child(customer_items.NOTES, views.note_view, note_id)

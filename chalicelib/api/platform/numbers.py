"""Billing platform API, numbers: a customer's numbers, read here; added by
POST (an available inventory number is sold, charged as a carrier order; a
number not in the inventory is recorded as the customer's own); dropped and
reinstated by action. Their other fields belong to the inventory."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import views
from chalicelib.api.platform.dialect import action_name, bp, entity_id, serve
from chalicelib.api.platform.items import get_child, list_children
from chalicelib.domain.errors import ReadOnlyFieldError, UnknownFieldError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.numbers import sales
else:
    sales = lazy("chalicelib.services.numbers.sales")

NUMBER_WRITABLE = frozenset({"number", "customerID"})
NUMBER_READ_ONLY = frozenset({
    "id", "status", "dateDrop", "statusReason", "origin", "category", "state", "npanxx", "rateCenter", "city", "tfnPrefix", "monthlyPrice",
    "setupPrice", "trunkID", "cnam", "orderID", "portOrderID", "createdDate", "updatedDate",
})


@bp.route("/numbers", methods=["GET"])
def list_numbers() -> Response:
    return list_children(sales.NUMBERS, views.number_view)


@bp.route("/customers/{customer_id}/numbers", methods=["GET"])
def list_customer_numbers(customer_id: str) -> Response:
    return list_children(sales.NUMBERS, views.number_view, customer_id)


@bp.route("/numbers/{number_id}", methods=["GET"])
def get_number(number_id: str) -> Response:
    return get_child(sales.NUMBERS, views.number_view, number_id)


@bp.route("/numbers/{number_id}", methods=["POST"])
def number_action(number_id: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        record = sales.perform_action(principal=principal, number_id=entity_id(number_id), name=action_name(request),
                                      params=http.json_body(request, required=False))
        return http.json_response(views.number_view(record))
    return serve(handle)


@bp.route("/numbers", methods=["POST"])
def assign_number() -> Response:
    return _assign(None)


@bp.route("/customers/{customer_id}/numbers", methods=["POST"])
def assign_customer_number(customer_id: str) -> Response:
    return _assign(customer_id)


def _assign(customer_id: str | None) -> Response:
    """The seed's "add a number to a customer": POST /customers/{id}/numbers
    {"number": "..."} (or POST /numbers with customerID) -> 201, the number."""
    def handle(principal: Principal, request: Request) -> Response:
        body = http.json_body(request)
        for name in body:
            if name in NUMBER_READ_ONLY:
                raise ReadOnlyFieldError(f"'{name}' is read-only", field=name)
            if name not in NUMBER_WRITABLE:
                raise UnknownFieldError(f"unknown field '{name}' (a number is added by 'number')", field=name)
        given = body.get("customerID")
        if given is not None and (not isinstance(given, int) or isinstance(given, bool)):
            raise ValidationError("customerID must be an integer", field="customerID")
        path_customer = None if customer_id is None else entity_id(customer_id)
        target = path_customer if path_customer is not None else given
        if target is None:
            raise ValidationError("customerID (an integer) is required", field="customerID")
        if path_customer is not None and given is not None and given != path_customer:
            raise ValidationError("customerID differs from the customer in the path", field="customerID")
        if not isinstance(body.get("number"), str) or not body["number"].strip():
            raise ValidationError("number (a string, e.g. \"2065550123\" or \"+12065550123\") is required",
                                  field="number")
        record = sales.assign(principal=principal, customer_id=target, number=body["number"], record_own=True)
        return http.json_response(views.number_view(record), 201)
    return serve(handle)

"""Routes of the billing platform API for what customers have: services,
features, notes and their attachments, numbers; and users (read own, API keys).

Children are listed and created under their parent (``/customers/{id}/services``,
``POST /notes/{id}/noteAttachments``) and addressed directly (``/services/{id}``).

The service modules are imported when a handler first runs, not at import:
every cold start imports this file to register the routes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import views
from chalicelib.api.platform.routes import action_name, bp, entity_id, page, serve
from chalicelib.domain.errors import ReadOnlyFieldError, ValidationError
from chalicelib.domain.identity import Principal

if TYPE_CHECKING:
    from chalicelib.services.customers.items import ChildResource

# Fields every child shows but no client writes (the rest are refused by the
# resource's write model as unknown: no mass assignment).
READ_ONLY = frozenset({
    "id", "customerID", "statusID", "status", "statusReason", "dateApproved", "dateCancelled", "dateDrop",
    "createdDate", "updatedDate", "createdByUserID", "noteID", "storedFileID", "storedFile",
})


def writable_fields(body: Mapping[str, Any], *, allow: tuple[str, ...] = ()) -> dict[str, Any]:
    for name in body:
        if name in READ_ONLY and name not in allow:
            raise ReadOnlyFieldError(f"'{name}' is read-only", field=name)
    return {k: v for k, v in body.items() if k not in allow}


def _named(function: Callable[..., Response], name: str) -> Callable[..., Response]:
    function.__name__ = function.__qualname__ = name
    return function


def _resource(module: str, name: str) -> Callable[[], "ChildResource"]:
    def load() -> "ChildResource":
        import importlib

        return getattr(importlib.import_module(f"chalicelib.services.{module}"), name)
    return load


def _items() -> Any:
    from chalicelib.services.customers import items as customer_items

    return customer_items


def _child_routes(plural: str, load: Callable[[], "ChildResource"], render: Callable[[Mapping[str, Any]], dict],
                  *, writable: bool = True, file_url: Callable[[Principal, int], str] | None = None) -> None:
    """GET/POST /{plural}, GET/PATCH/PUT/POST(action) /{plural}/{id},
    GET/POST /customers/{id}/{plural}. With ``file_url``, GET /{plural}/{id}
    asking for anything but JSON is sent to the resource's file (303 to a
    short-lived S3 URL, as for large attachments)."""

    def listing(customer_id: int | None) -> Response:
        def handle(principal: Principal, request: Request) -> Response:
            params = http.query(request)
            found = _items().list_items(principal=principal, resource=load(), page=page(params),
                                              customer_id=customer_id,
                                              active=http.optional_bool(params, "active"))
            return http.json_response([render(r) for r in found])
        return serve(handle)

    def creating(customer_id: int | None) -> Response:
        def handle(principal: Principal, request: Request) -> Response:
            body = http.json_body(request)
            parent = customer_id
            if parent is None:
                given = body.get("customerID")
                if not isinstance(given, int) or isinstance(given, bool):
                    raise ValidationError("customerID (an integer) is required", field="customerID")
                parent = given
            elif "customerID" in body and body["customerID"] != customer_id:
                raise ValidationError("customerID differs from the customer in the path", field="customerID")
            record = _items().create(principal=principal, resource=load(), customer_id=parent,
                                           fields=writable_fields(body, allow=("customerID",)))
            return http.json_response(render(record), 201)
        return serve(handle)

    bp.route(f"/{plural}", methods=["GET"])(_named(lambda: listing(None), f"list_{plural}"))
    bp.route(f"/customers/{{customer_id}}/{plural}", methods=["GET"])(
        _named(lambda customer_id: listing(entity_id(customer_id)), f"list_customer_{plural}"))

    def get_one(item_id: str) -> Response:
        def handle(principal: Principal, request: Request) -> Response:
            if file_url is not None and http.wants_file(request):
                return Response(body="", status_code=303, headers={
                    "Location": file_url(principal, entity_id(item_id)), "Cache-Control": "no-store"})
            return http.json_response(render(_items().get(principal=principal, resource=load(),
                                                          item_id=entity_id(item_id))))
        return serve(handle)

    bp.route(f"/{plural}/{{item_id}}", methods=["GET"])(_named(get_one, f"get_{plural}"))
    if not writable:
        return
    bp.route(f"/{plural}", methods=["POST"])(_named(lambda: creating(None), f"create_{plural}"))
    bp.route(f"/customers/{{customer_id}}/{plural}", methods=["POST"])(
        _named(lambda customer_id: creating(entity_id(customer_id)), f"create_customer_{plural}"))

    def update(item_id: str) -> Response:
        def handle(principal: Principal, request: Request) -> Response:
            record, changed = _items().update(principal=principal, resource=load(),
                                                    item_id=entity_id(item_id),
                                                    changes=writable_fields(http.json_body(request)))
            return http.json_response(render(record), headers={} if changed else {"X-API-No-Changes": "1"})
        return serve(handle)

    def act(item_id: str) -> Response:
        def handle(principal: Principal, request: Request) -> Response:
            record = _items().perform_action(principal=principal, resource=load(),
                                                   item_id=entity_id(item_id), name=action_name(request),
                                                   params=http.json_body(request, required=False))
            return http.json_response(render(record))
        return serve(handle)

    bp.route(f"/{plural}/{{item_id}}", methods=["PATCH", "PUT"])(_named(update, f"update_{plural}"))
    bp.route(f"/{plural}/{{item_id}}", methods=["POST"])(_named(act, f"act_on_{plural}"))


_child_routes("services", _resource("customers.items", "SERVICES"), views.service_view)
_child_routes("features", _resource("customers.items", "FEATURES"), views.feature_view)
_child_routes("notes", _resource("customers.items", "NOTES"), views.note_view)
# Numbers are the inventory's (issue 4): read here, and sold to a customer by
# POST (an available number, charged as a carrier order); changed by the inventory.
_child_routes("numbers", _resource("numbers.sales", "NUMBERS"), views.number_view, writable=False)

NUMBER_WRITABLE = frozenset({"number", "customerID"})
NUMBER_READ_ONLY = frozenset({
    "id", "status", "category", "state", "npanxx", "rateCenter", "city", "tfnPrefix", "monthlyPrice",
    "setupPrice", "trunkID", "cnam", "orderID", "portOrderID", "createdDate", "updatedDate",
})


def _assign_number(customer_id: int | None) -> Response:
    """The seed's "add a number to a customer": POST /customers/{id}/numbers
    {"number": "..."} (or POST /numbers with customerID) -> 201, the number."""
    def handle(principal: Principal, request: Request) -> Response:
        from chalicelib.domain.errors import UnknownFieldError
        from chalicelib.services.numbers import sales as customer_numbers

        body = http.json_body(request)
        for name in body:
            if name in NUMBER_READ_ONLY:
                raise ReadOnlyFieldError(f"'{name}' is read-only", field=name)
            if name not in NUMBER_WRITABLE:
                raise UnknownFieldError(f"unknown field '{name}' (a number is added by 'number')", field=name)
        given = body.get("customerID")
        if given is not None and (not isinstance(given, int) or isinstance(given, bool)):
            raise ValidationError("customerID must be an integer", field="customerID")
        target = customer_id if customer_id is not None else given
        if target is None:
            raise ValidationError("customerID (an integer) is required", field="customerID")
        if customer_id is not None and given is not None and given != customer_id:
            raise ValidationError("customerID differs from the customer in the path", field="customerID")
        if not isinstance(body.get("number"), str) or not body["number"].strip():
            raise ValidationError("number (a string, e.g. \"2065550123\" or \"+12065550123\") is required",
                                  field="number")
        record = customer_numbers.assign(principal=principal, customer_id=target, number=body["number"])
        return http.json_response(views.number_view(record), 201)
    return serve(handle)


bp.route("/numbers", methods=["POST"])(_named(lambda: _assign_number(None), "assign_number"))
bp.route("/customers/{customer_id}/numbers", methods=["POST"])(
    _named(lambda customer_id: _assign_number(entity_id(customer_id)), "assign_customer_number"))
# Payments are made through the money core (carrier/partner APIs); the billing API reads them.
_child_routes("payments", _resource("money.payments", "PAYMENTS"), views.payment_view, writable=False)


def _invoice_pdf_url(principal: Principal, invoice_id: int) -> str:
    from chalicelib.services.money import invoices

    return invoices.invoice_pdf_url(principal=principal, invoice_id=invoice_id)


# Invoices are issued by the monthly job (services.invoices); the billing API
# reads them, and sends Accept: application/pdf (or any non-JSON type) to the PDF.
_child_routes("invoices", _resource("money.invoices", "INVOICES"), views.invoice_view, writable=False,
              file_url=_invoice_pdf_url)

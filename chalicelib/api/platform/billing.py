"""Billing platform API, payments and invoices: read here. Payments are made
through the money core (carrier and partner APIs); invoices are issued by the
monthly job (services/money/invoices.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.platform import views
from chalicelib.api.platform.dialect import bp, entity_id, see_other, serve
from chalicelib.api.platform.items import get_child, list_children
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.customers import items as customer_items
    from chalicelib.services.money import invoices, payments
else:
    customer_items = lazy("chalicelib.services.customers.items")
    invoices = lazy("chalicelib.services.money.invoices")
    payments = lazy("chalicelib.services.money.payments")


@bp.route("/payments", methods=["GET"])
def list_payments() -> Response:
    return list_children(payments.PAYMENTS, views.payment_view)


@bp.route("/customers/{customer_id}/payments", methods=["GET"])
def list_customer_payments(customer_id: str) -> Response:
    return list_children(payments.PAYMENTS, views.payment_view, customer_id)


@bp.route("/payments/{payment_id}", methods=["GET"])
def get_payment(payment_id: str) -> Response:
    return get_child(payments.PAYMENTS, views.payment_view, payment_id)


@bp.route("/invoices", methods=["GET"])
def list_invoices() -> Response:
    return list_children(invoices.INVOICES, views.invoice_view)


@bp.route("/customers/{customer_id}/invoices", methods=["GET"])
def list_customer_invoices(customer_id: str) -> Response:
    return list_children(invoices.INVOICES, views.invoice_view, customer_id)


@bp.route("/invoices/{invoice_id}", methods=["GET"])
def get_invoice(invoice_id: str) -> Response:
    """Accept: application/json (or none): the invoice; application/pdf or any
    other type: 303 to its PDF."""
    def handle(principal: Principal, request: Request) -> Response:
        if http.wants_file(request):
            return see_other(invoices.invoice_pdf_url(principal=principal, invoice_id=entity_id(invoice_id)))
        record = customer_items.get(principal=principal, resource=invoices.INVOICES, item_id=entity_id(invoice_id))
        return http.json_response(views.invoice_view(record))
    return serve(handle)

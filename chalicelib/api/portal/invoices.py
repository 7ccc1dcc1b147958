"""Invoices and payments: the customer's invoices (PDF download), its
payments, and paying by card through the gateway interface (the sandbox
gateway locally). The card's number and CVV pass through to the gateway and
are neither stored nor logged; only brand and last four digits are kept."""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib import clock
from chalicelib.api.portal.customers import own_or_chosen
from chalicelib.api.portal.dialect import FORMS, Visit, bp, serve
from chalicelib.domain.errors import NotFoundError, ValidationError
from chalicelib.lazy import lazy
from chalicelib.store.dynamo.entities import Page

if TYPE_CHECKING:
    from chalicelib.domain.money import cards
    from chalicelib.services.customers import items
    from chalicelib.services.money import invoices, payments
else:
    cards = lazy("chalicelib.domain.money.cards")
    items = lazy("chalicelib.services.customers.items")
    invoices = lazy("chalicelib.services.money.invoices")
    payments = lazy("chalicelib.services.money.payments")

PAYMENT_DAYS = 365


@bp.route("/invoices", methods=["GET"])
def invoices_page() -> Response:
    def handle(visit: Visit) -> Response:
        me = visit.me
        customer = own_or_chosen(visit, visit.query.get("customer"))
        if customer is None:
            return visit.render("invoices.html", title="Invoices", customer=None)
        found = items.list_items(principal=me, resource=invoices.INVOICES, page=Page(limit=100),
                                 customer_id=customer["id"])
        first = (clock.today() - timedelta(days=PAYMENT_DAYS)).isoformat()
        paid = list(payments.list_payments(principal=me, customer=customer, first_day=first,
                                           last_day=clock.today().isoformat(), reference=None, method=None))
        return visit.render("invoices.html", title="Invoices", customer=customer,
                            invoice_list=list(reversed(found)), payment_list=list(reversed(paid)),
                            notice=visit.query.get("done"), idempotency_key=secrets.token_urlsafe(16))
    return serve(handle)


@bp.route("/invoices/{invoice_id}/pdf", methods=["GET"])
def invoice_pdf(invoice_id: str) -> Response:
    def handle(visit: Visit) -> Response:
        if not invoice_id.isdigit():
            raise NotFoundError(f"invoice {invoice_id} not found")
        # A short-lived S3 link, made only for a user who may read the invoice.
        url = invoices.invoice_pdf_url(principal=visit.me, invoice_id=int(invoice_id))
        return Response(body="", status_code=303, headers={"Location": url})
    return serve(handle)


@bp.route("/invoices/pay", methods=["POST"], content_types=FORMS)
def pay() -> Response:
    def handle(visit: Visit) -> Response:
        form = visit.form
        customer = own_or_chosen(visit, form.get("customer"))
        if customer is None:
            raise ValidationError("choose the customer who pays", field="customer")
        card = cards.parse_card(number=form.get("cardnumber"), exp_month=form.get("expmonth"),
                                exp_year=form.get("expyear"), cvv=form.get("cvv"),
                                first_name=form.get("firstname"), last_name=form.get("lastname"))
        # The form's own key: a double submit of the same page pays once.
        payment: dict[str, Any] = payments.make_payment(principal=visit.me, customer=customer, card=card,
                                                        amount=form.get("amount"),
                                                        idempotency_key=form.get("idempotency_key") or None)
        outcome = "approved" if payment["status"] == payments.APPROVED else f"recorded ({payment['status']})"
        return visit.redirect("/invoices", customer=customer["id"],
                              done=f"payment of {payment['amount']} {outcome}")
    return serve(handle)



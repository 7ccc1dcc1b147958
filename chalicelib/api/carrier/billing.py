"""Carrier API, Billing section (seed 002): get_invoices, financial_summary, get_payments, make_payment.

Extensions (documented in docs/money.md): ``from``/``to`` on financial_summary
(default: the last 31 days), ``amount`` on make_payment (default: the balance
due) and the ``Idempotency-Key`` header (or ``idempotency_key`` parameter).
Money is shown as every amount of this surface is (views.money: two places,
more only where they hold digits).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.api import http
from chalicelib.api.carrier import views
from chalicelib.api.carrier.dialect import Call, endpoint, ok
from chalicelib.api.carrier.errors import InvalidParameter
from chalicelib.domain.money.amounts import as_money
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain.money import cards
    from chalicelib.domain.money import ledger as rules
    from chalicelib.services.money import invoices, payments, statements
else:
    rules = lazy("chalicelib.domain.money.ledger")
    cards = lazy("chalicelib.domain.money.cards")
    statements = lazy("chalicelib.services.money.statements")
    invoices = lazy("chalicelib.services.money.invoices")
    payments = lazy("chalicelib.services.money.payments")

HISTORY_DAYS = 31


def _stamp(at: str) -> str:
    return f"{at[:10]} {at[11:19]}"


def _money(value: Any) -> str:
    return views.money(as_money(value))


@endpoint("get_invoices")
def get_invoices(call: Call) -> Response:
    # ``from``/``to`` bound the invoice date (the last day of its month);
    # default: the last 366 days. ``file`` is a presigned S3 URL (PRESIGN_SECONDS).
    first, last = statements.period(call.get("from"), call.get("to"), names=("from", "to"), default_days=366)
    found = invoices.list_invoices(principal=call.principal, customer=call.customer, first_day=first, last_day=last)
    return ok(data=[{"date": f"{i['date']} 00:00:00", "file": i["url"]} for i in found])


@endpoint("financial_summary")
def financial_summary(call: Call) -> Response:
    activity = call.get("activitytype")
    if activity is not None and activity.strip().lower() == rules.ALL_ACTIVITY.lower():
        activity = None
    if activity is not None:
        match = [a for a in rules.ACTIVITIES if a.lower() == activity.strip().lower()]
        if not match:
            raise InvalidParameter("activitytype")
        activity = match[0]
    first, last = statements.period(call.get("from"), call.get("to"), names=("from", "to"), default_days=HISTORY_DAYS)
    entries = statements.financial_history(principal=call.principal, customer=call.customer, first_day=first,
                                        last_day=last, activity=activity)
    account = call.customer["accountNumber"]
    return ok(data=[{
        "accountno": account, "date": _stamp(e["at"]), "activity": e["activity"],
        "debit": _money(-as_money(e["amount"]) if as_money(e["amount"]) < 0 else 0),
        "credit": _money(e["amount"] if as_money(e["amount"]) > 0 else 0),
        "balance": _money(e["balanceAfter"]),
    } for e in entries])


@endpoint("get_payments")
def get_payments(call: Call) -> Response:
    method = call.get("method")
    if method is not None and method.strip().lower() not in rules.METHOD_ACTIVITY:
        raise InvalidParameter("method")
    first, last = statements.period(call.get("from"), call.get("to"), names=("from", "to"), default_days=366)
    found = payments.list_payments(principal=call.principal, customer=call.customer, first_day=first,
                                   last_day=last, reference=call.get("referenceno"), method=method)
    tenant = call.principal.tenant_id
    return ok(data=[{
        "accountno": call.customer["accountNumber"], "date": _stamp(p["createdAt"]),
        "referenceno": payments.payment_reference(tenant, p), "funded_amount": _money(p["amount"]),
        "charges": _money(0), "amount": _money(p["amount"]), "method": p["method"],
        "status": payments.STATUS_CODES.get(p["status"], "0"),
    } for p in found])


@endpoint("make_payment")
def make_payment(call: Call) -> Response:
    card = cards.parse_card(number=call.get("cardnumber"), exp_month=call.get("expmonth"), exp_year=call.get("expyear"),
                      cvv=call.get("cvv"), first_name=call.get("firstname"), last_name=call.get("lastname"))
    key = call.request.headers.get("idempotency-key") or call.get("idempotency_key")
    payment = payments.make_payment(principal=call.principal, customer=call.customer, card=card,
                                    amount=call.get("amount"), idempotency_key=key)
    reference = payments.payment_reference(call.principal.tenant_id, payment)
    if payment["status"] == payments.APPROVED:
        return ok(success="Payment added successfully.", referenceno=reference, amount=_money(payment["amount"]))
    # The gateway did not say: recorded as unknown, settled by the reconciliation job.
    return http.json_response({"status": "202", "success": "Payment submitted; its outcome is pending.",
                               "referenceno": reference, "amount": _money(payment["amount"])}, 202)

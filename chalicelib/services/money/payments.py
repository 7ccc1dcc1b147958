"""Card payments: charge through the gateway, credit the balance exactly once.

A payment is recorded (``pending``) before the gateway is called, keyed by the
caller's Idempotency-Key; the credit is one ledger movement whose idempotency
key is the payment id, written in the same transaction as the payment's
status change, so neither a retried request nor the reconciliation job can
credit twice. A gateway timeout leaves the payment ``unknown``; the scheduled
reconciliation asks the gateway and settles it. A payment still ``pending``
after ``PENDING_PAYMENT_MINUTES`` (longer than any API call can live) was left
by a crash around the gateway call: the gateway is asked by the payment's
reference; a charge it knows is settled as usual, one it never saw makes the
payment ``failed`` (nothing charged, nothing credited). Only brand, last four
digits and the gateway's reference are stored.
"""
from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from typing import Any, Iterator

from chalicelib import clock
from chalicelib.domain.money import ledger as rules
from chalicelib.domain.money.cards import Card
from chalicelib.domain.errors import AlreadyExistsError, InvalidStateError, PaymentDeclinedError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.domain.money.amounts import as_money, parse_money
from chalicelib.observability import metrics
from chalicelib.services.common import audit
from chalicelib.adapters import payments as gateways
from chalicelib.services.money import ledger
from chalicelib.services.customers.items import ChildResource
from chalicelib.adapters.payments import APPROVED, DECLINED, UNKNOWN, GatewayTimeout
from chalicelib.store.money import payments as store
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.entities import Page
from chalicelib.store.dynamo.schema import PAYMENT, PAYMENT_BY_DATE as BY_DATE
from chalicelib.store.identity import users as identity

PENDING = "pending"
FAILED = "failed"  # never reached the gateway (a crash before the call)
# The billing platform API lists payments like the other children of a customer (read-only there).
PAYMENTS = ChildResource("payment", PAYMENT)
CURRENCY = "USD"
# get_payments' numeric status. The seed shows only "1" (a completed payment);
# the others are ours (docs/money.md): 0 outcome not known yet (pending or the
# gateway did not answer), 2 declined by the card issuer, 3 failed without a
# decision (it never reached the gateway: nothing charged). A declined card and
# a failed attempt are different facts for a client (ask for another card vs
# simply try again), so they never share a code.
STATUS_CODES = {APPROVED: "1", PENDING: "0", UNKNOWN: "0", DECLINED: "2", FAILED: "3"}
RECONCILE_PAGE = 200
LIST_PAGE = 500


def make_payment(*, principal: Principal, customer: dict[str, Any], card: Card, amount: Any | None,
                 idempotency_key: str | None) -> dict[str, Any]:
    """Charge the card for ``amount`` (default: the balance due) and credit the customer."""
    principal.require_write()
    tenant = principal.tenant_id
    if amount is None or amount == "":
        due = -as_money(customer.get("balance"))
        if due <= 0:
            # Nothing is wrong with the request; the account simply owes nothing.
            raise InvalidStateError(f"Nothing is due on account {customer['accountNumber']}: its balance is not "
                                    "below zero. Send amount to pay in advance.", field="amount")
        value = due
    else:
        value = parse_money(amount, field="amount", allow_zero=False)
        if value < 0:
            raise ValidationError("Invalid amount", field="amount")
    request_key = f"{customer['id']}:{idempotency_key or ledger.new_key()}"
    fields = {"customerId": customer["id"], "amount": value, "method": "credit card", "status": PENDING,
              "openState": PENDING, "requestKey": request_key, "brand": card.brand, "last4": card.last4}
    try:
        payment = entities.create(PAYMENT, tenant, fields)
    except AlreadyExistsError:
        owner = entities.find_id_by_unique(PAYMENT, tenant, "requestKey", request_key)
        existing = entities.get_one(PAYMENT, tenant, owner[1]) if owner else None
        if existing is None or as_money(existing["amount"]) != value:
            raise ValidationError("this Idempotency-Key was used for another payment", field="idempotency_key")
        if existing["status"] in (DECLINED, FAILED):
            # A retry of a refused payment is refused again, never charged again.
            raise PaymentDeclinedError("Payment declined by the card issuer" if existing["status"] == DECLINED
                                       else "Payment failed before the card was charged", field="cardnumber")
        return existing
    audit.touch("payment", payment["id"])
    try:
        result = gateways.gateway().charge(amount=value, currency=CURRENCY, card=card, reference=_reference(tenant, payment))
    except GatewayTimeout:
        return _settle(tenant, payment, UNKNOWN, None)
    return _settle(tenant, payment, result.outcome, result.reference)


def _reference(tenant: str, payment: dict[str, Any]) -> str:
    return f"{tenant}-{payment['id']}"


OPEN = (PENDING, UNKNOWN)  # a payment in these may still be settled (once)


def _settle(tenant: str, payment: dict[str, Any], outcome: str, gateway_ref: str | None) -> dict[str, Any]:
    if outcome == APPROVED:
        try:
            ledger.post_movement(
                tenant=tenant, account=payment["customerId"], activity=rules.CREDIT_CARD,
                amount=as_money(payment["amount"]), reference=_reference(tenant, payment),
                description=f"{payment.get('brand')} ****{payment.get('last4')}",
                idempotency_key=f"payment:{payment['id']}",
                also=store.status_writer(tenant, payment["id"], status=APPROVED, gateway_ref=gateway_ref,
                                         open_states=OPEN, schema=PAYMENT, by_state=PAYMENT.refs[0]))
            metrics.count("Payments", Outcome=outcome)
        except AlreadyExistsError:
            pass  # settled concurrently (request vs reconciliation): credited once, by the other
    else:
        try:
            store.set_status(tenant, payment["id"], status=outcome, gateway_ref=gateway_ref, open_states=OPEN,
                             schema=PAYMENT, by_state=PAYMENT.refs[0], stays_open=outcome == UNKNOWN)
            metrics.count("Payments", Outcome=outcome)
        except AlreadyExistsError:
            pass
    settled = entities.get_one(PAYMENT, tenant, payment["id"]) or payment
    if settled["status"] == DECLINED:
        raise PaymentDeclinedError("Payment declined by the card issuer", field="cardnumber")
    return settled


def _pending_minutes() -> int:
    # Must exceed the API function's timeout (30 s): a pending payment older
    # than this has no request left that could still call the gateway.
    return int(os.environ.get("PENDING_PAYMENT_MINUTES", "15"))


def reconcile(*, tenant: str, pending_minutes: int | None = None) -> dict[str, int]:
    """Settle the tenant's payments whose outcome is unknown, and those left
    pending by a crash (older than ``pending_minutes``). Scheduled job; idempotent."""
    done = {"approved": 0, "declined": 0, "still_unknown": 0, "failed": 0}
    for payment in _open_payments(tenant, UNKNOWN):
        result = gateways.gateway().lookup(reference=_reference(tenant, payment))
        if result.outcome == UNKNOWN:
            done["still_unknown"] += 1
            continue
        _settle_quietly(tenant, payment, result.outcome, result.reference)
        done[result.outcome] += 1
    minutes = _pending_minutes() if pending_minutes is None else pending_minutes
    cutoff = clock.iso(clock.now() - timedelta(minutes=minutes))
    for payment in _open_payments(tenant, PENDING):
        if payment["createdAt"] > cutoff:
            continue  # its request may still be talking to the gateway
        result = gateways.gateway().lookup(reference=_reference(tenant, payment))
        # The gateway deduplicates on the reference and never saw this one: no
        # charge exists and none can come (the request that would make it is gone).
        outcome = FAILED if result.outcome == UNKNOWN else result.outcome
        _settle_quietly(tenant, payment, outcome, result.reference)
        done[outcome] += 1
    return done


def _open_payments(tenant: str, state: str) -> Iterator[dict[str, Any]]:
    """Payments listed under ByRef1 STATE#<state>, in id order, page by page."""
    after = 0
    while True:
        page = entities.list_page(PAYMENT, tenant, Page(id_after=after, limit=RECONCILE_PAGE),
                                  ref=(PAYMENT.refs[0], state))
        yield from page
        if len(page) < RECONCILE_PAGE:
            return
        after = page[-1]["id"]


def _settle_quietly(tenant: str, payment: dict[str, Any], outcome: str, gateway_ref: str | None) -> None:
    try:
        _settle(tenant, payment, outcome, gateway_ref)
    except PaymentDeclinedError:
        pass


def reconcile_all() -> dict[str, int]:
    totals = {"approved": 0, "declined": 0, "still_unknown": 0, "failed": 0}
    for tenant in identity.list_tenants():
        for k, v in reconcile(tenant=tenant["id"]).items():
            totals[k] += v
    return totals


def list_payments(*, principal: Principal, customer: dict[str, Any], first_day: str, last_day: str,
                  reference: str | None, method: str | None) -> Iterator[dict[str, Any]]:
    """The customer's payments made in the days [first_day, last_day], oldest
    first: one key range of ByRef2 (customer, createdAt), read page by page
    as the caller consumes them (no cap). Reference and method filter the range."""
    principal.require_read()  # now, not when the caller starts iterating
    return _payments_between(principal.tenant_id, customer["id"], first_day, last_day, reference,
                             method.strip().lower() if method is not None else None)


def _payments_between(tenant: str, customer_id: int, first_day: str, last_day: str, reference: str | None,
                      method: str | None) -> Iterator[dict[str, Any]]:
    for page in entities.query_ref_range(PAYMENT, BY_DATE, tenant, customer_id, first_day, last_day,
                                         page_size=LIST_PAGE):
        for p in page:
            if ((reference is None or _reference(tenant, p) == reference or p.get("gatewayRef") == reference)
                    and (method is None or p.get("method") == method)):
                yield p


def index_payments(*, tenant: str) -> dict[str, Any]:
    """Backfill: put payments created before the ByRef2 date index on it (so
    get_payments lists them). Pages through the tenant's payments in id order;
    idempotent (a payment already indexed is left alone)."""
    indexed = already = 0
    for payment in entities.every(PAYMENT, tenant, page_size=RECONCILE_PAGE):
        if entities.add_ref(PAYMENT, BY_DATE, tenant, payment):
            indexed += 1
        else:
            already += 1
    return {"tenant": tenant, "indexed": indexed, "already": already}


def payment_reference(tenant: str, payment: dict[str, Any]) -> str:
    return _reference(tenant, payment)


def amount_of(payment: dict[str, Any]) -> Decimal:
    return as_money(payment["amount"])

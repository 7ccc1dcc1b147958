"""Carrier API Billing section: financial_summary, get_payments, make_payment."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from chalicelib import clock
from chalicelib.domain.money import ledger as rules
from chalicelib.services.money import ledger
from chalicelib.services.money import payments
from chalicelib.store.dynamo import entities
from tests.support.worlds.money import admin, ledger_sum, new_customer

NEXT_YEAR = str(date.today().year + 1)


def carrier(client, tenant, customer, name, headers=None, **params):
    body = urlencode({"token": tenant["user"]["api_key"], "accountno": customer["accountNumber"], **params})
    r = client.post(f"/carrier/{name}", headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
                    body=body)
    r.json = json.loads(r.body)
    return r


def card(number="4242424242424242", **over):
    return {"firstname": "Ada", "lastname": "L", "cardnumber": number, "expmonth": "12", "expyear": NEXT_YEAR,
            "cvv": "123", **over}


def test_payment_settles_the_balance_due(client, tenant, caplog):
    customer = new_customer(admin(tenant), credit_limit="-50")
    t = tenant["tenant"]["id"]
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ORDER_NEW_DIDS, amount=Decimal("-12.34567"),
                         reference="o", idempotency_key="o")
    r = carrier(client, tenant, customer, "make_payment", **card())
    assert r.status_code == 200 and r.json["success"] == "Payment added successfully.", r.body
    assert r.json["amount"] == "12.34567"
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == 0 == ledger_sum(t, customer["id"])
    stored = entities.list_page(payments.PAYMENT, t, entities.Page(), parent_id=customer["id"])[0]
    assert stored["last4"] == "4242" and stored["brand"] == "visa" and stored["gatewayRef"]
    assert "4242424242424242" not in json.dumps(stored, default=str)
    assert "4242424242424242" not in caplog.text
    # Nothing due any more: without an amount there is nothing to pay, and the answer says so.
    r = carrier(client, tenant, customer, "make_payment", **card())
    assert (r.status_code, r.json) == (409, {"status": "409", "error": (
        f"Nothing is due on account {customer['accountNumber']}: its balance is not below zero. "
        "Send amount to pay in advance.")})
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == 0


def test_idempotency_key_credits_once(client, tenant):
    customer = new_customer(admin(tenant))
    t = tenant["tenant"]["id"]
    for _ in range(2):
        r = carrier(client, tenant, customer, "make_payment", headers={"Idempotency-Key": "pay-1"}, amount="10",
                    **card())
        assert r.status_code == 200
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == 10
    r = carrier(client, tenant, customer, "get_payments")
    assert [p["amount"] for p in r.json["data"]] == ["10.00"] and r.json["data"][0]["status"] == "1"


def test_get_payments_reads_the_date_range_as_a_key_range(client, tenant):
    from datetime import timedelta

    customer, other = new_customer(admin(tenant)), new_customer(admin(tenant))
    for n, who in enumerate((customer, customer, other)):
        assert carrier(client, tenant, who, "make_payment", amount=f"{n + 1}", **card()).status_code == 200
    today = date.today()
    yesterday, tomorrow = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()

    def amounts(**period):
        return [p["amount"] for p in carrier(client, tenant, customer, "get_payments", **period).json["data"]]

    assert amounts() == amounts(**{"from": today.isoformat(), "to": today.isoformat()}) == ["1.00", "2.00"]
    assert amounts(**{"from": yesterday, "to": yesterday}) == [] == amounts(**{"from": tomorrow, "to": tomorrow})
    assert amounts(**{"from": f"{today.isoformat()} 00:00:00", "to": f"{tomorrow} 00:00:00"}) == ["1.00", "2.00"]


@pytest.mark.parametrize("bad,field", [
    ({"cardnumber": "4242424242424241"}, "cardnumber"),
    ({"expyear": "2001"}, "expyear"),
    ({"expmonth": "13"}, "expmonth"),
    ({"cvv": "12"}, "cvv"),
    ({"amount": "1.123456"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": "ten"}, "amount"),
])
def test_bad_inputs_change_nothing(client, tenant, bad, field):
    customer = new_customer(admin(tenant))
    params = {**card(), "amount": "5", **bad}
    r = carrier(client, tenant, customer, "make_payment", **params)
    assert r.status_code == 404 and r.json["error"].startswith(f"Invalid {field}"), r.body
    t = tenant["tenant"]["id"]
    assert ledger_sum(t, customer["id"]) == 0
    assert entities.list_page(payments.PAYMENT, t, entities.Page(), parent_id=customer["id"]) == []


def test_declined_card_is_recorded_and_not_credited(client, tenant):
    customer = new_customer(admin(tenant))
    r = carrier(client, tenant, customer, "make_payment", amount="5", **card("4000000000000002"))
    assert r.status_code == 402
    assert ledger_sum(tenant["tenant"]["id"], customer["id"]) == 0
    listed = carrier(client, tenant, customer, "get_payments").json["data"]
    assert listed[0]["status"] == "2"


def test_timeout_is_unknown_then_reconciled_once(client, tenant):
    customer = new_customer(admin(tenant))
    t = tenant["tenant"]["id"]
    r = carrier(client, tenant, customer, "make_payment", amount="7", **card("4000000000000119"))
    assert r.status_code == 202 and r.json["status"] == "202"
    assert ledger_sum(t, customer["id"]) == 0
    assert payments.reconcile(tenant=t) == {"approved": 1, "declined": 0, "still_unknown": 0, "failed": 0}
    assert payments.reconcile(tenant=t) == {"approved": 0, "declined": 0, "still_unknown": 0, "failed": 0}
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == 7 == ledger_sum(t, customer["id"])


def test_financial_summary_filters_by_activity(client, tenant):
    customer = new_customer(admin(tenant), credit_limit="-10")
    t = tenant["tenant"]["id"]
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.TEST_CALL_CREDIT, amount=Decimal("2"),
                         reference="a", idempotency_key="a")
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ORDER_NEW_DIDS, amount=Decimal("-1"),
                         reference="b", idempotency_key="b")
    rows = carrier(client, tenant, customer, "financial_summary").json["data"]
    assert [(r["activity"], r["debit"], r["credit"], r["balance"]) for r in rows] == [
        ("Test Call Credit", "0.00", "2.00", "2.00"), ("Order (New DIDs)", "1.00", "0.00", "1.00")]
    only = carrier(client, tenant, customer, "financial_summary", activitytype="Order (New DIDs)").json["data"]
    assert len(only) == 1
    assert carrier(client, tenant, customer, "financial_summary", activitytype="Bogus").status_code == 404


def test_get_invoices_lists_presigned_pdfs(client, tenant):
    import requests

    from chalicelib.services.money import invoices

    customer = new_customer(admin(tenant))
    t = tenant["tenant"]["id"]
    for n, day in enumerate(("2025-01-20", "2025-02-03")):
        with clock.frozen(f"{day}T08:00:00"):
            ledger.post_movement(tenant=t, account=customer["id"], activity=rules.BANK_TRANSFER,
                                 amount=Decimal("12.5"), reference=f"b{n}", idempotency_key=f"b{n}")
    for month in ("2025-01", "2025-02"):
        assert invoices.close_month(tenant=t, month=month)["issued"] == 1
    r = carrier(client, tenant, customer, "get_invoices", **{"from": "2025-01-01", "to": "2025-12-31"})
    assert r.status_code == 200 and r.json["status"] == "200", r.body
    assert [i["date"] for i in r.json["data"]] == ["2025-01-31 00:00:00", "2025-02-28 00:00:00"]
    pdf = requests.get(r.json["data"][1]["file"], timeout=10).content
    assert pdf.startswith(b"%PDF") and b"25.00000" in pdf and b"12.50000" in pdf
    r = carrier(client, tenant, customer, "get_invoices", **{"from": "2025-02-01", "to": "2025-02-28"})
    assert [i["date"] for i in r.json["data"]] == ["2025-02-28 00:00:00"]
    assert carrier(client, tenant, customer, "get_invoices", **{"from": "nope"}).status_code == 404


def _crashed_payment(t, customer, key, amount="9"):
    """What make_payment leaves when the process dies right after recording the payment."""
    return entities.create(payments.PAYMENT, t, {
        "customerId": customer["id"], "amount": Decimal(amount), "method": "credit card", "status": "pending",
        "openState": "pending", "requestKey": f"{customer['id']}:{key}", "brand": "visa", "last4": "4242"})


def test_pending_payments_left_by_a_crash_are_reconciled(client, tenant):
    from chalicelib.domain.money.cards import parse_card
    from chalicelib.adapters import payments as gateways

    customer = new_customer(admin(tenant))
    t = tenant["tenant"]["id"]
    before_call = _crashed_payment(t, customer, "crash-1")
    after_call = _crashed_payment(t, customer, "crash-2")
    # The second one reached the gateway, which charged it, before the crash.
    gateways.SandboxGateway().charge(amount=Decimal("9"), currency="USD", reference=payments.payment_reference(t, after_call),
                                     card=parse_card(number="4242424242424242", exp_month="12", exp_year=NEXT_YEAR,
                                                     cvv="123", first_name="A", last_name="L"))
    # Young pending payments may still have a request talking to the gateway: left alone.
    assert payments.reconcile(tenant=t) == {"approved": 0, "declined": 0, "still_unknown": 0, "failed": 0}
    assert payments.reconcile(tenant=t, pending_minutes=0) == {"approved": 1, "declined": 0, "still_unknown": 0,
                                                               "failed": 1}
    assert payments.reconcile(tenant=t, pending_minutes=0) == {"approved": 0, "declined": 0, "still_unknown": 0,
                                                               "failed": 0}
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == 9 == ledger_sum(t, customer["id"])
    statuses = {p["referenceno"]: p["status"] for p in carrier(client, tenant, customer, "get_payments").json["data"]}
    # Failed (never charged) is not declined (the issuer said no): its own code.
    assert statuses == {payments.payment_reference(t, before_call): "3", payments.payment_reference(t, after_call): "1"}
    # The client's retry of the failed one is refused, not charged.
    r = carrier(client, tenant, customer, "make_payment", headers={"Idempotency-Key": "crash-1"}, amount="9", **card())
    assert r.status_code == 402 and ledger_sum(t, customer["id"]) == 9


def test_payments_made_before_the_date_index_are_backfilled_once(client, tenant):
    from chalicelib import settings
    from chalicelib.store.dynamo.codec import to_item
    from chalicelib.store.dynamo.table import ddb

    customer = new_customer(admin(tenant))
    t = tenant["tenant"]["id"]
    assert carrier(client, tenant, customer, "make_payment", amount="4", **card()).status_code == 200
    [paid] = entities.list_page(payments.PAYMENT, t, entities.Page(), parent_id=customer["id"])
    ddb().update_item(TableName=settings.main_table(), Key=to_item({"PK": f"T#{t}#PAYMENT", "SK": f"{paid['id']:012d}"}),
                      UpdateExpression="REMOVE GSI4PK, GSI4SK")
    assert carrier(client, tenant, customer, "get_payments").json["data"] == []
    assert payments.index_payments(tenant=t) == {"tenant": t, "indexed": 1, "already": 0}
    assert payments.index_payments(tenant=t) == {"tenant": t, "indexed": 0, "already": 1}
    assert [p["amount"] for p in carrier(client, tenant, customer, "get_payments").json["data"]] == ["4.00"]

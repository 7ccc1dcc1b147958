"""The partner billing API (seed 001) through the Chalice test client."""
from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib import clock
from chalicelib.domain.money import ledger as rules
from chalicelib.domain.money.ledger import TENANT_ACCOUNT
from chalicelib.services.money import ledger
from chalicelib.services.identity import users
from chalicelib.adapters import mail
from tests.support.worlds.money import admin, ledger_sum, new_customer

BASE = "/partner/api/v1"
LOCAL = ["127.0.0.1/32"]  # the Chalice test client's source address


class Partner:
    def __init__(self, client, key):
        self.client, self.key = client, key

    def call(self, method, path, fields=None, multipart=False, headers=None):
        head = {"token": self.key, **(headers or {})}
        body = None
        if fields is not None:
            if multipart:
                boundary = uuid.uuid4().hex
                parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                         for k, v in fields.items()]
                body = "".join(parts) + f"--{boundary}--\r\n"
                head["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            else:
                from urllib.parse import urlencode
                body = urlencode(fields)
                head["Content-Type"] = "application/x-www-form-urlencoded"
        response = getattr(self.client, method.lower())(BASE + path, headers=head, body=body)
        response.json = json.loads(response.body, parse_float=Decimal) if response.body else None
        return response


@pytest.fixture()
def partner(client, tenant):
    # The partner API answers only callers whose address is on the user's allow-list.
    users.set_allowlist(tenant=tenant["tenant"]["id"], user_id=tenant["user"]["id"], ips=LOCAL)
    return Partner(client, tenant["user"]["api_key"])


def fund_partner(tenant, amount="100"):
    ledger.post_movement(tenant=tenant["tenant"]["id"], account=TENANT_ACCOUNT, activity=rules.BANK_TRANSFER,
                         amount=Decimal(amount), reference="seed", idempotency_key=uuid.uuid4().hex)


def test_move_funds_multipart_and_back(partner, tenant):
    customer = new_customer(admin(tenant), credit_limit="-55")
    fund_partner(tenant)
    r = partner.call("PUT", "/funds", {"account_number": customer["accountNumber"], "amount": "42.08793",
                                       "description": "top up"}, multipart=True)
    assert r.status_code == 200, r.body
    assert r.json == {"code": 200, "data": {"customer_balance": Decimal("42.08793"), "customer_credit_limit": -55}}
    r = partner.call("PUT", "/funds", {"account_number": customer["accountNumber"], "amount": "-2.08793"})
    assert r.json["data"]["customer_balance"] == 40
    t = tenant["tenant"]["id"]
    assert ledger.balance_of(tenant=t, account=TENANT_ACCOUNT)[0] == Decimal("60")


@pytest.mark.parametrize("amount", ["1.000001", "0", "NaN", "abc", "", "Infinity", "1e400", "1_0", " 5 ", "1e1"])
def test_bad_amounts_change_nothing(partner, tenant, amount):
    customer = new_customer(admin(tenant))
    fund_partner(tenant)
    r = partner.call("PUT", "/funds", {"account_number": customer["accountNumber"], "amount": amount})
    assert r.status_code == 400 and r.json["error"] == "invalid_request"
    assert ledger_sum(tenant["tenant"]["id"], customer["id"]) == 0
    assert ledger.balance_of(tenant=tenant["tenant"]["id"], account=TENANT_ACCOUNT)[0] == 100


def test_unknown_account_and_insufficient_funds_change_nothing(partner, tenant):
    customer = new_customer(admin(tenant))
    fund_partner(tenant, "10")
    assert partner.call("PUT", "/funds", {"account_number": "nope", "amount": "1"}).status_code == 404
    r = partner.call("PUT", "/funds", {"account_number": customer["accountNumber"], "amount": "10.00001"})
    assert r.status_code == 402 and r.json["error"] == "insufficient_funds"
    assert ledger.balance_of(tenant=tenant["tenant"]["id"], account=TENANT_ACCOUNT)[0] == 10
    assert ledger_sum(tenant["tenant"]["id"], TENANT_ACCOUNT) == 10


def test_balance_statements(partner, tenant):
    customer = new_customer(admin(tenant), credit_limit="-100")
    t = tenant["tenant"]["id"]
    fund_partner(tenant, "245.71293")
    partner.call("PUT", "/funds", {"account_number": customer["accountNumber"], "amount": "100"})
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.CALL_CHARGES_ACTIVITY,
                         amount=Decimal("-48.125"), reference="cdr", idempotency_key="cdr")
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.USF_TAX, amount=Decimal("-7.5"),
                         reference="tax", idempotency_key="tax")
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.CREDIT_CARD, amount=Decimal("57"),
                         reference="pay", idempotency_key="pay")
    r = partner.call("GET", f"/customers/{customer['accountNumber']}/balance")
    assert r.json["data"] == {"opening_balance": 0, "payments": 57, "adjustments": 100, "call_charges": Decimal("48.125"),
                              "other_charges": Decimal("7.5"), "total_charges": Decimal("55.625"),
                              "closing_balance": Decimal("101.375")}
    r = partner.call("GET", "/balance?initial_date=2000-01-01&final_date=2999-12-31")
    assert r.json["data"]["closing_balance"] == Decimal("145.71293")
    assert partner.call("GET", "/balance?initial_date=2020-02-31").status_code == 400


def test_wrong_token_and_foreign_ip_are_401(partner, tenant, client):
    assert Partner(client, "dtk_wrong").call("GET", "/balance").status_code == 401
    t, admin_user = tenant["tenant"]["id"], tenant["user"]
    users.set_allowlist(tenant=t, user_id=admin_user["id"], ips=["10.0.0.0/8"])
    try:
        r = partner.call("PUT", "/funds", {"account_number": "x", "amount": "1"})
        assert r.status_code == 401 and r.json["error"] == "not_authorised"
    finally:
        users.set_allowlist(tenant=t, user_id=admin_user["id"], ips=LOCAL)


def test_a_user_without_an_allow_list_has_no_partner_access(partner, tenant):
    customer = new_customer(admin(tenant))
    fund_partner(tenant)
    t, admin_user = tenant["tenant"]["id"], tenant["user"]
    users.set_allowlist(tenant=t, user_id=admin_user["id"], ips=[])
    for method, path, fields in (("GET", "/balance", None),
                                 ("PUT", "/funds", {"account_number": customer["accountNumber"], "amount": "1"})):
        r = partner.call(method, path, fields)
        assert r.status_code == 401 and r.json["error"] == "not_authorised", r.body
        assert "allow-list" in r.json["message"]
    assert ledger_sum(t, customer["id"]) == 0
    users.set_allowlist(tenant=t, user_id=admin_user["id"], ips=LOCAL)
    assert partner.call("GET", "/balance").status_code == 200


def _mails(tenant):
    return mail.captured(tenant["tenant"]["id"])


def _code(text):
    return re.search(r"code=([A-Za-z0-9_.\-]+)", text).group(1)


def test_registration_confirmation_login_and_reset(partner, tenant, client):
    fields = {"name": "Zed", "email": "zed@example.com", "password": "s3cret-pass", "phone": "+15550001",
              "google_captcha": "test-pass"}
    r = partner.call("POST", "/customers", fields, multipart=True)
    assert r.status_code == 200, r.body
    account = r.json["data"]["account_number"]
    sent = _mails(tenant)
    assert sent[0]["to"] == "zed@example.com" and account in sent[0]["body"]
    code = _code(sent[0]["body"])
    wrong = partner.call("POST", f"/customers/{account}/confirm-email", {"code": code + "x",
                                                                          "google_captcha": "test-pass"})
    assert wrong.status_code == 400 and wrong.json["error"] == "invalid_link"
    ok = partner.call("POST", f"/customers/{account}/confirm-email", {"code": code, "google_captcha": "test-pass"})
    assert ok.status_code == 200 and ok.json["data"]["email_confirmed"] is True
    reused = partner.call("POST", f"/customers/{account}/confirm-email", {"code": code, "google_captcha": "test-pass"})
    assert reused.status_code == 400

    url = partner.call("POST", f"/customers/{account}/login-url", {"google_captcha": "test-pass"}).json["data"]["url"]
    path = url[url.index("/partner/api/v1"):]
    first = client.get(path)
    assert first.status_code == 200 and json.loads(first.body)["data"]["session_token"].startswith("dts_")
    assert client.get(path).status_code == 400  # single use

    assert partner.call("POST", f"/customers/{account}/reset-password",
                        {"google_captcha": "test-pass"}).status_code == 200
    reset_code = _code(_mails(tenant)[0]["body"])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = client.post(BASE + "/password", headers=form, body=f"code={reset_code}&password=brand-new-pass")
    assert r.status_code == 200
    again = client.post(BASE + "/password", headers=form, body=f"code={reset_code}&password=other-pass-1")
    assert again.status_code == 400
    from chalicelib.auth import hashing as secrets
    user = users.find_user(tenant=tenant["tenant"]["id"], user="zed@example.com")
    assert secrets.verify_password("brand-new-pass", user["passwordHash"]) and user["emailConfirmed"]


def test_expired_links_are_refused(partner, tenant, client):
    r = partner.call("POST", "/customers", {"name": "Old", "email": "old@example.com", "password": "s3cret-pass",
                                            "google_captcha": "test-pass"})
    account = r.json["data"]["account_number"]
    url = partner.call("POST", f"/customers/{account}/login-url", {"google_captcha": "test-pass"}).json["data"]["url"]
    with clock.frozen(clock.now() + timedelta(seconds=301)):
        assert client.get(url[url.index("/partner/api/v1"):]).status_code == 400


@pytest.mark.parametrize("captcha", [None, "", "wrong"])
def test_posts_need_the_captcha(partner, tenant, captcha):
    fields = {"name": "Nope", "email": f"nope-{captcha}@example.com", "password": "s3cret-pass"}
    if captcha is not None:
        fields["google_captcha"] = captcha
    r = partner.call("POST", "/customers", fields)
    assert r.status_code == 400 and r.json["error"] == "captcha_failed"
    assert _mails(tenant) == []
    from chalicelib.domain.errors import NotFoundError
    with pytest.raises(NotFoundError):  # no user was made
        users.find_user(tenant=tenant["tenant"]["id"], user=fields["email"])


def _link(text):
    """The path of the link in an e-mail (as a browser would open it)."""
    url = re.search(r"(https?://\S+)", text).group(1)
    return url[url.index("/partner/"):]


def _form_fields(page):
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))


def _page(response):
    body = response.body.decode("utf-8") if isinstance(response.body, bytes) else response.body
    return response.status_code, body


def test_the_e_mailed_links_open_pages_that_work(partner, tenant, client):
    from urllib.parse import urlencode

    from chalicelib.auth import hashing as secrets

    t = tenant["tenant"]["id"]
    r = partner.call("POST", "/customers", {"name": "Ann", "email": "ann@example.com", "password": "s3cret-pass",
                                            "google_captcha": "test-pass"})
    account = r.json["data"]["account_number"]
    link = _link(_mails(tenant)[0]["body"])
    assert link.startswith("/partner/confirm-email?")
    opened = client.get(link)  # as a browser opens it: a form, nothing used up yet
    assert opened.headers["Content-Type"].startswith("text/html")
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    status, page = _page(opened)
    assert status == 200 and "<form" in page and "<script" not in page
    assert client.get(link).status_code == 200  # a mail scanner's fetch does not use the link
    assert not users.find_user(tenant=t, user="ann@example.com").get("emailConfirmed")
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def post(path, fields):
        return _page(client.post(path, headers=form, body=urlencode(fields)))

    status, done = post("/partner/confirm-email", _form_fields(page))
    assert status == 200 and "is confirmed" in done
    assert users.find_user(tenant=t, user="ann@example.com")["emailConfirmed"]
    status, again = post("/partner/confirm-email", _form_fields(page))
    assert status == 400 and "already been used" in again  # single use
    assert client.get(link).status_code == 400
    assert client.get("/partner/confirm-email?code=forged").status_code == 400

    partner.call("POST", f"/customers/{account}/reset-password", {"google_captcha": "test-pass"})
    link = _link(_mails(tenant)[0]["body"])
    assert link.startswith("/partner/reset-password?")
    status, page = _page(client.get(link))
    assert status == 200 and 'type="password"' in page
    code = _form_fields(page)["code"]
    status, differ = post("/partner/reset-password", {"code": code, "password": "brand-new-pass",
                                                      "password_again": "other"})
    assert status == 400 and "differ" in differ and 'type="password"' in differ
    status, short = post("/partner/reset-password", {"code": code, "password": "short", "password_again": "short"})
    assert status == 400 and "at least" in short
    status, changed = post("/partner/reset-password", {"code": code, "password": "brand-new-pass",
                                                       "password_again": "brand-new-pass"})
    assert status == 200 and "has been changed" in changed
    assert secrets.verify_password("brand-new-pass", users.find_user(tenant=t, user="ann@example.com")["passwordHash"])
    status, reused = post("/partner/reset-password", {"code": code, "password": "third-pass-1",
                                                      "password_again": "third-pass-1"})
    assert status == 400 and "already been used" in reused
    assert secrets.verify_password("brand-new-pass", users.find_user(tenant=t, user="ann@example.com")["passwordHash"])


def test_402_messages_name_what_the_client_knows(partner, tenant):
    customer = new_customer(admin(tenant), credit_limit="0")
    fund_partner(tenant, "10")
    r = partner.call("PUT", "/funds", {"account_number": customer["accountNumber"], "amount": "10.5"})
    assert r.status_code == 402 and r.json["message"].startswith("your partner balance: balance 10"), r.json
    r = partner.call("PUT", "/funds", {"account_number": customer["accountNumber"], "amount": "-1"})
    assert r.status_code == 402 and r.json["message"].startswith(f"account {customer['accountNumber']}: "), r.json
    assert "TENANT" not in r.json["message"] and f"{customer['id']:012d}" not in r.json["message"]

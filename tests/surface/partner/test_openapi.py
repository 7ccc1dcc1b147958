"""The partner API's OpenAPI description (/partner/api/v1/openapi.json) is
valid, describes every route the blueprint registers, and every answer below,
of every operation, success and error, matches it."""
from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.api.partner import openapi
from tests.support.worlds.money import admin, new_customer
from tests.support.checks.openapi import check, documented_routes, registered_routes, served

BASE = "/partner/api/v1"
CAPTCHA = {"google_captcha": "test-pass"}


@pytest.fixture()
def document(client: Any) -> dict[str, Any]:
    return served(client, BASE + "/openapi.json")  # no token needed


class Partner:
    """Calls the partner API with one key (or none), in any of the accepted
    encodings, and checks every answer against the description."""

    def __init__(self, client: Any, document: dict[str, Any], key: str | None) -> None:
        self.client, self.document, self.key = client, document, key
        self.seen: dict[tuple[str, str], set[int]] = defaultdict(set)

    def __call__(self, verb: str, path: str, fields: dict[str, str] | None = None, *, encoding: str = "form",
                 headers: dict | None = None, expect: int | None = 200) -> dict[str, Any]:
        head = {**({"token": self.key} if self.key else {}), **(headers or {})}
        body: str | None = None
        if fields is not None:
            if encoding == "multipart":
                boundary = uuid.uuid4().hex
                body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                               for k, v in fields.items()) + f"--{boundary}--\r\n"
                head.setdefault("Content-Type", f"multipart/form-data; boundary={boundary}")
            elif encoding == "json":
                body = json.dumps(fields)
                head.setdefault("Content-Type", "application/json")
            else:
                body = urlencode(fields)
                head.setdefault("Content-Type", "application/x-www-form-urlencoded")
        response = getattr(self.client, verb.lower())(BASE + path, headers=head, body=body)
        answer = json.loads(response.body)
        template = re.sub(r"^/customers/[^/?]+", "/customers/{account_number}", path.split("?")[0])
        check(self.document, verb, template, response.status_code, answer)
        self.seen[(template, verb)].add(response.status_code)
        if expect is not None:
            assert response.status_code == expect, (verb, path, answer)
        return answer


def test_password_minimum_matches_the_code() -> None:
    from chalicelib.services.identity import signup

    assert openapi.MIN_PASSWORD == signup.MIN_PASSWORD


def test_error_table_is_described() -> None:
    from chalicelib.api.partner import errors

    described = {(int(status), name) for status, names, _ in openapi.ERRORS for name in names}
    assert {(status, name) for _, status, name in errors.TABLE} == described


def test_the_description_is_not_loaded_on_a_cold_start() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = "import app, sys; print(sorted(m for m in sys.modules if m.startswith('chalicelib.api.partner.openapi')))"
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_every_route_is_described(document: dict[str, Any]) -> None:
    registered = set(registered_routes(BASE))
    assert len(registered) >= 10  # the routes were found
    assert registered == documented_routes(document)


def _code(text: str) -> str:
    return re.search(r"code=([A-Za-z0-9_.\-]+)", text).group(1)  # type: ignore[union-attr]


def test_answers_match_the_description(client: Any, document: dict[str, Any], tenant: dict[str, Any]) -> None:
    from chalicelib.adapters import mail
    from chalicelib.domain.money import ledger as rules
    from chalicelib.domain.money.ledger import TENANT_ACCOUNT
    from chalicelib.services.identity import users
    from chalicelib.services.money import ledger

    t = tenant["tenant"]["id"]
    local = ["127.0.0.1/32"]  # the partner API needs the caller's address listed
    users.set_allowlist(tenant=t, user_id=tenant["user"]["id"], ips=local)
    partner = Partner(client, document, tenant["user"]["api_key"])
    public = Partner(client, document, None)
    customer = new_customer(admin(tenant), credit_limit="-5")
    account = customer["accountNumber"]
    ledger.post_movement(tenant=t, account=TENANT_ACCOUNT, activity=rules.BANK_TRANSFER, amount=Decimal("100"),
                         reference="seed", idempotency_key="seed")

    # Balances and fund moves.
    partner("PUT", "/funds", {"account_number": account, "amount": "42.08793", "description": "top up"},
            encoding="multipart", headers={"Idempotency-Key": "f-1"})
    partner("PUT", "/funds", {"account_number": account, "amount": "-2.08793"})
    partner("PUT", "/funds", {"account_number": account, "amount": "1"}, encoding="json")
    partner("PUT", "/funds", {"account_number": account, "amount": "1.000001"}, expect=400)
    partner("PUT", "/funds", {"account_number": "nope", "amount": "1"}, expect=404)
    partner("PUT", "/funds", {"account_number": account, "amount": "1000"}, expect=402)
    partner("PUT", "/funds", {"account_number": account, "amount": "1"}, headers={"Content-Type": "text/csv"},
            expect=415)
    partner("GET", f"/customers/{account}/balance?initial_date=2000-01-01&final_date=2999-12-31")
    partner("GET", "/customers/nope/balance", expect=404)
    partner("GET", "/balance")
    partner("GET", "/balance?initial_date=2020-02-31", expect=400)
    partner("GET", "/balance", headers={"Content-Type": "application/xml"}, expect=415)
    Partner(client, document, "dtk_wrong")("GET", "/balance", expect=401)
    customer_user = users.create_user(tenant=t, username=f"c-{t}", account_number=account, api_only=True)
    users.set_allowlist(tenant=t, user_id=customer_user["id"], ips=local)
    only_one = Partner(client, document, users.issue_api_key(tenant=t, user_id=customer_user["id"]))
    only_one("GET", "/balance", expect=403)
    only_one("POST", "/customers", {**CAPTCHA, "name": "No", "email": "no@example.com", "password": "s3cret-pass"},
             expect=403)
    users.set_allowlist(tenant=t, user_id=tenant["user"]["id"], ips=["10.0.0.0/8"])
    try:
        partner("PUT", "/funds", {"account_number": account, "amount": "1"}, expect=401)
    finally:
        users.set_allowlist(tenant=t, user_id=tenant["user"]["id"], ips=local)

    # Sign-up, e-mail confirmation, login links, password reset.
    fields = {**CAPTCHA, "name": "Zed", "email": "zed@example.com", "password": "s3cret-pass", "phone": "+15550001"}
    made = partner("POST", "/customers", fields, encoding="multipart")["data"]["account_number"]
    partner("POST", "/customers", {**fields, "google_captcha": "wrong"}, expect=400)
    partner("POST", "/customers", {**fields, "email": "short@example.com", "password": "short"}, expect=400)
    code = _code(mail.captured(t)[0]["body"])
    partner("POST", f"/customers/{made}/confirm-email", {**CAPTCHA, "code": code + "x"}, expect=400)
    partner("POST", f"/customers/{made}/confirm-email", {**CAPTCHA, "code": code}, encoding="json")
    partner("POST", "/customers/nope/confirm-email", {**CAPTCHA, "code": code}, expect=404)
    url = partner("POST", f"/customers/{made}/login-url", CAPTCHA)["data"]["url"]
    partner("POST", "/customers/nope/login-url", CAPTCHA, expect=404)
    login = url[url.index(BASE) + len(BASE):]
    public("GET", login)
    public("GET", login, expect=400)  # single use
    url = partner("POST", f"/customers/{made}/login-url", CAPTCHA)["data"]["url"]
    public("POST", "/session", {"code": _code(url)})
    public("POST", "/session", {"code": "forged"}, encoding="json", expect=400)
    partner("POST", f"/customers/{made}/reset-password", CAPTCHA, encoding="multipart")
    partner("POST", f"/customers/{made}/reset-password", {}, expect=400)  # no captcha
    reset = _code(mail.captured(t)[0]["body"])
    public("POST", "/password", {"code": reset, "password": "brand-new-pass"})
    public("POST", "/password", {"code": reset, "password": "other-pass-1"}, expect=400)  # used

    for template, item in document["paths"].items():
        for verb in item:
            if verb != "parameters":
                assert 200 in partner.seen[(template, verb.upper())] | public.seen[(template, verb.upper())], (
                    verb, template)

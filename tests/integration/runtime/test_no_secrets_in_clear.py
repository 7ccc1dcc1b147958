"""No password, API key, TOTP secret, card number or CVV in clear anywhere the
runtime writes (issue 15): a tenant, users, keys and card payments with known
secrets go through every surface, credentials in query strings included (the
carrier API's ``token=``, a card in a GET), with the access log on as in
`make run`; and through the portal as a browser without JavaScript sends
them (issue 16): a login with password and TOTP code, a second factor
enrolled (the secret the page shows), an API key made in the page, a card
payment. Then every DynamoDB item, every S3 object and every log line is
searched for those exact values and for any card number (Luhn-valid).

Its own runtime: the access log must be on, and the logs are read after its
processes have ended, so every line is flushed.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from requests.auth import HTTPDigestAuth

from tests.support.checks.leaks import card_numbers
from tests.support.surfaces.portal import CSRF, Codes
from tests.support.harness.runtime import LocalRuntime

PASSWORD = "Correct-Horse-Battery-9!"
ENROLLING_PASSWORD = "Tr0ubadour-Enrols-Late!"
CARDS = ("4242424242424242", "5555 5555 5555 4444")
PORTAL_CARD = "4242-4242-4242-4242"  # the sandbox approves this one only; typed with dashes in the portal form
CVV = "9137"


def _seed(runtime: LocalRuntime) -> dict[str, Any]:
    from chalicelib.services.identity import users
    from tests.support.surfaces.carrier import landlines, make_shop

    from chalicelib.store.dynamo import entities
    from chalicelib.store.identity.users import USER

    with runtime.environment():
        shop = make_shop(landlines("206555", 4), customers=1, credit_limit="-500")
        staff = users.create_user(tenant=shop.tenant, username=f"staff-{shop.tenant}", password=PASSWORD)
        made = users.create_tenant(name="Secrets Tenant")
        # A user without a second factor yet: the portal enrols one.
        enrolling = users.create_user(tenant=shop.tenant, username=f"late-{shop.tenant}", password=ENROLLING_PASSWORD)
        entities.update(USER, shop.tenant, users.get_user(tenant=shop.tenant, user_id=enrolling["id"]),
                        {"totpSecret": None})
    account = shop.accounts[0]
    return {
        "shop": shop, "account": account, "staff": staff, "made": made, "enrolling": enrolling,
        "passwords": [PASSWORD, made["user"]["password"], ENROLLING_PASSWORD],
        "api_keys": [shop.admin_key, shop.keys[account], made["user"]["api_key"]],
        "totp_secrets": [staff["totp_secret"], made["user"]["totp_secret"]],
    }


def _exercise(runtime: LocalRuntime, world: dict[str, Any]) -> None:
    base, account = runtime.base_url, world["account"]
    key = world["shop"].keys[account]
    card = {"firstname": "Ada", "lastname": "L", "expmonth": "12", "expyear": "2031", "cvv": CVV, "amount": "5"}
    with requests.Session() as s:
        # Credentials in the query string: the carrier API's token=, a card in a GET.
        assert s.get(f"{base}/carrier/getnumbers", params={"token": key, "accountno": account}).status_code == 200
        s.get(f"{base}/carrier/make_payment", params={"token": key, "accountno": account,
                                                      "cardnumber": CARDS[0], **card})
        s.post(f"{base}/carrier/make_payment", json={"token": key, "accountno": account,
                                                     "cardnumber": CARDS[1], **card})
        s.post(f"{base}/carrier/make_payment", json={"token": "dtk_not-a-key-but-looks-like-one-0000",
                                                     "accountno": account, "cardnumber": CARDS[0], **card})
        for api_key in world["api_keys"]:
            s.get(f"{base}/backend/api/v1/users/me", headers={"Authorization": f"Bearer {api_key}"})
            s.get(f"{base}/partner/api/v1/customers", headers={"token": api_key})
        made = world["made"]["user"]
        for password in (made["password"], PASSWORD):  # one right, one wrong
            s.get(f"{base}/tracking/v1/miscellaneous/ping", auth=HTTPDigestAuth(made["username"], password))
        s.get(f"{base}/tracking/v1/miscellaneous/ping", auth=HTTPDigestAuth(world["staff"]["username"], PASSWORD))


def _portal_form(session: requests.Session, url: str, fields: dict[str, str]) -> requests.Response:
    """Open the page at ``url`` and post ``fields`` with its CSRF token to its first form."""
    page = session.get(url)
    assert page.status_code == 200, page.text[-500:]
    token = CSRF.search(page.text)
    assert token, page.text[-500:]
    action = re.search(r'<form method="post" action="([^"]+)"', page.text.split("<main>", 1)[-1])
    assert action, page.text[-500:]
    return session.post(url.split("/portal")[0] + action.group(1), data={"csrf": token.group(1), **fields})


def _exercise_portal(runtime: LocalRuntime, world: dict[str, Any]) -> None:
    """The portal's secrets as a browser sends them: passwords, TOTP codes, the
    enrolment's secret, a new API key in a page, a card number and CVV."""
    import pyotp

    portal, staff, late = f"{runtime.base_url}/portal", world["staff"], world["enrolling"]
    codes = Codes(staff["totp_secret"])
    with requests.Session() as s:
        logged_in = _portal_form(s, f"{portal}/login", {"username": staff["username"], "password": PASSWORD,
                                                        "code": codes.next()})
        assert logged_in.url.endswith("/portal/dashboard"), logged_in.text[-500:]
        made = _portal_form(s, f"{portal}/api", {"password": PASSWORD, "code": codes.next()})
        key = re.search(r'id="new-key">([^<]+)<', made.text)
        assert key, made.text[-800:]
        world["api_keys"].append(key.group(1))
        assert s.get(f"{runtime.base_url}/backend/api/v1/users/me",
                     headers={"Authorization": f"Bearer {key.group(1)}"}).status_code == 200
        with runtime.environment():
            from chalicelib.services.customers.accounts import customer_id_for_account

            customer = customer_id_for_account(tenant=world["shop"].tenant, account_number=world["account"])
        paid = s.post(f"{portal}/invoices/pay", data={
            "csrf": CSRF.search(s.get(f"{portal}/invoices?customer={customer}").text).group(1),  # type: ignore[union-attr]
            "customer": str(customer), "amount": "3.25", "idempotency_key": "portal-scan-1",
            "cardnumber": PORTAL_CARD, "cvv": CVV, "expmonth": "12", "expyear": "2031",
            "firstname": "Ada", "lastname": "Payer"})
        assert paid.status_code == 200 and "approved" in paid.url, (paid.status_code, paid.text[-500:])
    with requests.Session() as s:
        enrolment = _portal_form(s, f"{portal}/login", {"username": late["username"],
                                                        "password": ENROLLING_PASSWORD, "code": ""})
        assert enrolment.url.endswith("/portal/enrol"), enrolment.text[-500:]
        secret = re.search(r'id="totp-secret">([^<]+)<', enrolment.text)
        assert secret, enrolment.text[-500:]
        world["totp_secrets"].append(secret.group(1))
        confirmed = s.post(f"{portal}/enrol", data={"csrf": CSRF.search(enrolment.text).group(1),  # type: ignore[union-attr]
                                                    "code": pyotp.TOTP(secret.group(1)).now()})
        assert confirmed.url.endswith("/portal/dashboard"), confirmed.text[-500:]


def _dynamodb_items(runtime: LocalRuntime) -> Iterator[tuple[str, str]]:
    from chalicelib.store.clients import client

    ddb = client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            for item in page["Items"]:
                yield f"dynamodb {table}", json.dumps(item, default=str)


def _s3_objects(runtime: LocalRuntime) -> Iterator[tuple[str, str]]:
    from chalicelib.store.clients import client

    s3 = client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=entry["Key"])["Body"].read()
                yield f"s3 {bucket['Name']}/{entry['Key']}", body.decode("latin-1")


def _log_lines(log_dir: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(log_dir.iterdir()):
        if path.is_file():
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                yield f"log {path.name}:{number}", line


def _findings(place: str, text: str, world: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for kind in ("passwords", "api_keys", "totp_secrets"):
        for secret in world[kind]:
            if secret in text:
                yield kind, place
    if re.search(rf"(?i)cvv\W{{0,6}}{CVV}\b", text):
        yield "cvv", place
    for number in card_numbers(text):
        yield "card numbers", f"{place}: {number}"


@pytest.fixture(scope="module")
def found() -> dict[str, list[str]]:
    runtime = LocalRuntime(access_log=True, keep_logs=True)
    places: dict[str, list[str]] = {}
    try:
        runtime.start()
        world = _seed(runtime)
        _exercise(runtime, world)
        _exercise_portal(runtime, world)
        with runtime.environment():
            stored = [*_dynamodb_items(runtime), *_s3_objects(runtime)]
        runtime.stop()  # every process ended: every log line written
        scanned = 0
        for place, text in [*stored, *_log_lines(runtime.log_dir)]:
            scanned += 1
            for kind, where in _findings(place, text, world):
                places.setdefault(kind, []).append(where)
        places["_scanned"] = [str(scanned)]
        places["_access_log_lines"] = [str(sum(1 for _, line in _log_lines(runtime.log_dir) if '"GET /' in line))]
    finally:
        runtime.stop()
        shutil.rmtree(runtime.log_dir, ignore_errors=True)
    return places


def test_the_scan_saw_the_surfaces_at_work(found: dict[str, list[str]]) -> None:
    assert int(found["_scanned"][0]) > 100 and int(found["_access_log_lines"][0]) >= 5, found


@pytest.mark.parametrize("kind", ["passwords", "api_keys", "totp_secrets", "cvv", "card numbers"])
def test_no_secret_is_stored_or_logged_in_clear(found: dict[str, list[str]], kind: str) -> None:
    assert found.get(kind, []) == []

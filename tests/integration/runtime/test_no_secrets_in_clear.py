"""No password, API key, TOTP secret, card number or CVV in clear anywhere the
runtime writes (issue 15): a tenant, users, keys and card payments with known
secrets go through every surface, credentials in query strings included (the
carrier API's ``token=``, a card in a GET), with the access log on as in
`make run`; then every DynamoDB item, every S3 object and every log line is
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

from tests.support.leaks import card_numbers
from tests.support.runtime import LocalRuntime

PASSWORD = "Correct-Horse-Battery-9!"
CARDS = ("4242424242424242", "5555 5555 5555 4444")
CVV = "9137"


def _seed(runtime: LocalRuntime) -> dict[str, Any]:
    from chalicelib.services.identity import users
    from tests.support.carrier import landlines, make_shop

    with runtime.environment():
        shop = make_shop(landlines("206555", 4), customers=1, credit_limit="-500")
        staff = users.create_user(tenant=shop.tenant, username=f"staff-{shop.tenant}", password=PASSWORD)
        made = users.create_tenant(name="Secrets Tenant")
    account = shop.accounts[0]
    return {
        "shop": shop, "account": account, "staff": staff, "made": made,
        "passwords": [PASSWORD, made["user"]["password"]],
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

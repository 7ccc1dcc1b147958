"""Making an API key asks for the password and a TOTP code again: a wrong one
there is a failed sign-in like a wrong login (auth/attempts.py), counted per
user and per address, so a stolen session cookie (or API key, on the billing
API's generateAPIKey, the same service) cannot guess the password without limit."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.surfaces.portal import Codes, Portal, text


@pytest.fixture()
def staff(tenant: dict[str, Any]) -> dict[str, Any]:
    user = tenant["user"]
    return {**user, "tenant": tenant["tenant"]["id"], "codes": Codes(user["totp_secret"])}


def _logged_in(client: Any, user: dict[str, Any]) -> Portal:
    portal = Portal(client)
    assert portal.login(user["username"], user["password"], user["codes"].next()).status_code == 303
    portal.get("/api")
    return portal


def _key_hash(staff: dict[str, Any]) -> str:
    from chalicelib.services.identity import users

    return users.find_user(tenant=staff["tenant"], user=staff["username"])["apiKeyHash"]


def test_wrong_passwords_at_the_key_form_are_throttled_per_user(client, staff):
    portal = _logged_in(client, staff)
    before = _key_hash(staff)
    for _ in range(5):
        wrong = portal.post("/api/key", {"password": "a-guess", "code": "123456"})
        assert wrong.status_code == 403 and "password or the two-factor code is wrong" in text(wrong)
    # Past the limit even the right password and code are not looked at.
    refused = portal.post("/api/key", {"password": staff["password"], "code": staff["codes"].next()})
    assert refused.status_code == 429 and "too many failed attempts" in text(refused)
    assert int(refused.headers["Retry-After"]) > 0
    assert 'id="new-key"' not in text(refused) and _key_hash(staff) == before
    # The same counters as every door: the user's next login is refused too.
    assert Portal(client).login(staff["username"], staff["password"], "123456").status_code == 429


def test_wrong_codes_at_the_key_form_count_against_the_address(client, staff, tenant, monkeypatch):
    from chalicelib.services.identity import users

    monkeypatch.setenv("SIGN_IN_LIMIT_PER_ADDRESS", "3")
    other = users.create_user(tenant=staff["tenant"], username=f"other-{staff['tenant']}", password="pass-word-9")
    other = {**other, "codes": Codes(other["totp_secret"])}
    mine, theirs = _logged_in(client, staff), _logged_in(client, other)
    assert mine.post("/api/key", {"password": staff["password"], "code": "12345x"}).status_code == 403
    assert theirs.post("/api/key", {"password": "a-guess", "code": "123456"}).status_code == 403
    assert mine.post("/api/key", {"password": staff["password"], "code": "12345x"}).status_code == 403
    # Three failures from this address, of two users: a third user is refused here.
    assert Portal(client).login("nobody", "guess", "123456").status_code == 429


def test_the_billing_apis_generate_api_key_counts_failures_too(client, staff):
    from tests.support.surfaces.platform import Api

    api = Api(client, staff["api_key"])
    for _ in range(5):
        wrong = api.post("/users/me?action=generateAPIKey", {"password": "a-guess", "totpCode": "123456"})
        assert wrong.status_code == 403
    refused = api.post("/users/me?action=generateAPIKey",
                       {"password": staff["password"], "totpCode": staff["codes"].next()})
    assert refused.status_code == 429 and refused.json["error_code"] == 429002
    assert int(refused.headers["Retry-After"]) > 0
    assert api.get("/users/me").status_code == 200  # the key was not replaced

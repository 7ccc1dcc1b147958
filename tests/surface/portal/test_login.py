"""The portal's login, sessions and CSRF rule, in process (the Chalice test client)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.surfaces.portal import Codes, Portal, text


@pytest.fixture()
def portal(client: Any) -> Portal:
    return Portal(client)


@pytest.fixture()
def staff(tenant: dict[str, Any]) -> dict[str, Any]:
    user = tenant["user"]
    return {**user, "tenant": tenant["tenant"]["id"], "codes": Codes(user["totp_secret"])}


def test_login_page_is_a_form_with_a_token_and_the_security_headers(portal):
    page = portal.get("/login")
    assert page.status_code == 200
    assert 'name="csrf"' in text(page) and 'name="code"' in text(page)
    headers = {k.lower(): v for k, v in page.headers.items()}
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/portal" in cookie


def test_pages_need_a_login(portal):
    answer = portal.get("/dashboard")
    assert answer.status_code == 303 and answer.headers["Location"] == "/portal/login"


def test_login_with_the_right_code_opens_a_new_session(portal, staff):
    portal.get("/login")
    visitor = portal.cookie
    answer = portal.post("/login", {"username": staff["username"], "password": staff["password"],
                                    "code": staff["codes"].next()})
    assert answer.status_code == 303 and answer.headers["Location"] == "/portal/dashboard"
    assert portal.cookie and portal.cookie != visitor  # no fixation: a new id at login
    page = portal.get("/dashboard")
    assert page.status_code == 200 and 'id="balance"' in text(page)
    # The visitor's session is gone: its id is worth nothing now.
    portal.cookie = visitor
    assert portal.get("/dashboard").status_code == 303


@pytest.mark.parametrize("wrong", ["password", "code"])
def test_a_wrong_password_or_code_is_refused(portal, staff, wrong):
    fields = {"username": staff["username"], "password": staff["password"], "code": staff["codes"].next()}
    fields[wrong] = "000000" if wrong == "code" and fields["code"] != "000000" else "not-it"
    portal.get("/login")
    answer = portal.post("/login", fields)
    assert answer.status_code == 401 and "wrong username, password or two-factor code" in text(answer)
    assert portal.get("/dashboard").status_code == 303


def test_a_replayed_code_is_refused(portal, client, staff):
    code = staff["codes"].next()
    assert portal.login(staff["username"], staff["password"], code).status_code == 303
    again = Portal(client)
    answer = again.login(staff["username"], staff["password"], code)
    assert answer.status_code == 401 and "already been used" in text(answer)
    assert again.get("/dashboard").status_code == 303


def test_wrong_attempts_are_throttled_per_user(portal, staff):
    for _ in range(5):
        assert portal.login(staff["username"], "not-it", "123456").status_code == 401
    # Now even the right password and code are not looked at.
    answer = portal.login(staff["username"], staff["password"], staff["codes"].next())
    assert answer.status_code == 429 and "too many failed attempts" in text(answer)
    assert int(answer.headers["Retry-After"]) > 0


def test_a_post_without_the_token_is_403_and_changes_nothing(portal, staff):
    from chalicelib.services.identity import users

    portal.login(staff["username"], staff["password"], staff["codes"].next())
    portal.get("/api")
    for token in (False, "forged"):
        answer = portal.post("/api/ips", {"ip": "10.9.9.9"}, csrf=token)
        assert answer.status_code == 403 and "Nothing was changed" in text(answer)
    assert users.find_user(tenant=staff["tenant"], user=staff["username"])["ipAllowlist"] == []


def test_a_login_post_without_the_token_is_403(portal, staff):
    portal.get("/login")
    answer = portal.post("/login", {"username": staff["username"], "password": staff["password"],
                                    "code": staff["codes"].next()}, csrf=False)
    assert answer.status_code == 403
    assert portal.get("/dashboard").status_code == 303


def test_logout_ends_the_session(portal, staff):
    portal.login(staff["username"], staff["password"], staff["codes"].next())
    kept = portal.cookie
    portal.get("/dashboard")
    answer = portal.post("/logout", {})
    assert answer.status_code == 303 and "Max-Age=0" in answer.headers["Set-Cookie"]
    portal.cookie = kept
    assert portal.get("/dashboard").status_code == 303


def test_sessions_expire(portal, staff):
    from datetime import timedelta

    from chalicelib import clock

    portal.login(staff["username"], staff["password"], staff["codes"].next())
    assert portal.get("/dashboard").status_code == 200
    with clock.frozen(clock.now() + timedelta(hours=8, seconds=1)):
        assert portal.get("/dashboard").status_code == 303


def test_a_user_without_a_second_factor_enrols_with_a_qr_code(portal, tenant):
    import pyotp

    from chalicelib.services.identity import users
    from chalicelib.store.dynamo import entities
    from chalicelib.store.identity.users import USER

    tenant_id = tenant["tenant"]["id"]
    made = users.create_user(tenant=tenant_id, username=f"newbie-{tenant_id}", password="pass-word-1")
    record = users.get_user(tenant=tenant_id, user_id=made["id"])
    entities.update(USER, tenant_id, record, {"totpSecret": None})
    answer = portal.login(made["username"], "pass-word-1", "")
    assert answer.status_code == 303 and answer.headers["Location"] == "/portal/enrol"
    page = portal.get("/enrol")
    assert 'src="data:image/svg+xml' in text(page)
    secret = text(page).split('id="totp-secret">')[1].split("<")[0]
    assert portal.post("/enrol", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}).status_code == 401
    assert portal.post("/enrol", {"code": pyotp.TOTP(secret).now()}).headers["Location"] == "/portal/dashboard"
    from chalicelib.auth import sealing

    stored = users.get_user(tenant=tenant_id, user_id=made["id"])["totpSecret"]
    assert sealing.is_sealed(stored) and sealing.unseal(stored) == secret
    assert portal.get("/dashboard").status_code == 200
    assert secret not in text(portal.get("/api"))


def test_static_files_are_cached_by_their_content_hash(portal):
    page = text(portal.get("/login"))
    href = page.split('rel="stylesheet" href="')[1].split('"')[0]
    answer = portal.client.get(href)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/css")
    assert "immutable" in answer.headers["Cache-Control"]


def _session_items() -> int:
    from chalicelib import settings
    from chalicelib.store.clients import client

    pages = client("dynamodb").get_paginator("scan").paginate(
        TableName=settings.main_table(), FilterExpression="begins_with(PK, :p)",
        ExpressionAttributeValues={":p": {"S": "PORTAL#"}}, ConsistentRead=True)
    return sum(len(page["Items"]) for page in pages)


def test_the_login_form_stores_nothing_until_a_login_succeeds(client, portal, staff):
    for _ in range(3):
        assert Portal(client).get("/login").status_code == 200  # bots without cookies
    first = portal.get("/login")
    assert first.headers["Set-Cookie"].startswith("dialtone_login=")
    assert "Set-Cookie" not in portal.get("/login").headers  # the same token again
    assert portal.post("/login", {"username": staff["username"], "password": "not-it", "code": "123456"}).status_code == 401
    assert _session_items() == 0
    assert portal.post("/login", {"username": staff["username"], "password": staff["password"],
                                  "code": staff["codes"].next()}).status_code == 303
    assert _session_items() == 1


def test_a_login_post_needs_the_login_cookie_and_the_same_token(portal, staff):
    import secrets

    page = portal.get("/login")
    token = portal.csrf()
    assert portal.jar["dialtone_login"] == token
    fields = {"username": staff["username"], "password": staff["password"], "code": staff["codes"].next()}
    assert portal.post("/login", fields, csrf=secrets.token_urlsafe(32)).status_code == 403
    portal.jar.clear()  # the token of the page without its cookie: a cross-site POST
    assert portal.post("/login", fields, csrf=token).status_code == 403
    portal.jar["dialtone_login"] = ""
    assert portal.post("/login", fields, csrf="").status_code == 403
    assert page.status_code == 200 and _session_items() == 0


def test_a_session_id_planted_before_a_login_is_worth_nothing_after_it(client, portal, staff, tenant):
    from chalicelib.services.identity import users
    from chalicelib.store.dynamo import entities
    from chalicelib.store.identity.users import USER

    # The planted id: a real (enrolling) session of someone else's login.
    tenant_id = tenant["tenant"]["id"]
    made = users.create_user(tenant=tenant_id, username=f"plant-{tenant_id}", password="pass-word-6")
    entities.update(USER, tenant_id, users.get_user(tenant=tenant_id, user_id=made["id"]), {"totpSecret": None})
    planter = Portal(client)
    planter.login(made["username"], "pass-word-6", "")
    planted = planter.jar["dialtone_portal"]
    portal.jar["dialtone_portal"] = planted
    assert portal.login(staff["username"], staff["password"], staff["codes"].next()).status_code == 303
    assert portal.jar["dialtone_portal"] != planted and portal.get("/dashboard").status_code == 200
    assert planter.get("/enrol").status_code == 303 and _session_items() == 1  # the planted one is gone


def test_the_enrolment_secret_is_shown_once(portal, tenant):
    import pyotp

    from chalicelib.services.identity import users
    from chalicelib.store.dynamo import entities
    from chalicelib.store.identity.users import USER

    tenant_id = tenant["tenant"]["id"]
    made = users.create_user(tenant=tenant_id, username=f"once-{tenant_id}", password="pass-word-5")
    entities.update(USER, tenant_id, users.get_user(tenant=tenant_id, user_id=made["id"]), {"totpSecret": None})
    assert portal.login(made["username"], "pass-word-5", "").headers["Location"] == "/portal/enrol"
    secret = text(portal.get("/enrol")).split('id="totp-secret">')[1].split("<")[0]
    again = text(portal.get("/enrol"))  # a reload, or someone else with the cookie
    assert secret not in again and "data:image/svg+xml" not in again and 'id="secret-shown"' in again
    wrong = portal.post("/enrol", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 401 and secret not in text(wrong) and "data:image/svg+xml" not in text(wrong)
    assert portal.post("/enrol", {"code": pyotp.TOTP(secret).now()}).headers["Location"] == "/portal/dashboard"

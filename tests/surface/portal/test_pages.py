"""The portal's pages in process: what each shows, and scope."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.surfaces.portal import Codes, Portal, text


@pytest.fixture()
def staff_portal(client: Any, tenant: dict[str, Any]) -> Portal:
    user = tenant["user"]
    portal = Portal(client)
    assert portal.login(user["username"], user["password"], Codes(user["totp_secret"]).next()).status_code == 303
    return portal


def _customer(client: Any, api_key: str, name: str) -> dict[str, Any]:
    from tests.support.surfaces.platform import Api

    made = Api(client, api_key).post("/customers", {"customerName": name})
    assert made.status_code == 201, made.json
    return made.json


def test_a_customer_page_shows_its_statement_and_the_partner_url(staff_portal, tenant):
    customer = _customer(staff_portal.client, tenant["user"]["api_key"], "Darren's Pizzas")
    page = staff_portal.get(f"/customers/{customer['id']}?from=2026-01-01&to=2026-01-31")
    assert page.status_code == 200, text(page)
    assert "Darren&#39;s Pizzas" in text(page)
    assert (f"/partner/api/v1/customers/{customer['accountNumber']}/balance?initial_date=2026-01-01"
            f"&amp;final_date=2026-01-31") in text(page)
    listed = staff_portal.get("/customers?q=darren")
    assert f"/portal/customers/{customer['id']}" in text(listed)


def test_another_tenants_customer_is_not_found(staff_portal):
    from chalicelib.services.identity import users

    other = users.create_tenant(name="Other")
    theirs = _customer(staff_portal.client, other["user"]["api_key"], "Theirs")
    for path in (f"/customers/{theirs['id']}", f"/numbers?customer={theirs['id']}",
                 f"/invoices?customer={theirs['id']}", f"/statistics?customer={theirs['id']}"):
        page = staff_portal.get(path)
        assert page.status_code == 404 and "Theirs" not in text(page), path


def test_a_customer_user_sees_its_own_account_only(client, tenant):
    from chalicelib.services.identity import users

    mine = _customer(client, tenant["user"]["api_key"], "Mine")
    other = _customer(client, tenant["user"]["api_key"], "Not Mine")
    made = users.create_user(tenant=tenant["tenant"]["id"], username=f"c-{tenant['tenant']['id']}",
                             account_number=mine["accountNumber"], password="pass-word-2")
    portal = Portal(client)
    assert portal.login(made["username"], "pass-word-2", Codes(made["totp_secret"]).next()).status_code == 303
    assert mine["accountNumber"] in text(portal.get("/dashboard"))
    assert portal.get("/customers").headers["Location"] == f"/portal/customers/{mine['id']}"
    assert portal.get(f"/customers/{other['id']}").status_code == 404
    assert "Customers</a>" not in text(portal.get("/dashboard"))


def test_every_page_renders(staff_portal, tenant):
    customer = _customer(staff_portal.client, tenant["user"]["api_key"], "Pages")
    for path in ("/dashboard", "/api", "/customers", f"/numbers?customer={customer['id']}",
                 f"/invoices?customer={customer['id']}", f"/statistics?customer={customer['id']}", "/numbers",
                 "/invoices", "/statistics"):
        page = staff_portal.get(path)
        assert page.status_code == 200, (path, text(page)[-500:])
        assert "<script>" not in text(page) and " style=" not in text(page)


def _card(**extra: str) -> dict[str, str]:
    from chalicelib import clock

    return {"cardnumber": "4242424242424242", "expmonth": "12", "expyear": str(clock.today().year + 1), "cvv": "123",
            "firstname": "Ada", "lastname": "Payer", **extra}


def test_a_card_payment_through_the_sandbox_gateway_credits_once(staff_portal, tenant):
    customer = _customer(staff_portal.client, tenant["user"]["api_key"], "Payer")
    staff_portal.get(f"/invoices?customer={customer['id']}")
    form = {"customer": str(customer["id"]), "amount": "12.50", "idempotency_key": "form-1", **_card()}
    first = staff_portal.post("/invoices/pay", form)
    assert first.status_code == 303 and "approved" in first.headers["Location"], text(first)[-800:]
    staff_portal.post("/invoices/pay", form, csrf=staff_portal.csrf(text(staff_portal.get(
        f"/invoices?customer={customer['id']}"))))  # the same form sent again
    page = text(staff_portal.get(f"/invoices?customer={customer['id']}"))
    assert page.count("12.50</td>") == 1 and "4242424242424242" not in page and "····4242" in page
    declined = staff_portal.post("/invoices/pay", {**form, "idempotency_key": "form-2",
                                                   **_card(cardnumber="4000000000000002")})
    assert declined.status_code == 402


def test_the_cookie_is_secure_outside_the_local_and_test_stages(monkeypatch):
    from chalice import Response

    from chalicelib.api.portal import dialect
    from chalicelib.services.identity.portal import Session

    visit = dialect.Visit(request=None, base="/dev/portal", session=None,  # type: ignore[arg-type]
                          new_session=Session(id="abc", state="user", csrf="x"))
    monkeypatch.setenv("DIALTONE_STAGE", "dev")
    response = Response(body="")
    dialect._set_cookie(visit, response)
    assert response.headers["Set-Cookie"] == "dialtone_portal=abc; Path=/dev/portal; HttpOnly; SameSite=Lax; Secure"


def test_expert_mode_creates_api_only_users_and_keys_once_with_the_data_protection_rule(client, tenant):
    from chalicelib.services.identity import users

    tenant_id = tenant["tenant"]["id"]
    owner = Portal(client)
    owner.login(tenant["user"]["username"], tenant["user"]["password"], Codes(tenant["user"]["totp_secret"]).next())
    owner.get("/api")
    assert owner.post("/api/users", {"username": f"robot-{tenant_id}"}).status_code == 303
    robot = users.find_user(tenant=tenant_id, user=f"robot-{tenant_id}")
    assert robot["apiOnly"] and f"robot-{tenant_id}" in text(owner.get("/api"))
    issued = owner.post(f"/api/users/{robot['id']}/key", {})
    assert issued.status_code == 200 and 'id="new-key"' in text(issued)
    key = text(issued).split('id="new-key">')[1].split("<")[0]
    assert key not in text(owner.get("/api"))

    # An administrator without the primary data protection right cannot replace it.
    plain = users.create_user(tenant=tenant_id, username=f"plain-{tenant_id}", roles=["OrganisationAdmin"],
                              password="pass-word-3")
    other = Portal(client)
    other.login(plain["username"], "pass-word-3", Codes(plain["totp_secret"]).next())
    other.get("/api")
    refused = other.post(f"/api/users/{robot['id']}/key", {})
    assert refused.status_code == 403
    assert users.get_user(tenant=tenant_id, user_id=robot["id"])["apiKeyHash"] == robot_key_hash(key)


def robot_key_hash(key: str) -> str:
    from chalicelib.auth import hashing

    return hashing.api_key_hash(key)


def test_a_user_without_the_right_cannot_tell_which_user_ids_exist(client, tenant):
    from chalicelib.services.identity import users

    tenant_id = tenant["tenant"]["id"]
    robot = users.create_user(tenant=tenant_id, username=f"robot-{tenant_id}", api_only=True)
    plain = users.create_user(tenant=tenant_id, username=f"clerk-{tenant_id}", password="pass-word-4")
    clerk = Portal(client)
    clerk.login(plain["username"], "pass-word-4", Codes(plain["totp_secret"]).next())
    answers = []
    for target in (robot["id"], tenant["user"]["id"], 987654, "x1"):
        clerk.get("/api")
        answer = clerk.post(f"/api/users/{target}/key", {})
        answers.append((answer.status_code, text(answer).split("<main")[1]))
    assert answers[0][0] == 403 and all(answer == answers[0] for answer in answers), answers
    assert "apiKeyHash" not in users.get_user(tenant=tenant_id, user_id=robot["id"])

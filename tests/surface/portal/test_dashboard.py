"""The main menu of staff limited to some customers (account managers and
commission holders): their customers' balances, totals and latest movements,
under a heading that says so, and nothing of other customers or the wallet."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.surfaces.portal import Codes, Portal, text


def _customer(client: Any, api_key: str, fields: dict[str, Any]) -> dict[str, Any]:
    from tests.support.surfaces.platform import Api

    made = Api(client, api_key).post("/customers", fields)
    assert made.status_code == 201, made.json
    return made.json


@pytest.mark.parametrize("access, field, heading", [
    ("manager", "accountManagerID", "as their account manager"),
    ("commission", "commissionHolderID", "hold the commission of"),
])
def test_staff_limited_to_some_customers_see_those_customers(client, tenant, access, field, heading):
    from chalicelib.services.identity import users
    from chalicelib.services.money import statements

    tenant_id, admin_key = tenant["tenant"]["id"], tenant["user"]["api_key"]
    staff = users.create_user(tenant=tenant_id, username=f"{access}-{tenant_id}", customer_access=access,
                              password="pass-word-7")
    first = _customer(client, admin_key, {"customerName": "Alpha Bakery", field: staff["id"]})
    second = _customer(client, admin_key, {"customerName": "Beta Garage", field: staff["id"]})
    other = _customer(client, admin_key, {"customerName": "Gamma Elsewhere"})
    statements.adjust_balance(tenant=tenant_id, account_number=first["accountNumber"], amount="25", reason="Top-up A")
    statements.adjust_balance(tenant=tenant_id, account_number=first["accountNumber"], amount="-5", reason="Fee A")
    statements.adjust_balance(tenant=tenant_id, account_number=second["accountNumber"], amount="7.5",
                              reason="Top-up B")
    statements.adjust_balance(tenant=tenant_id, account_number=other["accountNumber"], amount="900",
                              reason="Top-up G")
    statements.adjust_balance(tenant=tenant_id, account_number=None, amount="1000", reason="Wallet")

    portal = Portal(client)
    assert portal.login(staff["username"], "pass-word-7", Codes(staff["totp_secret"]).next()).status_code == 303
    page = portal.get("/dashboard")
    assert page.status_code == 200, text(page)[-800:]
    html = text(page)
    assert heading in html and "wallet" not in html
    assert 'id="managed-count">2<' in html and 'id="managed-balance">27.50<' in html
    for customer in (first, second):
        assert f'href="/portal/customers/{customer["id"]}"' in html
    assert "Top-up A" in html and "Fee A" in html and "Top-up B" in html
    assert "Gamma Elsewhere" not in html and "Top-up G" not in html and "900.00" not in html
    assert "1,000.00" not in html

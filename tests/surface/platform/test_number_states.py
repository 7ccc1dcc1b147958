"""A customer's numbers on the billing API (issue 14): dropped and reinstated
by action like every resource, and numbers from elsewhere recorded as the
customer's own (never stock, unique in the tenant, not charged)."""
from decimal import Decimal

import pytest

from chalicelib.services.identity import users
from chalicelib.services.numbers import orders
from chalicelib.services.numbers import reservations
from chalicelib.store.numbers import inventory as store
from tests.support.worlds.numbers import import_landlines, own
from tests.support.surfaces.platform import Api


def customer(api, name="Acme Corp", credit_limit="-100"):
    response = api.post("/customers", {"customerName": name, "creditLimit": credit_limit})
    assert response.status_code == 201, response.body
    return response.json


def test_drop_and_reinstate_a_number(api, admin):
    acme = customer(api)
    [item] = own(admin, acme["id"], ["2062190000"])
    path = f"/numbers/{item['id']}"
    dropped = api.post(f"{path}?action=drop", {"dateDrop": "2025-01-24", "statusReason": "moved"})
    assert dropped.status_code == 200, dropped.body
    assert (dropped.json["status"], dropped.json["dateDrop"], dropped.json["statusReason"]) == (
        "inactive", "2025-01-24", "moved")
    # The action answers the resource exactly as GET shows it; it stays the customer's.
    assert api.get(path).json == dropped.json
    assert dropped.json["customerID"] == acme["id"]
    assert [n["id"] for n in api.get(f"/customers/{acme['id']}/numbers").json] == [item["id"]]
    # The seed's expansion example: dropped numbers are left out of the active ones.
    assert api.get(f"/customers/{acme['id']}?expandNumbers&numberActive").json["numbers"] == []
    assert api.get(f"/customers/{acme['id']}/numbers?active=false").json == [dropped.json]
    assert store.get_number(admin.tenant_id, "2062190000")["status"] == "inactive"
    # Dropped again: the wrong state (409003), nothing changes.
    again = api.post(f"{path}?action=drop", {})
    assert (again.status_code, again.json["error_code"]) == (409, 409003)
    reinstated = api.post(f"{path}?action=reinstate")
    assert reinstated.status_code == 200, reinstated.body
    assert (reinstated.json["status"], reinstated.json["dateDrop"], reinstated.json["statusReason"]) == (
        "active", None, None)
    assert api.post(f"{path}?action=reinstate", {}).json["error_code"] == 409003
    assert api.get(f"/customers/{acme['id']}?expandNumbers&numberActive").json["numbers"][0]["id"] == item["id"]


def test_drop_defaults_to_today_and_refuses_what_it_does_not_know(api, admin):
    from chalicelib import clock

    acme = customer(api)
    [item] = own(admin, acme["id"], ["2062190001"])
    path = f"/numbers/{item['id']}"
    before = api.get(path).json
    for query, body, status, code in [
        ("?action=nope", {}, 400, 400501),
        ("", {}, 400, 400501),
        ("?action=drop", {"dateDrop": "24/01/2025"}, 400, 400502),
        ("?action=drop", {"colour": "red"}, 400, 400502),
    ]:
        response = api.post(path + query, body)
        assert (response.status_code, response.json["error_code"]) == (status, code), (query, body, response.body)
    assert api.get(path).json == before
    assert api.post("/numbers/999999?action=drop", {}).json["error_code"] == 404001
    assert api.post("/numbers/abc?action=drop", {}).json["error_code"] == 404001
    with clock.frozen("2025-03-04T10:00:00"):
        assert api.post(f"{path}?action=drop").json["dateDrop"] == "2025-03-04"


def test_cancelled_numbers_have_no_actions_and_others_see_nothing(api, admin, client):
    acme = customer(api)
    [cancelled] = own(admin, acme["id"], ["2062190002"], "cancelled")
    for action in ("drop", "reinstate"):
        assert api.post(f"/numbers/{cancelled['id']}?action={action}", {}).json["error_code"] == 409003
    [item] = own(admin, acme["id"], ["2062190003"])
    reader = users.create_user(tenant=admin.tenant_id, username=f"ro-{admin.tenant_id}", api_only=True,
                               can_write=False)
    read_only = Api(client, users.issue_api_key(tenant=admin.tenant_id, user_id=reader["id"]))
    assert read_only.post(f"/numbers/{item['id']}?action=drop", {}).json["error_code"] == 403001
    other = users.create_tenant(name="Other")
    stranger = Api(client, other["user"]["api_key"])
    assert stranger.post(f"/numbers/{item['id']}?action=drop", {}).json["error_code"] == 404001
    assert store.get_number(admin.tenant_id, "2062190003")["status"] == "active"


@pytest.mark.parametrize("given, stored, category", [
    ("2062199999", "2062199999", "landline"),
    ("+12062199998", "2062199998", "landline"),
    ("+18005550100", "8005550100", "tollfree"),
    ("+442071234567", "+442071234567", "international"),
])
def test_a_number_from_elsewhere_is_recorded_as_the_customers_own(api, admin, given, stored, category):
    acme = customer(api, credit_limit="0")  # no credit: recording one charges nothing
    counters = store.counters(admin.tenant_id, "")
    response = api.post(f"/customers/{acme['id']}/numbers", {"number": given})
    assert response.status_code == 201, response.body
    own_number = response.json
    assert (own_number["number"], own_number["category"], own_number["status"], own_number["origin"]) == (
        stored, category, "active", "own")
    assert own_number["orderID"] is None and own_number["monthlyPrice"] == 0
    assert api.get(f"/numbers/{own_number['id']}").json == own_number
    assert [n["id"] for n in api.get(f"/customers/{acme['id']}/numbers").json] == [own_number["id"]]
    # Not charged, no order, not stock: counters unchanged, never offered for sale.
    assert api.get(f"/customers/{acme['id']}").json["balance"] == 0
    assert orders.list_orders(principal=admin, customer=acme) == []
    assert store.counters(admin.tenant_id, "") == counters
    # Unique in the tenant: neither this customer nor another can record it again.
    other = customer(api, "Other Ltd")
    for owner in (acme, other):
        again = api.post(f"/customers/{owner['id']}/numbers", {"number": given})
        assert (again.status_code, again.json["error_code"]) == (409, 409004)
    # Its actions work as for any number.
    assert api.post(f"/numbers/{own_number['id']}?action=drop", {}).json["status"] == "inactive"


def test_an_own_number_never_becomes_stock(api, admin):
    acme = customer(api)
    own_number = api.post(f"/customers/{acme['id']}/numbers", {"number": "2062190050"}).json
    import_landlines(admin.tenant_id, ["2062190050", "2062190051"])  # the same number arrives in a deck
    item = store.get_number(admin.tenant_id, "2062190050")
    assert (item["status"], item["customerId"], item["id"]) == ("active", acme["id"], own_number["id"])
    assert "GSI3PK" not in item
    with pytest.raises(Exception):
        reservations.reserve_numbers(principal=admin, customer=customer(api, "Buyer"), numbers=["2062190050"])
    # A number that is in the inventory is still sold from it, and charged.
    sold = api.post(f"/customers/{acme['id']}/numbers", {"number": "2062190051"}).json
    assert sold["origin"] == "inventory" and isinstance(sold["orderID"], int)
    assert Decimal(str(api.get(f"/customers/{acme['id']}").json["balance"])) < 0


def test_own_numbers_are_refused_like_sales_when_they_must_be(api, admin):
    dropped = customer(api, "Gone Ltd")
    api.post(f"/customers/{dropped['id']}?action=drop", {"dateDrop": "2025-01-24"})
    acme = customer(api)
    for path, body, status, code in [
        (f"/customers/{dropped['id']}/numbers", {"number": "2062190060"}, 409, 409003),
        (f"/customers/{acme['id']}/numbers", {"number": "+442"}, 400, 400001),          # too short for E.164
        (f"/customers/{acme['id']}/numbers", {"number": "+0442071234567"}, 400, 400001),
        (f"/customers/{acme['id']}/numbers", {"number": "442071234567"}, 400, 400001),   # no '+': not NANP
        (f"/customers/{acme['id']}/numbers", {"number": "+11062190060"}, 400, 400001),   # NANP rules
    ]:
        response = api.post(path, body)
        assert (response.status_code, response.json["error_code"]) == (status, code), (path, body, response.body)
    assert store.get_number(admin.tenant_id, "2062190060") is None
    assert api.get(f"/customers/{acme['id']}/numbers").json == []

"""The customers slice of the billing platform API, in its own conventions."""
import json
import time
from datetime import datetime, timezone

import pytest

from chalicelib.services.common import audit

from chalicelib.services.identity import users
from tests.support.surfaces.platform import Api


def make(api, **fields):
    response = api.post("/customers", {"customerName": "Acme Corp", **fields})
    assert response.status_code == 201, response.body
    return response.json


def test_empty_tenant_lists_nothing(api):
    response = api.get("/customers")
    assert response.status_code == 200 and response.json == []
    assert response.headers["Content-Type"].startswith("application/json")


def test_post_returns_the_stored_resource_with_defaults(api):
    created = make(api, creditLimit="-55", email="ops@acme.test")
    assert isinstance(created["id"], int)
    assert created["customerName"] == created["name"] == "Acme Corp"
    assert created["statusID"] == 1 and created["status"] == "Customer"
    assert created["accountNumber"].isdigit() and len(created["accountNumber"]) == 7
    assert created["creditLimit"] == -55  # a JSON number, exact
    assert b'"creditLimit":-55.00000' in api.get(f"/customers/{created['id']}").body
    assert created["createdDate"].endswith("Z")


@pytest.mark.parametrize("limit", ["1_000", " 5 ", "1e3", "5.", "\u0663"])
def test_money_text_outside_the_one_grammar_is_refused_and_nothing_is_stored(api, limit):
    refused = api.post("/customers", {"customerName": "Typo Ltd", "creditLimit": limit})
    assert refused.status_code == 400 and "creditLimit" in refused.body.decode()
    assert api.get("/customers").json == []
    made = make(api)
    assert api.patch(f"/customers/{made['id']}", {"creditLimit": limit}).status_code == 400
    assert api.get(f"/customers/{made['id']}").json["creditLimit"] == made["creditLimit"]


def test_given_account_numbers_are_unique(api):
    make(api, accountNumber="ACME-7")
    clash = api.post("/customers", {"customerName": "Other", "accountNumber": "acme-7"})
    assert clash.status_code == 409 and clash.json["error_code"] == 409001
    assert [c["accountNumber"] for c in api.get("/customers").json] == ["ACME-7"]


def test_listing_is_in_id_order_with_id_after_limit_offset(api):
    ids = [make(api, customerName=f"C{n}")["id"] for n in range(7)]
    assert [c["id"] for c in api.get("/customers").json] == ids
    assert [c["id"] for c in api.get(f"/customers?idAfter={ids[2]}").json] == ids[3:]
    assert [c["id"] for c in api.get("/customers?limit=2&offset=3").json] == ids[3:5]


def test_updated_since_returns_changed_customers_in_id_order(api):
    first, second, third = (make(api, customerName=n) for n in ("One", "Two", "Three"))
    time.sleep(0.002)
    mark = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.002)
    api.patch(f"/customers/{third['id']}", {"phone": "+15550003"})
    api.patch(f"/customers/{first['id']}", {"phone": "+15550001"})
    changed = api.get(f"/customers?updatedSince={mark}")
    assert [c["id"] for c in changed.json] == [first["id"], third["id"]]
    offset_form = api.get("/customers?updatedSince=2000-01-01T01:00:00%2B01:00&limit=2")
    assert [c["id"] for c in offset_form.json] == [first["id"], second["id"]]


def test_updated_since_must_be_iso_8601(api):
    response = api.get("/customers?updatedSince=yesterday")
    assert response.status_code == 400 and response.json["error_code"] == 400001
    assert "updatedSince" in response.json["hint"]


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "offset=-1", "idAfter=abc"])
def test_bad_paging_parameters_are_400(api, query):
    response = api.get(f"/customers?{query}")
    assert response.status_code == 400 and set(response.json) == {"error", "error_code", "hint"}


def test_patch_returns_the_full_resource_and_put_is_patch(api):
    created = make(api)
    patched = api.patch(f"/customers/{created['id']}", {"city": "Leeds"})
    assert patched.status_code == 200 and patched.json["city"] == "Leeds"
    assert patched.json["customerName"] == "Acme Corp" and "X-API-No-Changes" not in patched.headers
    put = api.put(f"/customers/{created['id']}", {"postcode": "LS1"})
    assert put.json["city"] == "Leeds" and put.json["postcode"] == "LS1"


def test_patch_without_changes_says_so_and_writes_nothing(api):
    created = make(api, city="York", creditLimit="10")
    same = api.patch(f"/customers/{created['id']}", {"city": "York", "creditLimit": 10.0})
    assert same.status_code == 200 and same.headers.get("X-API-No-Changes") == "1"
    assert same.json["updatedDate"] == created["updatedDate"]
    assert api.get(f"/customers/{created['id']}").json == created


@pytest.mark.parametrize("body, code", [
    ({"id": 5}, 400005), ({"statusID": 2}, 400005), ({"balance": 10}, 400005), ({"accountNumber": "X"}, 400005),
    ({"colour": "blue"}, 400004), ({"customerName": 7}, 400001), ({"creditLimit": "1.123456"}, 400001),
    ({"creditLimit": "NaN"}, 400001), ({"accountManagerID": "3"}, 400001), ({"customerName": ""}, 400001),
])
def test_bad_patches_are_refused_and_change_nothing(api, body, code):
    created = make(api)
    response = api.patch(f"/customers/{created['id']}", body)
    assert response.status_code == 400 and response.json["error_code"] == code, response.body
    assert api.get(f"/customers/{created['id']}").json == created


@pytest.mark.parametrize("raw", ["{", "[1,2]", "null", '"text"', "{\"customerName\": }"])
def test_malformed_json_is_400_and_writes_nothing(api, raw):
    response = api.call("POST", "/customers", raw=raw)
    assert response.status_code == 400 and response.json["error_code"] == 400001
    assert api.get("/customers").json == []


def test_unknown_ids_are_404(api):
    for path in ("/customers/999999", "/customers/abc", "/customers/0"):
        response = api.get(path)
        assert response.status_code == 404 and response.json["error_code"] == 404001


def test_tenant_isolation(client, api):
    other = users.create_tenant(name="Other Co")
    theirs = Api(client, other["user"]["api_key"])
    mine = make(api)
    assert theirs.get(f"/customers/{mine['id']}").status_code in (404,)
    foreign = make(theirs, customerName="Foreign")
    assert foreign["id"] == mine["id"]  # ids are per tenant; the same integer names two customers
    assert api.get(f"/customers/{mine['id']}").json["customerName"] == "Acme Corp"
    assert theirs.patch(f"/customers/{mine['id'] + 1000}", {"city": "X"}).status_code == 404
    assert [c["customerName"] for c in theirs.get("/customers").json] == ["Foreign"]


def test_missing_or_bad_credentials_are_401(client, api):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer dtk_" + "x" * 43}):
        response = client.get("/backend/api/v1/customers", headers=headers)
        assert response.status_code == 401, headers
        body = json.loads(response.body)
        assert body["error_code"] == 401001 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_allowlist_uses_the_gateway_source_ip_not_headers(api, tenant):
    t, admin = tenant["tenant"]["id"], tenant["user"]
    users.set_allowlist(tenant=t, user_id=admin["id"], ips=["10.0.0.0/8"])
    refused = api.get("/customers", headers={"X-Forwarded-For": "10.1.2.3"})
    assert refused.status_code == 401 and refused.json["error_code"] == 401002
    users.set_allowlist(tenant=t, user_id=admin["id"], ips=["127.0.0.0/8"])
    assert api.get("/customers").status_code == 200


def test_read_only_users_cannot_write(client, tenant):
    t = tenant["tenant"]["id"]
    reader = users.create_user(tenant=t, username=f"reader-{t}", api_only=True, can_write=False)
    reader_api = Api(client, users.issue_api_key(tenant=t, user_id=reader["id"]))
    assert reader_api.get("/customers").status_code == 200
    response = reader_api.post("/customers", {"customerName": "X"})
    assert response.status_code == 403 and response.json["error_code"] == 403001


def test_customer_access_scopes_filter_lists_and_guard_ids(client, api, tenant):
    t = tenant["tenant"]["id"]
    manager = users.create_user(tenant=t, username=f"mgr-{t}", api_only=True, customer_access="manager")
    holder = users.create_user(tenant=t, username=f"com-{t}", api_only=True, customer_access="commission")
    managed = make(api, customerName="Managed", accountManagerID=manager["id"])
    earning = make(api, customerName="Earning", commissionHolderID=holder["id"])
    neither = make(api, customerName="Neither", accountNumber="NEITHER")
    as_manager = Api(client, users.issue_api_key(tenant=t, user_id=manager["id"]))
    as_holder = Api(client, users.issue_api_key(tenant=t, user_id=holder["id"]))
    assert [c["id"] for c in as_manager.get("/customers").json] == [managed["id"]]
    assert [c["id"] for c in as_holder.get("/customers").json] == [earning["id"]]
    assert as_manager.get(f"/customers/{earning['id']}").status_code == 404
    assert as_holder.patch(f"/customers/{managed['id']}", {"city": "X"}).status_code == 404
    # a manager's new customer is its own
    own = as_manager.post("/customers", {"customerName": "Mine"}).json
    assert own["accountManagerID"] == manager["id"]
    customer_user = users.create_user(tenant=t, username=f"cu-{t}", api_only=True, account_number="NEITHER")
    as_customer = Api(client, users.issue_api_key(tenant=t, user_id=customer_user["id"]))
    assert [c["id"] for c in as_customer.get("/customers").json] == [neither["id"]]
    assert as_customer.get(f"/customers/{managed['id']}").status_code == 404
    assert as_customer.post("/customers", {"customerName": "No"}).status_code == 403


def test_account_manager_must_be_a_staff_user(api):
    response = api.post("/customers", {"customerName": "X", "accountManagerID": 99999})
    assert response.status_code == 400
    assert "99999 is not a staff user" in response.json["hint"]


def test_every_request_is_audited(api, tenant):
    created = make(api)
    api.get(f"/customers/{created['id']}")
    api.patch(f"/customers/{created['id']}", {"colour": "x"})
    entries = audit.list_entries(tenant=tenant["tenant"]["id"], limit=10)
    assert [(e["method"], e["status"]) for e in entries[:3]] == [("PATCH", 400), ("GET", 200), ("POST", 201)]
    assert entries[1]["touched"] == [f"customer:{created['id']}"]
    assert entries[1]["username"] == tenant["user"]["username"] and entries[1]["sourceIp"] == "127.0.0.1"
    assert entries[1]["path"].endswith(f"/customers/{created['id']}")

"""Customers, ping, the dialect (formats, _method, paging, errors) and Digest,
through the Chalice test client."""
from __future__ import annotations

import pytest

from chalicelib.services.customers import accounts
from chalicelib.services.identity import users
from chalicelib.services.tracking import fields
from tests.support.worlds.money import admin
from tests.support.surfaces.tracking import Tracking, challenges


@pytest.fixture()
def defined(tenant):
    t = tenant["tenant"]["id"]
    fields.define(tenant=t, entity="customer", slot=1, name="Segment", kind="string", values=[])
    fields.define(tenant=t, entity="customer", slot=2, name="Employees", kind="integer", values=[])
    fields.define(tenant=t, entity="customer", slot=3, name="Tier", kind="enum", values=["gold", "silver"])
    return t


def test_ping_and_the_documents_customer_example_in_json_and_xml(tracking, defined):
    assert tracking.get("/miscellaneous/ping").status_code == 200
    created = tracking.post("/customers", data={"name": "Freespee AB", "custnr": "123", "corporateid": "123",
                                                "custom_1": "abc"})
    assert created.status_code == 200
    customer = created.json["customers"][0]
    assert customer == {"customer_id": customer["customer_id"], "name": "Freespee AB", "custnr": "123",
                        "corporateid": "123", "email": "", "custom_1": "abc", "custom_2": None, "custom_3": None}
    one = tracking.get(f"/customers/{customer['customer_id']}")
    assert one.json == {"customers": [customer]}
    xml = tracking.get(f"/customers.xml/{customer['customer_id']}")
    assert xml.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<customers>\n <customer>')
    assert xml.xml.tag == "customers"
    (item,) = xml.xml
    assert item.tag == "customer"
    assert {child.tag: (child.text or "") for child in item} == {k: v or "" for k, v in customer.items()}
    assert "<custom_2/>" in xml.text
    by_accept = tracking.get(f"/customers/{customer['customer_id']}", headers={"Accept": "application/xml"})
    assert by_accept.text == xml.text
    assert tracking.get(f"/customers/{customer['customer_id']}.json",
                        headers={"Accept": "application/xml"}).json == one.json


def test_the_same_customer_as_the_billing_api(tracking, tenant):
    made = tracking.post("/customers", data={"name": "Acme", "custnr": "abc123"}).json["customers"][0]
    record = accounts.get_customer(principal=admin(tenant), customer_id=int(made["customer_id"]))
    assert record["accountNumber"] == "abc123" and record["name"] == "Acme"


def test_misspelled_content_type_json_body_put_and_method_override(tracking):
    made = tracking.post("/customers", raw="name=Freespee+AB&custnr=abc123",
                         headers={"Content-Type": "application/x-www-form-urlencode"})
    assert made.status_code == 200, made.text
    cid = made.json["customers"][0]["customer_id"]
    put = tracking.put(f"/customers/{cid}", data={"name": "Freespee New AB"})
    assert put.json["customers"][0]["name"] == "Freespee New AB"
    override = tracking.post(f"/customers/{cid}?_method=PUT", data={"name": "Via Override"})
    assert override.json["customers"][0]["name"] == "Via Override"
    header = tracking.post(f"/customers/{cid}", json_body={"email": "a@example.com"},
                           headers={"X-HTTP-Method-Override": "PUT"})
    assert header.json["customers"][0]["email"] == "a@example.com"
    assert tracking.put("/customers/999", data={"name": "x"}).status_code == 404  # PUT never creates


def test_paging_fields_and_the_ampersand_path_form(tracking):
    for n in range(3):
        tracking.post("/customers", data={"name": f"C{n}"})
    page = tracking.get("/customers?page=1&pagesize=2")
    assert {k: page.json[k] for k in ("total", "page", "pagesize", "numpages")} == \
        {"total": 3, "page": 1, "pagesize": 2, "numpages": 2}
    assert len(page.json["customers"]) == 1
    same = tracking.get("/customers&page=1&pagesize=2")
    assert same.json == page.json
    assert tracking.get("/customers.xml&page=0").xml.find("total").text == "3"
    assert tracking.get("/customers?pagesize=5001").status_code == 400
    assert tracking.get("/customers?page=-1").status_code == 400


@pytest.mark.parametrize("method,path,data,status,field", [
    ("POST", "/customers", {"name": "A", "custom_9": "x"}, 400, "custom_9"),
    ("POST", "/customers", {"name": "A", "custom_2": "many"}, 400, "custom_2"),
    ("POST", "/customers", {"name": "A", "custom_3": "bronze"}, 400, "custom_3"),
    # Not a slot's name: refused, not dropped (nor read as custom_1).
    ("POST", "/customers", {"name": "A", "custom_abc": "x"}, 400, "custom_abc"),
    ("POST", "/customers", {"name": "A", "custom_1000": "x"}, 400, "custom_1000"),
    ("POST", "/customers", {"name": "A", "custom_01": "x"}, 400, "custom_01"),
    ("POST", "/customers", {"name": "A", "custom_": "x"}, 400, "custom_"),
    ("POST", "/customers", {"custnr": "x1"}, 400, "name"),
    ("POST", "/customers", {"name": "A", "colour": "red"}, 400, "colour"),
    # POST with an id would have created another customer: refused as sources and greetings do.
    ("POST", "/customers?customer_id=1", {"name": "A"}, 400, "customer_id"),
    ("POST", "/customers", {"name": "A", "customer_id": "1"}, 400, "customer_id"),
    ("POST", "/customers&customer_id=7", {"name": "A"}, 400, "customer_id"),
    ("POST", "/customers", {"name": "A", "email": "not-an-email"}, 400, "email"),
])
def test_bad_customer_inputs_write_nothing(tracking, defined, tenant, method, path, data, status, field):
    answer = tracking.call(method, path, data=data)
    assert answer.status_code == status, answer.text
    assert answer.json["errors"][0]["field"] == field
    assert accounts.list_customers(principal=admin(tenant), page=accounts.Page()) == []


def test_duplicate_custnr_malformed_bodies_and_unknown_things(tracking, tenant):
    assert tracking.post("/customers", data={"name": "A", "custnr": "dup1"}).status_code == 200
    dup = tracking.post("/customers", data={"name": "B", "custnr": "DUP1"})
    assert dup.status_code == 400 and dup.json["errors"][0]["field"] == "custnr"
    assert tracking.post("/customers", raw="{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert tracking.post("/customers", raw=b"name=%FF%FE", headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 400
    assert tracking.post("/customers", raw=b"\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 400
    assert tracking.post("/customers", raw="<a/>", headers={"Content-Type": "application/xml"}).status_code == 400
    patch = tracking.post("/customers/1?_method=PATCH", data={"name": "x"})
    assert patch.status_code == 405 and "PUT" in patch.headers["Allow"]
    assert tracking.get("/nothing/here").status_code == 404
    unknown_version = tracking.get("/customers", base="/tracking/v9")
    assert unknown_version.status_code == 404 and "v1" in unknown_version.json["errors"][0]["message"]
    assert tracking.call("PATCH", "/customers/1", data={"name": "x"}).status_code == 405
    xml_error = tracking.get("/customers.xml/4242")
    assert xml_error.status_code == 404 and xml_error.xml.tag == "errors"
    assert len(accounts.list_customers(principal=admin(tenant), page=accounts.Page())) == 1


def test_digest_refusals_are_uniform_and_nothing_is_written(client, tenant):
    name, password = tenant["user"]["username"], tenant["user"]["password"]
    bare = client.request("GET", "/tracking/v1/customers", headers={"Host": "h"})
    assert bare.status_code == 401
    offered = challenges(bare)
    assert [c["algorithm"] for c in offered] == ["SHA-256", "MD5"]
    assert {c["realm"] for c in offered} == {"dialtone"} and all(c["qop"] == "auth" and c["opaque"] for c in offered)
    wrong = Tracking(client, name, "wrong-password")
    unknown = Tracking(client, "nobody-at-all", password)
    answers = [wrong.post("/customers", data={"name": "x"}), unknown.post("/customers", data={"name": "x"})]
    assert {a.status_code for a in answers} == {401}
    assert answers[0].json == answers[1].json
    assert accounts.list_customers(principal=admin(tenant), page=accounts.Page()) == []
    assert client.request("GET", "/tracking/v1/customers").status_code == 400  # no Host


def test_md5_and_sha256_clients_replay_stale_and_read_only(client, tenant, monkeypatch):
    name, password = tenant["user"]["username"], tenant["user"]["password"]
    for algorithm in ("MD5", "SHA-256"):
        assert Tracking(client, name, password, algorithm=algorithm).get("/customers").status_code == 200
    first = Tracking(client, name, password)
    assert first.get("/customers").status_code == 200
    replay = client.request("GET", "/tracking/v1/customers",
                            headers={"Host": "h", "Authorization": first.last_authorization})
    assert replay.status_code == 401
    monkeypatch.setenv("DIGEST_NONCE_SECONDS", "0")
    import time
    time.sleep(1.1)
    stale = client.request("GET", "/tracking/v1/customers", headers={"Host": "h", "Authorization": first._authorization("GET", "/tracking/v1/customers")})
    assert stale.status_code == 401 and all(c.get("stale") == "true" for c in challenges(stale))
    monkeypatch.setenv("DIGEST_NONCE_SECONDS", "300")
    assert first.get("/customers").status_code == 200  # the client retries with the new nonce by itself
    reader = users.create_user(tenant=tenant["tenant"]["id"], username=f"ro-{tenant['tenant']['id']}",
                               can_write=False, password="read-only-pass")
    ro = Tracking(client, reader["username"], "read-only-pass")
    assert ro.get("/customers").status_code == 200
    assert ro.post("/customers", data={"name": "x"}).status_code == 403
    assert ro.post("/customers/1?_method=DELETE").status_code == 403


def test_digest_credentials_for_an_api_only_user_and_the_allow_list(client, tenant):
    t = tenant["tenant"]["id"]
    made = users.create_user(tenant=t, username=f"api-{t}", api_only=True)
    issued = fields.issue_digest_password(tenant=t, user=made["username"])
    api_user = Tracking(client, made["username"], issued["password"])
    assert api_user.get("/miscellaneous/ping").status_code == 200
    users.set_allowlist(tenant=t, user_id=made["id"], ips=["10.9.9.9"])
    from chalicelib.auth import digest
    digest.forget()
    assert api_user.get("/miscellaneous/ping").status_code == 401


@pytest.mark.parametrize("send", [
    lambda t: t.post("/customers", data={"name": "Acme\x0bAB"}),
    lambda t: t.post("/customers", json_body={"name": "Acme", "email": "a\x00@example.com"}),
    lambda t: t.post("/customers", json_body={"name": "Acme\x1b[31m"}),
    lambda t: t.post("/customers", raw="name=Acme%EF%BF%BE", headers={"Content-Type": "application/x-www-form-urlencoded"}),
])
def test_characters_xml_cannot_carry_are_refused_naming_the_field(tracking, tenant, send):
    answer = send(tracking)
    assert answer.status_code == 400, answer.text
    assert answer.json["errors"][0]["field"] in ("name", "email")
    assert accounts.list_customers(principal=admin(tenant), page=accounts.Page()) == []


def test_xml_answers_stay_well_formed_whatever_was_stored(tracking, tenant):
    # Written through another surface (the billing API's service), which does not refuse them.
    made = accounts.create_customer(principal=admin(tenant), fields={"name": "Tab\tVT\x0bNUL\x00FFFE\ufffe end"})
    xml = tracking.get(f"/customers.xml/{made['id']}")
    assert xml.status_code == 200
    (item,) = xml.xml  # parsed: the helper's ElementTree refuses a malformed document
    assert item.find("name").text == "Tab\tVT\ufffdNUL\ufffdFFFE\ufffd end"
    assert tracking.get(f"/customers/{made['id']}").json["customers"][0]["name"] == made["name"]  # JSON carries them
    # A refused field's own name is quoted in the error: escaped there too.
    error = tracking.post("/customers.xml", data={"name": "A", "bad\x01name": "x"})
    assert error.status_code == 400 and error.xml.find("error/field").text == "bad\ufffdname"

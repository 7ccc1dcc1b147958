"""Carrier API origination: availability, search and reservations, with the
seed's own parameters, through the Chalice test client on moto."""
import io
import json

import pytest

from chalicelib.services.numbers import inventory as numbers
from chalicelib.services.numbers import reservations
from chalicelib.store.dynamo import keys
from chalicelib.store.numbers import carts
from chalicelib.store.numbers import inventory as store
from tests.support.surfaces.carrier import Carrier, chalice_sender, inventory_csv, landlines, make_shop, tollfree


@pytest.fixture()
def shop(aws):
    return make_shop(landlines("206219", 30) + landlines("206220", 5, city="TACOMA")
                     + landlines("303555", 4, state="CO", city="DENVER") + tollfree("866", 6))


@pytest.fixture()
def api(client, shop):
    return Carrier(chalice_sender(client), shop.keys[shop.accounts[0]], shop.accounts[0])


@pytest.fixture()
def other(client, shop):
    return Carrier(chalice_sender(client), shop.keys[shop.accounts[1]], shop.accounts[1])


def counts(shop):
    return {c["SK"]: int(c["count"]) for c in store.counters(shop.tenant, "")}


def test_import_is_idempotent_and_reports_rejections(aws, shop):
    rows = landlines("206219", 3) + [("2062191", "landline", "WA", "X", "X", "1", "1"),
                                     ("8665550000", "landline", "WA", "X", "X", "1", "1"),
                                     ("2065550100", "landline", "ZZ", "X", "X", "1", "1"),
                                     ("2065550101", "landline", "WA", "X", "X", "1.0", "-2"),
                                     ("2065550102", "tollfree", "", "", "", "1", "1"),
                                     ("2065550103", "landline", "WA", "X", "X", "0.1234567", "1")]
    summary = numbers.import_numbers(tenant=shop.tenant, lines=io.StringIO(inventory_csv(rows)))
    assert summary["added"] == 0 and summary["existing"] == 3 and summary["rejected"] == 6
    assert [r["field"] for r in summary["rejections"]] == ["number", "category", "state", "setup_price",
                                                           "number", "monthly_price"]
    assert counts(shop)[keys.npanxx_counter_sk("WA", "206219")] == 30


def test_availability_by_state_and_npanxx(api, client, shop):
    status, body = api("availabilitystate")
    assert status == 200 and body == {"status": "200", "data": ["CO", "WA"]}
    # the same call as a form body
    form = client.post("/carrier/availabilitystate", body=f"token={api.key}&accountno={api.account}",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 200 and json.loads(form.body) == body
    assert api("availabilitystate", accountno="nope")[1] == {"status": "404", "error": "Invalid accountno"}
    status, body = api("availabilitynpanxx", state="WA")
    assert body["status"] == "200"
    assert [(d["NPANXX"], d["NPA"], d["RateCenter"]) for d in body["data"]] == [
        ("206219", "206", "SEATTLE"), ("206220", "206", "TACOMA")]
    assert api("availabilitynpanxx", state="XX") == (404, {"status": "404", "error": "Invalid state"})
    assert api("availabilitynpanxx") == (404, {"status": "404", "error": "Invalid state"})


def test_search_did_by_state_npanxx_and_full_number(api):
    status, body = api("searchdid", method="GET", state="CO")
    assert status == 200 and [d["TN"] for d in body["DIDs"]] == [f"303555{n:04d}" for n in range(4)]
    assert all(d["statusid"] == "0" for d in body["DIDs"])
    _, body = api("searchdid", state="WA", NPANXX="206220")
    assert len(body["DIDs"]) == 5
    _, body = api("searchdid", state="WA", NPANXXYYYY="2062190007")
    assert body["DIDs"] == [{"TN": "2062190007", "statusid": "0"}]
    assert api("searchdid", state="WA", NPANXX="20621") == (404, {"status": "404", "error": "Invalid NPANXX"})
    assert api("searchdid", state="WA", NPANXXYYYY="206219000") == (
        404, {"status": "404", "error": "Invalid NPANXXYYYY"})
    assert api("searchdid", NPANXX="206219")[1]["error"] == "Invalid state"


def test_search_tfn_by_prefix(api):
    _, body = api("searchtfn", tfn_prefix="866")
    assert [t["TN"] for t in body["TFNs"]] == [f"866555{n:04d}" for n in range(6)]
    assert api("searchtfn", tfn_prefix="877")[1] == {"status": "200", "TFNs": []}
    assert api("searchtfn", tfn_prefix="123")[1] == {"status": "404", "error": "Invalid tfn_prefix"}


def test_reserve_takes_numbers_out_of_availability_with_exact_counts(api, other, shop):
    before = counts(shop)
    status, body = api("reserve", category="landline", state="WA", number="2062190003,2062200001")
    assert status == 200 and body["status"] == "200" and body["TNs"] == ["2062190003", "2062200001"]
    assert body["reserveId"].isdigit() and body["expiresAt"].endswith("Z")
    after = counts(shop)
    assert after[keys.state_counter_sk("landline", "WA")] == before[keys.state_counter_sk("landline", "WA")] - 2
    assert after[keys.npanxx_counter_sk("WA", "206220")] == 4
    # taken numbers are neither searchable nor reservable by anyone
    assert api("searchdid", state="WA", NPANXXYYYY="2062190003")[1]["DIDs"] == []
    assert other("reserve", category="landline", number="2062190003") == (
        404, {"status": "404", "error": "Invalid number"})


def test_bulk_reserve_in_ascending_order_by_state_npanxx_city_and_prefix(api, shop):
    _, body = api("bulkreserve", category="landline", state="WA", npanxx="206219", quantity="12")
    assert body["TNs"] == [f"206219{n:04d}" for n in range(12)]
    _, body = api("bulkreserve", category="landline", npanxx="206219", quantity="3")
    assert body["TNs"] == [f"206219{n:04d}" for n in range(12, 15)]
    _, body = api("bulkreserve", category="landline", state="WA", city="Tacoma", quantity="2")
    assert body["TNs"] == ["2062200000", "2062200001"]
    _, body = api("bulkreserve", category="tollfree", tfn_prefix="866", quantity="2")
    assert body["TNs"] == ["8665550000", "8665550001"]
    assert counts(shop)[keys.npanxx_counter_sk("WA", "206219")] == 15


@pytest.mark.parametrize("params, error", [
    ({"quantity": "0"}, "Invalid quantity"),
    ({"quantity": "1001"}, "Invalid quantity"),
    ({"quantity": "x"}, "Invalid quantity"),
    ({"quantity": "5", "npanxx": "2062"}, "Invalid npanxx"),
    ({"quantity": "5", "category": "mobile"}, "Invalid category"),
    ({"quantity": "50"}, "Invalid quantity"),  # more than CO holds: nothing is taken
])
def test_bad_bulk_reservations_change_nothing(api, shop, params, error):
    before = counts(shop)
    status, body = api("bulkreserve", **{"category": "landline", "state": "CO", **params})
    assert (status, body) == (404, {"status": "404", "error": error})
    assert counts(shop) == before
    assert len(api("searchdid", state="CO")[1]["DIDs"]) == 4


def test_reserve_refuses_a_nine_digit_number(api, shop):
    before = counts(shop)
    assert api("reserve", category="landline", number="206219000") == (404, {"status": "404", "error": "Invalid number"})
    assert counts(shop) == before


def test_remove_reserved_listed_and_all(api, other, shop):
    _, body = api("bulkreserve", category="landline", state="WA", npanxx="206219", quantity="5")
    rid = body["reserveId"]
    status, body = api("remove_reserved", reserveId=rid, number="2062190001,2062190029")
    assert status == 200 and body == {"status": "200", "Removed TNs": ["2062190001"],
                                      "TNs not available": ["2062190029"]}
    assert api("searchdid", state="WA", NPANXXYYYY="2062190001")[1]["DIDs"]
    # another customer's reserveId is unknown to it, and nothing changes
    assert other("remove_reserved", reserveId=rid) == (404, {"status": "404", "error": "Invalid reserveId"})
    assert api("remove_reserved", reserveId="999999") == (404, {"status": "404", "error": "Invalid reserveId"})
    _, body = api("remove_reserved", reserveId=rid)
    assert body["Removed TNs"] == ["2062190000", "2062190002", "2062190003", "2062190004"]
    assert counts(shop)[keys.npanxx_counter_sk("WA", "206219")] == 30
    assert api("remove_reserved", reserveId=rid)[1]["error"] == "Invalid reserveId"


def test_expired_reservations_return_without_anyone_acting(api, shop, monkeypatch):
    monkeypatch.setenv("RESERVATION_HOLD_MINUTES", "0")
    _, body = api("bulkreserve", category="landline", state="CO", quantity="4")
    assert body["TNs"] and counts(shop)[keys.npanxx_counter_sk("CO", "303555")] == 0
    # the sweeper's pass, as the schedule runs it
    assert reservations.sweep_all(tenants=[shop.tenant]) == {shop.tenant: 4}
    assert counts(shop)[keys.npanxx_counter_sk("CO", "303555")] == 4
    assert api("remove_reserved", reserveId=body["reserveId"])[1]["error"] == "Invalid reserveId"
    # and at read time, before any sweep
    _, body = api("bulkreserve", category="landline", state="CO", quantity="4")
    assert len(api("searchdid", state="CO")[1]["DIDs"]) == 4


def test_bulk_reservation_larger_than_a_transaction(api, shop):
    rows = landlines("425555", 160, city="BELLEVUE")
    numbers.import_numbers(tenant=shop.tenant, lines=io.StringIO(inventory_csv(rows)))
    _, body = api("bulkreserve", category="landline", npanxx="425555", quantity="150")
    assert len(body["TNs"]) == 150 and body["TNs"] == sorted(body["TNs"])
    cart = carts.get_cart(shop.tenant, int(body["reserveId"]))
    assert cart["status"] == carts.OPEN and len(cart["numbers"]) == 150
    assert counts(shop)[keys.npanxx_counter_sk("WA", "425555")] == 10
    # asking for more than is left holds nothing
    assert api("bulkreserve", category="landline", npanxx="425555", quantity="11")[1]["error"] == "Invalid quantity"
    assert counts(shop)[keys.npanxx_counter_sk("WA", "425555")] == 10


def test_idempotency_key_returns_the_first_answer(api, shop):
    first = api("bulkreserve", headers={"Idempotency-Key": "k-1"}, category="landline", state="CO", quantity="2")
    again = api("bulkreserve", headers={"Idempotency-Key": "k-1"}, category="landline", state="CO", quantity="2")
    assert first == again and first[0] == 200
    assert counts(shop)[keys.npanxx_counter_sk("CO", "303555")] == 2
    status, body = api("bulkreserve", headers={"Idempotency-Key": "k-1"}, category="landline", state="CO",
                       quantity="1")
    assert status == 422 and body["status"] == "422"
    assert counts(shop)[keys.npanxx_counter_sk("CO", "303555")] == 2


def test_a_parameter_given_twice_with_different_values_is_refused(client, api, other, shop):
    """Query string and body disagreeing (a token, an account) is refused, not
    silently decided by the body: nothing is reserved."""
    from urllib.parse import urlencode

    mine, theirs = shop.keys[shop.accounts[0]], shop.keys[shop.accounts[1]]
    before = counts(shop)
    for query, body in (({"token": theirs}, {"token": mine}),
                        ({"token": mine}, {"token": theirs}),
                        ({"accountno": shop.accounts[1]}, {"accountno": shop.accounts[0]})):
        params = {"token": mine, "accountno": shop.accounts[0], "category": "landline", "number": "2062190007"}
        response = client.post("/carrier/reserve?" + urlencode(query), body=json.dumps({**params, **body}),
                               headers={"Content-Type": "application/json"})
        name = next(iter(query))
        assert (response.status_code, json.loads(response.body)) == (404, {
            "status": "404", "error": f"Invalid {name}: the query string and the body give different values"})
    response = client.get("/carrier/getnumbers?" + urlencode({"token": mine, "accountno": shop.accounts[0]}),
                          headers={"token": theirs})
    assert response.status_code == 404 and "header" in json.loads(response.body)["error"]
    assert counts(shop) == before
    # the same value in both places is one value
    query = urlencode({"token": mine, "accountno": shop.accounts[0]})
    response = client.post("/carrier/reserve?" + query, body=json.dumps(
        {"token": mine, "accountno": shop.accounts[0], "category": "landline", "number": "2062190007"}),
        headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.body


def test_consecutive_reservations_fill_one_order_cart(api, other, shop):
    """The seed's Order Cart: each reserve / bulkreserve of a customer adds to
    its open cart (one reserveId); another customer has its own."""
    _, first = api("reserve", category="landline", number="2062190003")
    _, second = api("reserve", category="landline", number="2062190004,2062190005")
    _, bulk = api("bulkreserve", category="tollfree", tfn_prefix="866", quantity="2")
    assert first["reserveId"] == second["reserveId"] == bulk["reserveId"]
    assert (second["TNs"], bulk["TNs"]) == (["2062190004", "2062190005"], ["8665550000", "8665550001"])
    assert second["expiresAt"] >= first["expiresAt"]  # each reservation extends the cart's hold
    cart = carts.get_cart(shop.tenant, int(first["reserveId"]))
    assert cart["numbers"] == {"2062190003", "2062190004", "2062190005", "8665550000", "8665550001"}
    _, theirs = other("reserve", category="landline", number="2062190006")
    assert theirs["reserveId"] != first["reserveId"]
    # emptied, the cart is gone: the next reservation starts a new one
    api("remove_reserved", reserveId=first["reserveId"])
    _, fresh = api("reserve", category="landline", number="2062190007")
    assert fresh["reserveId"] not in (first["reserveId"], theirs["reserveId"])

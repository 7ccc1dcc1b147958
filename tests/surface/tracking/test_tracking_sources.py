"""Sources (the number sale, both URL forms), custom fields, customer drop,
statistics from imported CDR files, session pools."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal


from chalicelib.services.customers import accounts
from chalicelib.services.identity import users
from chalicelib.store.numbers import inventory as number_store
from tests.support.worlds.money import admin, ledger_sum
from tests.support.worlds.tracking import cdr_file

def test_a_source_buys_its_number_once_and_both_url_forms_work(tracking, shop, tenant):
    cid = shop["customer_id"]
    created = tracking.post(f"/customers/{cid}/sources", data={"name": "Google Ads", "number": "2065550101",
                                                               "forward_to": "+14155550100", "custom_1": "spring"})
    assert created.status_code == 200, created.text
    source = created.json["sources"][0]
    assert source["number"] == "+12065550101" and source["active"] == "1" and source["custom_1"] == "spring"
    assert source["custom_2"] is None
    sid = source["source_id"]
    item = number_store.get_number(shop["tenant"], "2065550101")
    assert item["status"] == "active" and item["customerId"] == int(cid)
    charged = ledger_sum(shop["tenant"], int(cid))
    assert charged == Decimal("-1.75")  # setup 0.50 + first month 1.25, once
    for path in (f"/customers/{cid}/sources/{sid}", f"/customers/sources?customer_id={cid}&source_id={sid}",
                 f"/sources/{sid}", f"/customers/{cid}/sources.xml/{sid}"):
        answer = tracking.get(path)
        assert answer.status_code == 200, path
    assert tracking.get(f"/sources?customer_id={cid}").json["total"] == 1
    # Sold once: a second source cannot take the same number.
    again = tracking.post(f"/customers/sources?customer_id={cid}", data={"name": "Dup", "number": "2065550101"})
    assert again.status_code == 400 and again.json["errors"][0]["field"] == "number"
    updated = tracking.post(f"/customers/sources?customer_id={cid}&source_id={sid}&_method=PUT",
                            data={"name": "Bing", "custom_2": "2026-03-01"})
    assert updated.json["sources"][0]["name"] == "Bing" and updated.json["sources"][0]["custom_2"] == "2026-03-01"
    bad = tracking.put(f"/customers/{cid}/sources/{sid}", data={"custom_2": "soon"})
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "custom_2"
    for name in ("custom_02", "custom_1000", "custom_campaign"):
        unknown = tracking.put(f"/customers/{cid}/sources/{sid}", data={name: "2026-03-02"})
        assert unknown.status_code == 400 and unknown.json["errors"][0]["field"] == name, unknown.text
    assert tracking.get(f"/sources/{sid}").json["sources"][0]["custom_2"] == "2026-03-01"
    # The customer cannot be dropped while it has an active tracking number.
    refused = tracking.delete(f"/customers/{cid}")
    assert refused.status_code == 403 and "active tracking" in refused.json["errors"][0]["message"]
    deleted = tracking.delete(f"/customers/{cid}/sources/{sid}")
    assert deleted.json["sources"][0]["active"] == "0"
    assert number_store.get_number(shop["tenant"], "2065550101")["status"] == "inactive"
    # The number moves to a new source: no second sale.
    moved = tracking.post(f"/sources?customer_id={cid}", data={"name": "Moved", "number": "2065550101"})
    assert moved.status_code == 200, moved.text
    assert ledger_sum(shop["tenant"], int(cid)) == charged
    tracking.delete(f"/sources/{moved.json['sources'][0]['source_id']}")
    assert tracking.delete(f"/customers/{cid}").status_code == 200
    assert tracking.get(f"/customers/{cid}").status_code == 404
    assert accounts.get_customer(principal=admin(tenant), customer_id=int(cid))["status"] == 2


def test_source_by_search_criteria_and_bad_inputs(tracking, shop):
    cid = shop["customer_id"]
    by_area = tracking.post(f"/customers/{cid}/sources", data={"name": "Area", "areacode": "206", "state": "WA"})
    assert by_area.status_code == 200, by_area.text
    assert by_area.json["sources"][0]["number"].startswith("+1206")
    for data, field in (({"number": "2065550102"}, "name"), ({"name": "x"}, "number"),
                        ({"name": "x", "number": "12"}, "number"), ({"name": "x", "number": "2065550102", "custom_7": "1"}, "custom_7"),
                        ({"name": "x", "number": "2065550102", "custom_01": "a"}, "custom_01"),
                        ({"name": "x", "number": "2065550102", "custom_x": "a"}, "custom_x"),
                        ({"name": "x", "number": "2065550102", "forward_to": "abc"}, "forward_to"),
                        ({"name": "x", "areacode": "999"}, "areacode"), ({"name": "x", "number": "3125550100"}, "number")):
        answer = tracking.post(f"/customers/{cid}/sources", data=data)
        assert answer.status_code == 400, (data, answer.text)
        assert answer.json["errors"][0]["field"] == field
    assert number_store.get_number(shop["tenant"], "2065550102")["status"] == "available"


def test_another_tenants_and_out_of_scope_ids_are_not_found(tracking, shop, client):
    from tests.support.surfaces.tracking import Tracking

    cid = shop["customer_id"]
    sid = tracking.post(f"/customers/{cid}/sources", data={"name": "S", "number": "2065550103"}).json["sources"][0]["source_id"]
    other = users.create_tenant(name="Other")
    stranger = Tracking(client, other["user"]["username"], other["user"]["password"])
    for path in (f"/customers/{cid}", f"/customers/{cid}/sources/{sid}", f"/customers/sources?customer_id={cid}&source_id={sid}",
                 f"/sources/{sid}", f"/statistics/cdrs?customer_id={cid}"):
        assert stranger.get(path).status_code == 404, path
    assert stranger.delete(f"/customers/{cid}/sources/{sid}").status_code == 404
    assert stranger.post(f"/customers/sources?customer_id={cid}&source_id={sid}&_method=DELETE").status_code == 404
    assert tracking.get(f"/sources/{sid}").json["sources"][0]["active"] == "1"
    # A second customer's path does not reach the first customer's source.
    c2 = tracking.post("/customers", data={"name": "Two"}).json["customers"][0]["customer_id"]
    assert tracking.get(f"/customers/{c2}/sources/{sid}").status_code == 404


def test_custom_fields_are_read_only(tracking, shop):
    listed = tracking.get("/custom_fields")
    assert [f["custom_field_id"] for f in listed.json["custom_fields"]] == ["custom_1", "custom_2"]
    assert listed.json["total"] == 2
    answer = tracking.post("/custom_fields", data={"name": "x"})
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET"


def test_statistics_attribute_calls_to_the_source_holding_the_number(tracking, shop, tmp_path):
    from chalicelib.services.calls import ingest

    cid = shop["customer_id"]
    first = tracking.post(f"/customers/{cid}/sources", data={"name": "First", "number": "2065550104"}).json["sources"][0]
    now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)

    def row(call_id, caller, start, answered=True):
        s = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        e = (start + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return [call_id, "inbound", "acme1", "", caller, "12065550104", s, s if answered else "", e,
                "40" if answered else "0", "ANSWERED" if answered else "NO ANSWER"]

    ingest.import_file(tenant=shop["tenant"], path=cdr_file(tmp_path / "a.csv", [
        row("c1", "4155550001", now + timedelta(seconds=1)), row("c2", "4155550001", now + timedelta(seconds=2), False),
        row("c3", "4155550002", now + timedelta(seconds=3))]))
    import time
    time.sleep(max(0.0, (now + timedelta(seconds=4) - datetime.now(timezone.utc)).total_seconds()))
    tracking.delete(f"/sources/{first['source_id']}")
    second = tracking.post(f"/customers/{cid}/sources", data={"name": "Second", "number": "2065550104"}).json["sources"][0]
    later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)
    ingest.import_file(tenant=shop["tenant"], path=cdr_file(tmp_path / "b.csv", [row("c4", "4155550003", later),
                                                                              row("c1", "4155550001", now)]))
    listed = tracking.get(f"/statistics/cdrs?customer_id={cid}")
    assert listed.status_code == 200, listed.text
    by_id = {c["cdr_id"]: c for c in listed.json["cdrs"]}
    assert sorted(by_id) == ["c1", "c2", "c3", "c4"] and listed.json["total"] == 4
    assert {k: by_id[k]["source_id"] for k in by_id} == {"c1": first["source_id"], "c2": first["source_id"],
                                                          "c3": first["source_id"], "c4": second["source_id"]}
    assert by_id["c1"]["duration"] == "40" and by_id["c2"]["billsec"] == "0" and by_id["c1"]["number"] == "+12065550104"
    only_second = tracking.get(f"/statistics/cdrs&source_id={second['source_id']}&customer_id={cid}")
    assert [c["cdr_id"] for c in only_second.json["cdrs"]] == ["c4"]
    paged = tracking.get(f"/statistics/cdrs?customer_id={cid}&pagesize=3&page=1")
    assert paged.json["numpages"] == 2 and len(paged.json["cdrs"]) == 1
    stats = tracking.get(f"/statistics/sources?customer_id={cid}").json["sources"]
    first_row = next(r for r in stats if r["source_id"] == first["source_id"])
    assert first_row["calls"] == "3" and first_row["answered"] == "2" and first_row["unique_callers"] == "2"
    assert first_row["first_time_callers"] == "2" and first_row["average_duration"] == "40"
    assert tracking.get("/statistics/cdrs?date_from=2026-01-01&date_to=2026-12-31").status_code == 400


def test_session_pool_hands_out_least_recently_used_numbers(tracking, shop):
    cid = shop["customer_id"]
    sid = tracking.post(f"/customers/{cid}/sources", data={"name": "Web", "number": "2065550101"}).json["sources"][0]["source_id"]
    assert tracking.get(f"/sources/{sid}/number?session=a").json["numbers"][0]["number"] == "+12065550101"
    for number in ("2065550102", "2065550103"):
        assert tracking.post(f"/sources/{sid}/number", data={"number": number}).status_code == 200
    a = tracking.get(f"/sources/{sid}/number?session=a").json["numbers"][0]["number"]
    b = tracking.get(f"/customers/{cid}/sources/{sid}/number?session=b").json["numbers"][0]["number"]
    assert a != b and {a, b} == {"+12065550102", "+12065550103"}
    assert tracking.get(f"/sources/{sid}/number?session=a").json["numbers"][0]["number"] == a
    assert tracking.get(f"/sources/{sid}/number").status_code == 400

"""What a user limited to one customer sees, by both URL forms; session
numbers in statistics/cdrs; an oversize multipart greeting."""
from __future__ import annotations

import base64
import pathlib
import tempfile
from datetime import datetime, timedelta, timezone

from decimal import Decimal

from chalicelib.services.customers import accounts
from chalicelib.services.identity import users
from tests.support.worlds.money import admin
from tests.support.surfaces.tracking import Tracking
from tests.support.worlds.tracking import objects, wav
from tests.support.worlds.tracking import NUMBERS, cdr_file


def test_a_user_limited_to_one_customer_reaches_only_it_by_both_url_forms(tracking, shop, client, tenant):
    t, mine = shop["tenant"], shop["customer_id"]
    other = tracking.post("/customers", data={"name": "Other"}).json["customers"][0]["customer_id"]
    accounts.update_customer(principal=admin(tenant), customer_id=int(other), changes={"creditLimit": Decimal("-100")})
    theirs = tracking.post(f"/customers/{other}/sources", data={"name": "Theirs", "number": NUMBERS[1]}).json
    ours = tracking.post(f"/customers/{mine}/sources", data={"name": "Ours", "number": NUMBERS[2]}).json
    tsid, osid = theirs["sources"][0]["source_id"], ours["sources"][0]["source_id"]
    audio = {"name": "Hi", "audio": base64.b64encode(wav()).decode()}
    tgid = tracking.post(f"/customers/{other}/voicemail_greetings", data=audio).json["voicemail_greetings"][0]["vm_greeting_id"]
    bound = users.create_user(tenant=t, username=f"acme-{t}", account_number="acme1", password="acme-password")
    limited = Tracking(client, bound["username"], "acme-password")
    listed = limited.get("/customers")
    assert [c["customer_id"] for c in listed.json["customers"]] == [mine] and listed.json["total"] == 1
    assert [s["source_id"] for s in limited.get("/sources").json["sources"]] == [osid]
    for path in (f"/customers/{mine}", f"/customers?customer_id={mine}", f"/customers/{mine}/sources/{osid}",
                 f"/customers/sources?customer_id={mine}&source_id={osid}", f"/sources/{osid}",
                 f"/statistics/cdrs?customer_id={mine}", f"/customers/{mine}/voicemail_greetings"):
        assert limited.get(path).status_code == 200, path
    for path in (f"/customers/{other}", f"/customers?customer_id={other}", f"/customers/{other}/sources",
                 f"/customers/{other}/sources/{tsid}", f"/customers/sources?customer_id={other}&source_id={tsid}",
                 f"/customers/sources?source_id={tsid}", f"/sources/{tsid}", f"/customers/{mine}/sources/{tsid}",
                 f"/statistics/cdrs?customer_id={other}", f"/statistics/cdrs?source_id={tsid}",
                 f"/customers/{other}/voicemail_greetings/{tgid}",
                 f"/customers/voicemail_greetings?customer_id={other}&vm_greeting_id={tgid}",
                 f"/sources/{tsid}/number?session=s1"):
        assert limited.get(path).status_code == 404, path
    for method, path, data in (("PUT", f"/customers/{other}", {"name": "x"}),
                               ("POST", f"/customers/{other}/sources", {"name": "x", "number": NUMBERS[3]}),
                               ("POST", f"/customers/sources?customer_id={other}&source_id={tsid}&_method=DELETE", None),
                               ("DELETE", f"/customers/{other}/sources/{tsid}", None)):
        assert limited.call(method, path, data=data).status_code == 404, path
    assert tracking.get(f"/sources/{tsid}").json["sources"][0]["active"] == "1"
    assert tracking.get(f"/customers/{other}").json["customers"][0]["name"] == "Other"


def test_calls_to_a_pool_number_carry_the_session_it_was_handed_to(tracking, shop):
    from chalicelib.services.calls import ingest

    cid = shop["customer_id"]
    sid = tracking.post(f"/customers/{cid}/sources", data={"name": "Web", "number": NUMBERS[0]}).json["sources"][0]["source_id"]
    assert tracking.post(f"/sources/{sid}/number", data={"number": NUMBERS[1]}).status_code == 200
    handed = tracking.get(f"/sources/{sid}/number?session=visit-42").json["numbers"][0]
    assert handed["number"] == "+1" + NUMBERS[1] and handed["session"] == "visit-42"
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)

    def row(call_id, dialled, at):
        s, e = (at.strftime("%Y-%m-%dT%H:%M:%SZ"), (at + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        return [call_id, "inbound", "acme1", "", "4155550009", "1" + dialled, s, s, e, "30", "ANSWERED"]

    with tempfile.TemporaryDirectory() as scratch:
        ingest.import_file(tenant=shop["tenant"], path=cdr_file(pathlib.Path(scratch) / "s.csv", [
            row("pool-call", NUMBERS[1], start), row("own-call", NUMBERS[0], start)]))
    for path in (f"/statistics/cdrs?customer_id={cid}", f"/statistics/cdrs?source_id={sid}",
                 f"/statistics/cdrs.xml?customer_id={cid}"):
        answer = tracking.get(path)
        assert answer.status_code == 200, answer.text
        if answer.json is not None:
            sessions = {c["cdr_id"]: c["session"] for c in answer.json["cdrs"]}
        else:
            sessions = {c.find("cdr_id").text: c.find("session").text for c in answer.xml.iter("cdr")}
        assert sessions == {"pool-call": "visit-42", "own-call": None}, (path, sessions)
    figures = tracking.get(f"/statistics/sources?source_id={sid}").json["sources"]
    assert [(r["source_id"], r["calls"]) for r in figures] == [(sid, "2")]


def test_an_oversize_multipart_greeting_is_refused_and_leaves_nothing(tracking, tenant):
    from chalicelib.domain import tracking as rules

    cid = tracking.post("/customers", data={"name": "Acme"}).json["customers"][0]["customer_id"]
    boundary = "oVeRsIzE"
    audio = wav()[:44] + b"\x00" * (rules.MAX_GREETING_BYTES + 1 - 44)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nBig\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"big.wav\"\r\n"
            f"Content-Type: audio/wav\r\n\r\n").encode() + audio + f"\r\n--{boundary}--\r\n".encode()
    refused = tracking.post(f"/customers/{cid}/voicemail_greetings", raw=body,
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert refused.status_code == 400 and refused.json["errors"][0]["field"] == "audio", refused.text[:300]
    assert objects(tenant["tenant"]["id"]) == []
    assert tracking.get(f"/customers/{cid}/voicemail_greetings").json["total"] == 0


def test_statistics_read_each_shard_day_once_for_all_customers(tracking, shop, tenant, tmp_path, monkeypatch):
    from chalicelib.services.calls import ingest, scan
    from chalicelib.store import calls as cdr_store

    first = int(shop["customer_id"])
    # Another customer whose calls the pipeline keeps in the same shard as the first's.
    while True:
        made = accounts.create_customer(principal=admin(tenant), fields={"name": "Neighbour", "creditLimit": "-100"})
        if scan.shard(made["id"]) == scan.shard(first):
            break
    second = made["id"]
    for cid, number in ((first, NUMBERS[0]), (second, NUMBERS[1])):
        assert tracking.post(f"/customers/{cid}/sources", data={"name": "S", "number": number}).status_code == 200
    start = (datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [[f"call-{n}", "inbound", account, "", "4155550001", "1" + number, start, start, start, "0", "ANSWERED"]
            for n, (account, number) in enumerate((("acme1", NUMBERS[0]), (made["accountNumber"], NUMBERS[1])))]
    ingest.import_file(tenant=shop["tenant"], path=cdr_file(tmp_path / "c.csv", rows))
    listed: list[str] = []
    list_keys = cdr_store.list_keys
    monkeypatch.setattr(cdr_store, "list_keys", lambda t, prefix: listed.append(prefix) or list_keys(t, prefix))
    answer = tracking.get("/statistics/cdrs?date_from=" + start[:10] + "&date_to=" + start[:10])
    assert {(c["cdr_id"], c["customer_id"]) for c in answer.json["cdrs"]} == {("call-0", str(first)),
                                                                            ("call-1", str(second))}
    assert listed == [f"cdr-parts/{start[:10]}/{scan.shard(first):02d}/"]  # one shard-day, once

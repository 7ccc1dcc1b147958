"""Voicemail greetings (both URL forms, base64 and multipart uploads,
nothing left in S3 on refusal) and the OpenAPI description against real
responses."""
from __future__ import annotations

import base64
import json

import pytest
from openapi_spec_validator import validate

from chalicelib.domain import tracking as rules
from tests.support.worlds.tracking import objects, wav


MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400


def test_greetings_both_ways_and_refusals_leave_nothing(tracking, tenant):
    t = tenant["tenant"]["id"]
    cid = tracking.post("/customers", data={"name": "Acme"}).json["customers"][0]["customer_id"]
    made = tracking.post(f"/customers/{cid}/voicemail_greetings",
                         data={"name": "Welcome", "audio": base64.b64encode(wav()).decode()})
    assert made.status_code == 200, made.text
    greeting = made.json["voicemail_greetings"][0]
    assert greeting["content_type"] == "audio/wav" and greeting["url"].startswith("http")
    gid = greeting["vm_greeting_id"]
    boundary = "xYzBoUnDaRy"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAfter hours\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.mp3\"\r\n"
            f"Content-Type: audio/mpeg\r\n\r\n").encode() + MP3 + f"\r\n--{boundary}--\r\n".encode()
    multipart = tracking.post(f"/customers/voicemail_greetings?customer_id={cid}", raw=body,
                              headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert multipart.status_code == 200, multipart.text
    assert multipart.json["voicemail_greetings"][0]["content_type"] == "audio/mpeg"
    for path in (f"/customers/{cid}/voicemail_greetings/{gid}",
                 f"/customers/voicemail_greetings?customer_id={cid}&vm_greeting_id={gid}"):
        assert tracking.get(path).json["voicemail_greetings"][0]["name"] == "Welcome"
    assert tracking.get(f"/customers/{cid}/voicemail_greetings").json["total"] == 2
    assert len(objects(t)) == 2
    for data in ({"name": "x", "audio": base64.b64encode(b"not audio at all").decode()},
                 {"name": "x", "audio": "%%%"}, {"name": "x"},
                 {"name": "x", "audio": base64.b64encode(b"RIFF\x00\x00\x00\x00WAVE" + b"\x00" * rules.MAX_GREETING_BYTES).decode()}):
        refused = tracking.post(f"/customers/{cid}/voicemail_greetings", data=data)
        assert refused.status_code == 400, refused.text
    assert len(objects(t)) == 2
    updated = tracking.put(f"/customers/voicemail_greetings?customer_id={cid}&vm_greeting_id={gid}", data={"active": "0"})
    assert updated.json["voicemail_greetings"][0]["active"] == "0"
    assert tracking.delete(f"/customers/{cid}/voicemail_greetings/{gid}").status_code == 200
    assert len(objects(t)) == 1
    assert tracking.get(f"/customers/{cid}/voicemail_greetings/{gid}").status_code == 404


def test_the_served_description_is_the_one_requests_and_answers_are_checked_against(client):
    from tests.support.checks.tracking_openapi import document

    answer = client.get("/tracking/v1/openapi.json", headers={"Host": "h"})
    assert answer.status_code == 200
    served = json.loads(answer.body)
    validate(served)
    assert served == json.loads(json.dumps(document()))


def test_the_description_has_the_request_side(tracking):
    """What the tests' checker (described.py) holds every request to, on real
    requests; and what it refuses, so the checks are not vacuous."""
    from tests.support.checks.tracking_openapi import check_request, document

    cid = tracking.post("/customers", raw="name=Freespee+AB&custnr=abc123",
                        headers={"Content-Type": "application/x-www-form-urlencode"}).json["customers"][0]["customer_id"]
    for method, path, kw in [
            ("GET", "/customers&page=0&pagesize=10", {}), ("GET", f"/customers.xml?customer_id={cid}", {}),
            ("POST", f"/customers/{cid}?_method=PUT", {"data": {"name": "New AB", "email": ""}}),
            ("POST", "/customers", {"json_body": {"name": "JSON AB", "email": "a@example.com"}}),
            ("GET", "/statistics/cdrs?date_from=2026-01-01&date_to=2026-01-05&page=0", {}),
            ("GET", "/custom_fields?entity=source", {})]:
        answer = tracking.call(method, path, **kw)  # checked against the description by the helper
        assert answer.status_code == 200, (path, answer.text)
    media = {m for item in document()["paths"].values() for op in item.values() if isinstance(op, dict)
             for m in (op.get("requestBody") or {}).get("content", {})}
    assert media == {"application/x-www-form-urlencoded", "application/x-www-form-urlencode", "application/json",
                     "multipart/form-data"}
    refused = [("GET", "/tracking/v1/customers?colour=red", {}, None),
               ("GET", "/tracking/v1/customers?page=-1", {}, None),
               ("PUT", "/tracking/v1/customers", {"Content-Type": "application/json"}, '{"name": "x"}'),
               ("POST", "/tracking/v1/customers", {"Content-Type": "application/json"}, '{"custnr": "x"}'),
               ("POST", "/tracking/v1/customers", {"Content-Type": "text/csv"}, "name,x"),
               ("GET", "/tracking/v1/sources/1/number", {}, None),
               ("POST", "/tracking/v1/custom_fields", {"Content-Type": "application/json"}, '{"name": "x"}')]
    for method, uri, headers, body in refused:
        with pytest.raises(AssertionError):
            check_request(method, uri, headers, body)
    xml = document()["paths"]["/customers"]["get"]["responses"]["200"]["content"]["application/xml"]["schema"]
    assert xml["xml"] == {"name": "customers"} and xml["properties"]["customer"]["items"]["xml"] == {"name": "customer"}


def test_responses_match_the_openapi_description(tracking):
    calls = [("GET", "/miscellaneous/ping", None), ("POST", "/customers", {"name": "A", "custnr": "oa1"}),
             ("GET", "/customers", None), ("GET", "/customers/1", None), ("PUT", "/customers/1", {"name": "B"}),
             ("GET", "/customers/77", None), ("POST", "/customers", {"name": ""}), ("GET", "/custom_fields", None),
             ("GET", "/sources?customer_id=1", None), ("GET", "/statistics/cdrs?customer_id=1", None),
             ("GET", "/statistics/sources", None), ("GET", "/customers/1/voicemail_greetings", None),
             ("POST", "/custom_fields", {"x": "1"}), ("GET", "/customers.xml", None),
             ("GET", "/customers.xml/77", None)]
    for method, path, data in calls:
        tracking.call(method, path, data=data)  # the helper checks each answer (and each request that succeeded)

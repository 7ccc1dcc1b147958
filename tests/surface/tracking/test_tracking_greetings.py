"""Voicemail greetings (both URL forms, base64 and multipart uploads,
nothing left in S3 on refusal) and the OpenAPI description against real
responses."""
from __future__ import annotations

import base64
import json
import re
import struct

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from chalicelib import settings
from chalicelib.domain import tracking as rules
from chalicelib.store.clients import client as aws_client


def wav(seconds: float = 0.1) -> bytes:
    frames = b"\x00\x00" * int(8000 * seconds)
    return (b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
            + b"data" + struct.pack("<I", len(frames)) + frames)


MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400


def objects(tenant: str) -> list[str]:
    listed = aws_client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"tenants/{tenant}/greetings/")
    return [o["Key"] for o in listed.get("Contents", [])]


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


def _template(spec, path):
    path = path.split("?")[0].split("&")[0]
    path = re.sub(r"\.(json|xml)", "", path)
    for template in spec["paths"]:
        if re.match("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$", path):
            return template
    raise AssertionError(f"{path} is not documented")


def check(spec, method, path, response):
    operation = spec["paths"][_template(spec, path)][method.lower()]
    documented = operation["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node
    OAS30Validator(resolve(schema)).validate(response.json)


def test_responses_match_the_openapi_description(tracking, client):
    answer = client.get("/tracking/v1/openapi.json", headers={"Host": "h"})
    assert answer.status_code == 200
    spec = json.loads(answer.body)
    validate(spec)
    calls = [("GET", "/miscellaneous/ping", None), ("POST", "/customers", {"name": "A", "custnr": "oa1"}),
             ("GET", "/customers", None), ("GET", "/customers/1", None), ("PUT", "/customers/1", {"name": "B"}),
             ("GET", "/customers/77", None), ("POST", "/customers", {"name": ""}), ("GET", "/custom_fields", None),
             ("GET", "/sources?customer_id=1", None), ("GET", "/statistics/cdrs?customer_id=1", None),
             ("GET", "/statistics/sources", None), ("GET", "/customers/1/voicemail_greetings", None),
             ("POST", "/custom_fields", {"x": "1"})]
    for method, path, data in calls:
        response = tracking.call(method, path, data=data)
        check(spec, method, path, response)

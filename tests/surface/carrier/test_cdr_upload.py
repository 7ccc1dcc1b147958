"""Carrier extension ``cdr_upload``: a presigned S3 POST into the tenant's CDR
inbox, for tenant-level users with write access only, with a checked file name.
(The upload itself and its processing run over real HTTP in
tests/integration/carrier/test_cdr_upload.py: moto in-process cannot take a POST.)"""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.worlds.money import admin, new_customer


def call(client: Any, **params: str) -> tuple[int, dict[str, Any]]:
    r = client.post("/carrier/cdr_upload", headers={"Content-Type": "application/x-www-form-urlencoded"},
                    body=urlencode(params))
    return r.status_code, json.loads(r.body)


def policy(answer: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(answer["fields"]["policy"]))


def user_key(tenant: dict[str, Any], name: str, **user: Any) -> str:
    from chalicelib.services.identity import users

    t = tenant["tenant"]["id"]
    made = users.create_user(tenant=t, username=f"{name}-{t}", api_only=True, **user)
    return users.issue_api_key(tenant=t, user_id=made["id"])


def test_admin_gets_a_presigned_post_into_the_tenant_inbox(client: Any, tenant: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDR_UPLOAD_MAX_BYTES", "1048576")
    t, key = tenant["tenant"]["id"], tenant["user"]["api_key"]
    status, answer = call(client, token=key, filename="Master.csv")
    assert status == 200 and answer["status"] == "200", answer
    stored = answer["fields"]["key"]
    assert stored == f"cdr-inbox/{t}/{answer['filename']}" and stored.endswith("-Master.csv")
    assert answer["url"].endswith("/" + os_bucket()) and answer["maxsize"] == "1048576"
    conditions = policy(answer)["conditions"]
    # The size limit is S3's to enforce: it is in the signed policy.
    assert ["content-length-range", 1, 1048576] in conditions
    assert {"key": stored} in conditions
    # The same name again is another object: an unprocessed first upload is never replaced.
    assert call(client, token=key, filename="Master.csv")[1]["fields"]["key"] != stored
    # accountno is optional here; when sent it is checked as everywhere.
    customer = new_customer(admin(tenant))
    assert call(client, token=key, accountno=customer["accountNumber"], filename="a.csv.gz")[0] == 200
    assert call(client, token=key, accountno="999999999", filename="a.csv") == (
        404, {"status": "404", "error": "Invalid accountno"})


def os_bucket() -> str:
    from chalicelib import settings

    return settings.blob_bucket()


def test_only_tenant_level_writers_may_upload(client: Any, tenant: dict[str, Any]) -> None:
    customer = new_customer(admin(tenant))
    account = customer["accountNumber"]
    assert call(client, filename="a.csv")[0] == 401
    assert call(client, token="dtk_not-a-key", filename="a.csv") == (401, {"status": "401", "error": "Invalid token"})
    refused = {
        "customer user": user_key(tenant, "cust", account_number=account),
        "read-only staff": user_key(tenant, "ro", can_write=False),
        "account manager": user_key(tenant, "mgr", customer_access="manager"),
        "commission holder": user_key(tenant, "com", customer_access="commission"),
    }
    for who, key in refused.items():
        status, answer = call(client, token=key, filename="a.csv")
        assert (status, answer["status"]) == (403, "403"), who
        assert "fields" not in answer, who
    # Naming its own account does not make a customer user tenant-level.
    assert call(client, token=refused["customer user"], accountno=account, filename="a.csv")[0] == 403
    # A staff user with access to every customer may, without being an administrator.
    assert call(client, token=user_key(tenant, "ops"), filename="a.csv")[0] == 200


@pytest.mark.parametrize("name", [
    "", "../a.csv", "..", "a/b.csv", "/etc/passwd", "a\\b.csv", ".hidden", "-rf", "a b.csv", "a\x00.csv",
    "caf\u00e9.csv", "x" * 129,
])
def test_bad_file_names_are_refused(client: Any, tenant: dict[str, Any], name: str) -> None:
    status, answer = call(client, token=tenant["user"]["api_key"], filename=name)
    assert (status, answer) == (404, {"status": "404", "error": "Invalid filename"})


def test_longest_plain_name_is_accepted(client: Any, tenant: dict[str, Any]) -> None:
    name = "a" * 124 + ".csv"
    status, answer = call(client, token=tenant["user"]["api_key"], filename=name)
    assert status == 200 and answer["filename"].endswith("-" + name)


def status_of(client: Any, **params: str) -> tuple[int, dict[str, Any]]:
    r = client.post("/carrier/cdr_upload_status", headers={"Content-Type": "application/x-www-form-urlencoded"},
                    body=urlencode(params))
    return r.status_code, json.loads(r.body)


CDR_HEADER = "call_id,direction,account,trunk_id,from,to,start,answer,end,billsec,disposition"


def test_upload_status_follows_a_file_from_the_inbox_to_its_summary(client: Any, tenant: dict[str, Any]) -> None:
    from chalicelib.services.calls import inbox
    from tests.support.worlds.numbers import own

    t, key = tenant["tenant"]["id"], tenant["user"]["api_key"]
    principal = admin(tenant)
    customer = new_customer(principal)
    own(principal, customer, ["2065550001"])
    body = "\n".join([
        CDR_HEADER,
        "s-1,inbound,a,,+12065550100,12065550001,2026-06-01T10:00:00Z,2026-06-01T10:00:05Z,2026-06-01T10:01:05Z,60,ANSWERED",
        "s-2,inbound,a,,+12065550100,12065550001,2026-06-01T10:05:00Z,,2026-06-01T10:05:09Z,0,MAYBE",
        "s-1,inbound,a,,+12065550100,12065550001,2026-06-01T10:00:00Z,2026-06-01T10:00:05Z,2026-06-01T10:01:05Z,60,ANSWERED",
    ]).encode() + b"\n"
    name = call(client, token=key, filename="switch-a.csv")[1]["filename"]
    assert status_of(client, token=key, filename=name) == (
        404, {"status": "404", "error": "Invalid filename"})  # granted, nothing uploaded yet
    stored = inbox.upload_to_inbox(tenant=t, name=name, body=body)
    assert status_of(client, token=key, filename=name) == (200, {"status": "200", "state": "pending"})
    inbox.ingest_inbox_object(key=stored)
    status, answer = status_of(client, token=key, filename=name)
    assert status == 200 and answer == {
        "status": "200", "state": "done", "rows": "3", "accepted": "1", "duplicate": "1", "rejected": "1",
        "errors": [{"line": "3", "reason": "disposition must be ANSWERED, NO ANSWER, BUSY or FAILED"}]}, answer
    # The same bytes under another name are recognised and count nothing.
    again = call(client, token=key, filename="switch-a.csv")[1]["filename"]
    inbox.ingest_inbox_object(key=inbox.upload_to_inbox(tenant=t, name=again, body=body))
    assert status_of(client, token=key, filename=again) == (200, {"status": "200", "state": "repeated"})


def test_upload_status_is_for_tenant_level_users_of_that_tenant(client: Any, tenant: dict[str, Any]) -> None:
    from chalicelib.services.calls import inbox
    from chalicelib.services.identity import users

    t, key = tenant["tenant"]["id"], tenant["user"]["api_key"]
    name = call(client, token=key, filename="x.csv")[1]["filename"]
    inbox.upload_to_inbox(tenant=t, name=name, body=CDR_HEADER.encode() + b"\n")
    manager = user_key(tenant, "mgr2", customer_access="manager")
    assert status_of(client, token=manager, filename=name)[0] == 403
    # Another tenant's administrator does not see it (its own inbox has no such file).
    other = users.create_tenant(name="Other CDR tenant")["user"]["api_key"]
    assert status_of(client, token=other, filename=name) == (404, {"status": "404", "error": "Invalid filename"})
    assert status_of(client, token=key, filename="../" + name) == (404, {"status": "404", "error": "Invalid filename"})

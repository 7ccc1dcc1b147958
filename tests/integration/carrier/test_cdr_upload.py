"""A CDR file uploaded over HTTP to the presigned POST of carrier ``cdr_upload``
is processed with nothing else done: S3 (moto) notifies the cdr-files queue
as on AWS, the worker pump runs ``cdr_files``, and the figures show in
``did_stats``; the inbox object is removed once ingested."""
from __future__ import annotations

import time
from typing import Any

import requests

HEADER = "call_id,direction,account,trunk_id,from,to,start,answer,end,billsec,disposition"
DID = "2065550001"  # the inventory's 10 digits (did_stats)
DID_IN_CDR = "1" + DID  # a switch writes 1 + 10 digits


def _seed(runtime: Any) -> tuple[str, str, str]:
    """A tenant (administrator key) with one customer owning one DID."""
    from chalicelib.auth import api_key
    from chalicelib.services.customers import accounts as customers
    from chalicelib.services.identity import users
    from tests.support.worlds.numbers import own

    with runtime.environment():
        made = users.create_tenant(name="CDR upload")
        tenant, key = made["tenant"]["id"], made["user"]["api_key"]
        principal = api_key.authenticate(key, None)
        customer = customers.create_customer(principal=principal, fields={"name": "Caller", "creditLimit": "-1000"})
        own(principal, customer, [DID])
    return tenant, key, customer["accountNumber"]


def _inbox(runtime: Any, tenant: str) -> list[str]:
    from chalicelib import settings
    from chalicelib.store.clients import client

    with runtime.environment():
        listed = client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"cdr-inbox/{tenant}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_presigned_upload_is_ingested_end_to_end(runtime: Any) -> None:
    tenant, key, account = _seed(runtime)
    rows = [
        f"up-1,inbound,{account},,+12065550100,{DID_IN_CDR},2026-06-01T10:00:00Z,2026-06-01T10:00:05Z,2026-06-01T10:01:05Z,60,ANSWERED",
        f"up-2,inbound,{account},,+12065550101,{DID_IN_CDR},2026-06-01T10:00:30Z,2026-06-01T10:00:31Z,2026-06-01T10:02:31Z,120,ANSWERED",
        f"up-3,inbound,{account},,+12065550102,{DID_IN_CDR},2026-06-01T11:00:00Z,,2026-06-01T11:00:20Z,0,NO ANSWER",
    ]
    body = ("\n".join([HEADER, *rows]) + "\n").encode()
    with requests.Session() as http:
        granted = http.post(f"{runtime.base_url}/carrier/cdr_upload",
                            data={"token": key, "filename": "switch-a.csv"}).json()
        assert granted["status"] == "200", granted
        assert granted["fields"]["key"].startswith(f"cdr-inbox/{tenant}/")
        # Exactly what any S3 client does with a presigned POST: the fields, then the file.
        sent = http.post(granted["url"], data=granted["fields"], files={"file": ("switch-a.csv", body)})
        assert sent.status_code == 204, sent.text

        deadline, stats = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            answer = http.get(f"{runtime.base_url}/carrier/did_stats",
                              params={"token": key, "accountno": account, "number": DID}).json()
            stats = answer["data"][0] if answer.get("status") == "200" and answer.get("data") else {}
            if stats.get("processed") == "3":
                break
            time.sleep(0.2)
        # The uploader reads the file's outcome by the name the grant gave it
        # (done once the figures are stored: the last step before the summary).
        deadline, outcome = time.monotonic() + 30, {}
        while time.monotonic() < deadline:
            outcome = http.post(f"{runtime.base_url}/carrier/cdr_upload_status",
                                data={"token": key, "filename": granted["filename"]}).json()
            if outcome.get("state") == "done":
                break
            time.sleep(0.2)
    assert {k: stats.get(k) for k in ("processed", "completed", "asr", "acd", "peak")} == {
        "processed": "3", "completed": "2", "asr": "67%", "acd": "90", "peak": "2"}, stats
    assert outcome == {"status": "200", "state": "done", "rows": "3", "accepted": "3", "duplicate": "0",
                       "rejected": "0", "errors": []}, outcome
    # Ingested and removed from the inbox (the last step of the handler).
    deadline = time.monotonic() + 10
    while _inbox(runtime, tenant) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _inbox(runtime, tenant) == []

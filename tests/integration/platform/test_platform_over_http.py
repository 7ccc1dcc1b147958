"""Issue 2 over real HTTP against the local runtime (DynamoDB Local): races,
conditions and transactions that moto cannot be trusted with."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import requests

from tests.support.harness.admin import admin
from tests.support.harness.concurrency import run_concurrently
from tests.support.harness.stage import ROOT

THREADS = 16


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def test_admin_cli_tenant_then_empty_list(runtime):
    made = admin(runtime, "create-tenant", "--name", "Acme")
    assert set(made["user"]) >= {"username", "password", "api_key", "totp_secret"}
    assert made["tenant"]["name"] == "Acme"
    answer = requests.get(f"{runtime.base_url}/backend/api/v1/customers", headers=bearer(made["user"]["api_key"]))
    assert answer.status_code == 200 and answer.json() == []


def test_racing_creates_of_one_account_number_let_exactly_one_win(runtime):
    key = admin(runtime, "create-tenant", "--name", "Race")["user"]["api_key"]
    url = f"{runtime.base_url}/backend/api/v1/customers"

    def create(n: int) -> int:
        body = {"customerName": f"Racer {n}", "accountNumber": "RACE-1"}
        return requests.post(url, headers=bearer(key), data=json.dumps(body), timeout=30).status_code

    statuses, peak = run_concurrently(THREADS, create)
    assert peak > 1, "the requests did not overlap"
    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    listed = requests.get(url, headers=bearer(key)).json()
    assert [c["accountNumber"] for c in listed] == ["RACE-1"]


def test_concurrent_patches_of_different_fields_all_land(runtime):
    key = admin(runtime, "create-tenant", "--name", "Patch")["user"]["api_key"]
    base = f"{runtime.base_url}/backend/api/v1/customers"
    customer = requests.post(base, headers=bearer(key), data=json.dumps({"customerName": "Target"})).json()
    fields = ["email", "phone", "contactName", "companyNumber", "address1", "address2", "city", "state",
              "postcode", "country"]

    def patch(n: int) -> int:
        value = f"x{n}@example.test" if fields[n] == "email" else f"value-{n}"
        answer = requests.patch(f"{base}/{customer['id']}", headers=bearer(key),
                                data=json.dumps({fields[n]: value}), timeout=30)
        return answer.status_code

    statuses, peak = run_concurrently(len(fields), patch)
    assert peak > 1, "the requests did not overlap"
    assert statuses == [200] * len(fields)
    final = requests.get(f"{base}/{customer['id']}", headers=bearer(key)).json()
    for n, name in enumerate(fields):
        assert final[name] == (f"x{n}@example.test" if name == "email" else f"value-{n}"), name


def test_rotated_key_stops_working(runtime):
    made = admin(runtime, "create-tenant", "--name", "Rotate")
    old = made["user"]["api_key"]
    url = f"{runtime.base_url}/backend/api/v1/customers"
    assert requests.get(url, headers=bearer(old)).status_code == 200
    new = admin(runtime, "issue-api-key", "--tenant", made["tenant"]["id"], "--user", made["user"]["username"])["api_key"]
    assert requests.get(url, headers=bearer(new)).status_code == 200
    # The server trusted the old key for AUTH_CACHE_SECONDS (1 s locally).
    deadline = time.monotonic() + 5
    while requests.get(url, headers=bearer(old)).status_code != 401:
        assert time.monotonic() < deadline, "the old key still works"
        time.sleep(0.2)


def test_allowlist_is_enforced_on_the_real_source_address(runtime):
    made = admin(runtime, "create-tenant", "--name", "Allow")
    t, user, key = made["tenant"]["id"], made["user"]["username"], made["user"]["api_key"]
    url = f"{runtime.base_url}/backend/api/v1/customers"
    admin(runtime, "set-allowlist", "--tenant", t, "--user", user, "--ips", "127.0.0.2/32")
    time.sleep(1.2)  # the server's key cache (1 s locally)
    from_one = runtime.session(source_ip="127.0.0.1")
    from_two = runtime.session(source_ip="127.0.0.2")
    refused = from_one.get(url, headers={**bearer(key), "X-Forwarded-For": "127.0.0.2"})
    assert refused.status_code == 401 and refused.json()["error_code"] == 401002
    assert from_two.get(url, headers=bearer(key)).status_code == 200
    admin(runtime, "set-allowlist", "--tenant", t, "--user", user, "--ips", "")
    time.sleep(1.2)
    assert from_one.get(url, headers=bearer(key)).status_code == 200


def test_posted_customer_and_audit_are_listed(runtime):
    made = admin(runtime, "create-tenant", "--name", "Audit")
    key, t = made["user"]["api_key"], made["tenant"]["id"]
    url = f"{runtime.base_url}/backend/api/v1/customers"
    created = requests.post(url, headers=bearer(key), data=json.dumps({"customerName": "Logged"})).json()
    deadline = time.monotonic() + 10
    while True:
        entries = admin(runtime, "list-audit", "--tenant", t)["entries"]
        if entries:
            break
        assert time.monotonic() < deadline, "no audit record arrived"
        time.sleep(0.3)
    assert entries[0]["method"] == "POST" and entries[0]["status"] == 201
    assert entries[0]["touched"] == [f"customer:{created['id']}"]

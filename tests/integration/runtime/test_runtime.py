"""The local runtime over real HTTP: the API answers, sees the caller's real
address, keeps connections fast, serves concurrent clients, and its audit
lines reach the audit table through the log shipper."""
from __future__ import annotations

import os
import socket
import statistics
import time
from typing import Any, Callable

import requests

from tests.support.harness.concurrency import run_concurrently
from tests.support.harness.runtime import LocalRuntime

CUSTOMERS = "/backend/api/v1/customers"


def session_from(runtime: LocalRuntime, address: str, api_key: str) -> requests.Session:
    session = runtime.session(source_ip=address)
    session.headers["Authorization"] = f"Bearer {api_key}"
    return session


def wait_for_audit(runtime: LocalRuntime, tenant_id: str, wanted: Callable[[dict[str, Any]], bool],
                   timeout: float = 5.0) -> tuple[dict[str, Any], float]:
    """The first audit record of the tenant that ``wanted`` accepts, and how long it took to appear."""
    from chalicelib.services.common import audit

    began = time.monotonic()
    while True:
        with runtime.environment():
            found = [r for r in audit.list_entries(tenant=tenant_id, limit=1000) if wanted(r)]
        if found:
            return found[0], time.monotonic() - began
        assert time.monotonic() - began < timeout, f"no matching audit record after {timeout} s"
        time.sleep(0.05)


def test_a_new_tenant_lists_no_customers_then_the_one_it_creates(runtime: LocalRuntime,
                                                                 http: requests.Session) -> None:
    assert http.get(runtime.base_url + CUSTOMERS).json() == []

    created = http.post(runtime.base_url + CUSTOMERS, json={"customerName": "Acme Widgets"})

    assert created.status_code == 201, created.text
    listed = http.get(runtime.base_url + CUSTOMERS).json()
    assert [(c["id"], c["customerName"]) for c in listed] == [(created.json()["id"], "Acme Widgets")]


def test_audit_records_of_requests_are_stored_within_seconds(runtime: LocalRuntime, api_tenant: dict[str, Any],
                                                             http: requests.Session) -> None:
    created = http.post(runtime.base_url + CUSTOMERS, json={"customerName": "Audited"})
    assert created.status_code == 201, created.text

    record, waited = wait_for_audit(runtime, api_tenant["tenant"]["id"],
                                    lambda r: r["method"] == "POST" and r["status"] == 201)

    print(f"audit record listable {waited:.2f} s after the response")
    assert record["surface"] == "backend"
    assert record["path"] == CUSTOMERS
    assert record["username"] == api_tenant["user"]["username"]


def test_the_source_address_is_the_callers_real_address(runtime: LocalRuntime, api_tenant: dict[str, Any]) -> None:
    with session_from(runtime, "127.0.0.2", api_tenant["user"]["api_key"]) as session:
        assert session.get(runtime.base_url + CUSTOMERS).status_code == 200

    record, _ = wait_for_audit(runtime, api_tenant["tenant"]["id"], lambda r: r["method"] == "GET")

    assert record["sourceIp"] == "127.0.0.2"


def median_ms_of_sequential_gets(session: requests.Session, url: str, count: int = 200) -> float:
    session.get(url)  # connection open, key resolved
    took = []
    for _ in range(count):
        began = time.perf_counter()
        session.get(url)
        took.append(time.perf_counter() - began)
    # The median: Nagle delays every answer (~40 ms), a loaded machine only some.
    return statistics.median(took) * 1000


def test_kept_alive_requests_are_not_held_back_by_nagle(runtime: LocalRuntime, http: requests.Session) -> None:
    url = runtime.base_url + CUSTOMERS
    with requests.Session() as anonymous:
        # Refused before any DynamoDB call: the server's own path, where
        # Nagle's ~40 ms per answer would show. Still a body after the headers.
        refused_ms = median_ms_of_sequential_gets(anonymous, url)
        assert anonymous.get(url).status_code == 401
    listed_ms = median_ms_of_sequential_gets(http, url)

    print(f"200 kept-alive GETs: refused {refused_ms:.1f} ms, listing customers {listed_ms:.1f} ms (median)")
    assert refused_ms < 25


def test_concurrent_clients_are_served_at_once(runtime: LocalRuntime, api_tenant: dict[str, Any]) -> None:
    """Clients whose requests are still arriving hold their connections open;
    a server that served one request at a time would wait on the first of them
    and answer nobody else until it finished. Here every whole request is
    answered while those stay unfinished, and then they are answered too."""
    key = api_tenant["user"]["api_key"]
    unfinished = [socket.create_connection(("127.0.0.1", runtime.ports.api), timeout=10) for _ in range(4)]
    for connection in unfinished:
        connection.sendall(f"GET {CUSTOMERS} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())  # headers not ended

    def fetch(_: int) -> int:
        with session_from(runtime, "127.0.0.1", key) as session:
            return session.get(runtime.base_url + CUSTOMERS, timeout=5).status_code

    statuses, peak = run_concurrently(32, fetch)
    assert statuses == [200] * 32
    assert peak > 1  # the clients' requests really were in flight together
    for connection in unfinished:
        with connection:
            connection.sendall(f"Authorization: Bearer {key}\r\nConnection: close\r\n\r\n".encode())
            assert connection.recv(64).split(b" ")[1] == b"200"


def test_a_second_runtime_runs_beside_the_first_and_leaves_no_process_when_stopped(runtime: LocalRuntime) -> None:
    second = LocalRuntime()
    with second:
        assert second.base_url != runtime.base_url
        print(f"LocalRuntime started in {second.startup_seconds:.1f} s")
        assert requests.get(second.base_url + CUSTOMERS).status_code == 401
        groups = second.process_groups
        assert len(groups) == 4

    for group in groups:
        try:
            os.killpg(group, 0)  # signal 0 only asks whether anybody is left in the group
        except ProcessLookupError:
            continue
        raise AssertionError(f"process group {group} still has members")

"""The call-tracking API (issue 12) over real HTTP on the local runtime:
the document's examples with requests' HTTPDigestAuth and with curl --digest,
clients that speak only MD5 or only SHA-256, stale nonces, a replay through
a second API server process, the refusals, and the cross-surface checks."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

import pytest
import requests
from requests.auth import AuthBase, HTTPDigestAuth

from chalicelib.auth import digest
from tests.support.harness.tenants import create_tenant
from tests.support.harness.admin import admin as admin_cli
from tests.support.harness.stage import ROOT


class OneAlgorithmDigest(AuthBase):
    """A Digest client that answers only the challenge of ``algorithm``
    (a client library that knows only MD5, or only SHA-256)."""

    def __init__(self, username: str, password: str, algorithm: str) -> None:
        self.username, self.password, self.algorithm = username, password, algorithm
        self.challenge: dict[str, str] | None = None
        self.nc = 0

    def _header(self, request: requests.PreparedRequest) -> str:
        self.nc += 1
        path = request.path_url
        return digest.answer(self.challenge or {}, username=self.username, password=self.password,
                             method=request.method or "GET", uri=path, nc=self.nc)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.challenge is not None:
            request.headers["Authorization"] = self._header(request)
        request.register_hook("response", self._on_401)
        return request

    def _on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401 or getattr(response.request, "_retried", False):
            return response
        offered = [digest.parse_authorization(v) for v in response.raw.headers.getlist("WWW-Authenticate")]
        self.challenge = next(c for c in offered if c and c.get("algorithm") == self.algorithm)
        self.nc = 0
        response.content  # noqa: B018  (drain, so the connection is reused)
        retry = response.request.copy()
        retry._retried = True  # type: ignore[attr-defined]
        retry.headers["Authorization"] = self._header(retry)
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        return again


@pytest.fixture(scope="module")
def world(runtime: Any) -> dict[str, Any]:
    made = create_tenant(runtime, "Tracking Tenant")
    tenant = made["tenant"]["id"]
    with runtime.environment():
        from chalicelib.services.tracking import fields
        from tests.support.worlds.numbers import import_landlines

        import_landlines(tenant, [f"20655501{n:02d}" for n in range(10, 20)])
        fields.define(tenant=tenant, entity="customer", slot=1, name="Segment", kind="string", values=[])
        fields.define(tenant=tenant, entity="customer", slot=2, name="Size", kind="integer", values=[])
    return {"tenant": tenant, "user": made["user"]["username"], "password": made["user"]["password"],
            "key": made["user"]["api_key"], "base": runtime.base_url + "/tracking/v1"}


@pytest.fixture()
def session(world: dict[str, Any]) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.auth = HTTPDigestAuth(world["user"], world["password"])
        yield s


def curl(world: dict[str, Any], *args: str) -> tuple[int, str]:
    done = subprocess.run(["curl", "-sS", "--digest", "-u", f"{world['user']}:{world['password']}",
                           "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=60)
    body, _, code = done.stdout.rpartition("\n")
    return int(code), body


def test_the_documents_curl_examples(world):
    base = world["base"]
    assert curl(world, f"{base}/miscellaneous/ping")[0] == 200
    code, body = curl(world, "-X", "POST", "-d", "name=Freespee+AB&custnr=abc123", f"{base}/customers")
    assert code == 200, body
    customer = json.loads(body)["customers"][0]
    code, body = curl(world, f"{base}/customers")
    assert code == 200 and customer in json.loads(body)["customers"]
    code, body = curl(world, f"{base}/customers/{customer['customer_id']}")
    assert code == 200 and json.loads(body) == {"customers": [customer]}
    code, body = curl(world, f"{base}/customers.xml/{customer['customer_id']}")
    assert code == 200 and body.startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_the_documents_examples_with_requests(world, session, runtime):
    base = world["base"]
    made = session.post(f"{base}/customers", data="name=Freespee+AB&custnr=123&corporateid=123&custom_1=abc",
                        headers={"Content-Type": "application/x-www-form-urlencode"})
    assert made.status_code == 200, made.text
    customer = made.json()["customers"][0]
    cid = customer["customer_id"]
    assert customer == {"customer_id": cid, "name": "Freespee AB", "custnr": "123", "corporateid": "123",
                        "email": "", "custom_1": "abc", "custom_2": None}
    xml = session.get(f"{base}/customers/{cid}", headers={"Accept": "application/xml"})
    assert "<custom_2/>" in xml.text and "<customers>\n <customer>" in xml.text
    assert session.get(f"{base}/customers.xml/{cid}").text == xml.text
    assert session.put(f"{base}/customers/{cid}", data={"name": "Freespee New AB"}).json()["customers"][0]["name"] \
        == "Freespee New AB"
    assert session.post(f"{base}/customers/{cid}?_method=PUT", data={"name": "Override AB"}).status_code == 200
    assert session.post(f"{base}/customers/{cid}", data={"email": "x@example.com"},
                        headers={"X-HTTP-Method-Override": "PUT"}).json()["customers"][0]["email"] == "x@example.com"
    assert session.get(f"{base}/statistics/cdrs?customer_id={cid}").json()["total"] == 0
    paged = session.get(f"{base}/statistics/cdrs&page=2")
    assert paged.status_code == 200 and paged.json()["page"] == 2
    greeting = session.post(f"{base}/customers/{cid}/voicemail_greetings",
                            data={"name": "Hi", "audio": "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA="})
    assert greeting.status_code == 200, greeting.text
    gid = greeting.json()["voicemail_greetings"][0]["vm_greeting_id"]
    one = session.get(f"{base}/customers/{cid}/voicemail_greetings/{gid}").json()
    other = session.get(f"{base}/customers/voicemail_greetings?customer_id={cid}&vm_greeting_id={gid}").json()
    assert one["voicemail_greetings"][0]["vm_greeting_id"] == other["voicemail_greetings"][0]["vm_greeting_id"] == gid
    audio = requests.get(one["voicemail_greetings"][0]["url"])
    assert audio.status_code == 200 and audio.content.startswith(b"RIFF")
    # The same customer in the billing API, same id and account number.
    billing = requests.get(f"{runtime.base_url}/backend/api/v1/customers/{cid}",
                           headers={"Authorization": f"Bearer {world['key']}"})
    assert billing.status_code == 200 and billing.json()["accountNumber"] == "123"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_clients_that_speak_one_algorithm(world, algorithm):
    base = world["base"]
    with requests.Session() as s:
        s.auth = OneAlgorithmDigest(world["user"], world["password"], algorithm)
        for _ in range(3):  # the nonce is reused with nc counting up
            assert s.get(base + "/customers").status_code == 200
        # Every writing method, query strings included (the digest's uri is the whole target).
        made = s.post(base + "/customers", data={"name": f"One {algorithm}"})
        assert made.status_code == 200, made.text
        cid = made.json()["customers"][0]["customer_id"]
        assert s.put(f"{base}/customers/{cid}", data={"name": "Put"}).status_code == 200
        assert s.post(f"{base}/customers?customer_id={cid}&_method=PUT", data={"email": "a@example.com"}).status_code == 200
        assert s.get(f"{base}/customers", params={"customer_id": cid, "pagesize": 5}).status_code == 200
        assert s.post(f"{base}/customers/{cid}?_method=DELETE").status_code == 200


def test_query_strings_with_curl_and_requests(world, session):
    """The digest's uri must match path and query: both clients must still get through with
    percent-encoding, '+', repeated-free parameters in any order and the document's '&' form."""
    base = world["base"]
    cid = session.post(f"{base}/customers", data={"name": "Query AB"}).json()["customers"][0]["customer_id"]
    for url in (f"{base}/customers?customer_id={cid}", f"{base}/customers?pagesize=5&page=0",
                f"{base}/customers&page=0&pagesize=5", f"{base}/customers.xml?page=0",
                f"{base}/statistics/cdrs?customer_id={cid}&date_from=2026-01-01&date_to=2026-01-02",
                f"{base}/custom_fields?entity=customer&page=0"):
        code, body = curl(world, url)
        assert code == 200, (url, body)
        assert session.get(url).status_code == 200, url
    assert session.get(f"{base}/customers", params={"page": "0", "pagesize": "5"}).status_code == 200
    code, body = curl(world, "-X", "POST", "-d", "name=Renamed+AB", f"{base}/customers/{cid}?_method=PUT")
    assert code == 200 and json.loads(body)["customers"][0]["name"] == "Renamed AB", body
    code, body = curl(world, "-G", "--data-urlencode", "customer_id=" + cid, "--data-urlencode", "page=0",
                      f"{base}/customers")
    assert code == 200, body


def test_a_stale_nonce_is_retried_transparently(world, session, runtime):
    with runtime.environment():
        old = digest.new_nonce(time.time() - 3600)
    session.auth.init_per_thread_state()
    session.auth._thread_local.chal = {"realm": "dialtone", "nonce": old, "qop": "auth", "algorithm": "MD5",
                                       "opaque": _opaque(runtime)}
    session.auth._thread_local.last_nonce = old
    answer = session.get(world["base"] + "/customers")
    assert answer.status_code == 200
    assert answer.history and answer.history[0].status_code == 401
    assert "stale=true" in answer.history[0].headers["WWW-Authenticate"]


def _opaque(runtime: Any) -> str:
    with runtime.environment():
        return digest.opaque()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_replay_is_refused_also_by_a_second_api_process(world, session, runtime):
    port = _free_port()
    second = subprocess.Popen([sys.executable, "-m", "infra.local.api_server", "--port", str(port)], cwd=ROOT,
                              env=runtime.process_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/tracking/v1/openapi.json", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        first = session.get(world["base"] + "/customers")
        assert first.status_code == 200
        header = first.request.headers["Authorization"]
        for target in (world["base"], f"http://127.0.0.1:{port}/tracking/v1"):
            replay = requests.get(target + "/customers", headers={"Authorization": header})
            assert replay.status_code == 401, target
    finally:
        second.terminate()
        second.wait(10)


def test_refusals_are_401_and_write_nothing(world, runtime):
    base = world["base"]
    t = world["tenant"]
    with runtime.environment():
        from chalicelib.services.identity import users
        from chalicelib.store.dynamo import entities
        from chalicelib.store.identity.users import USER

        disabled = users.create_user(tenant=t, username=f"off-{t}", password="disabled-pass")
        record = entities.get_one(USER, t, disabled["id"])
        entities.update(USER, t, record, {"active": False})
        fenced = users.create_user(tenant=t, username=f"fenced-{t}", password="fenced-pass")
        users.set_allowlist(tenant=t, user_id=fenced["id"], ips=["127.0.0.1/32"])

    def count() -> int:
        with requests.Session() as s:
            s.auth = HTTPDigestAuth(world["user"], world["password"])
            return int(s.get(base + "/customers").json()["total"])

    before = count()
    attempts = [(world["user"], "wrong"), ("nobody-here", "x"), (f"off-{t}", "disabled-pass")]
    bodies = []
    for user, password in attempts:
        answer = requests.post(base + "/customers", data={"name": "Intruder"}, auth=HTTPDigestAuth(user, password))
        assert answer.status_code == 401
        bodies.append(answer.json())
    assert bodies[0] == bodies[1] == bodies[2]
    with runtime.session(source_ip="127.0.0.2") as outside:
        outside.auth = HTTPDigestAuth(f"fenced-{t}", "fenced-pass")
        assert outside.post(base + "/customers", data={"name": "Intruder"}).status_code == 401
    with runtime.session(source_ip="127.0.0.1") as inside:
        inside.auth = HTTPDigestAuth(f"fenced-{t}", "fenced-pass")
        assert inside.get(base + "/miscellaneous/ping", headers={"X-Forwarded-For": "127.0.0.2"}).status_code == 200
    assert count() == before
    # HTTP/1.0 without Host: 400.
    host, port = runtime.base_url.split("//")[1].split(":")
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"GET /tracking/v1/miscellaneous/ping HTTP/1.0\r\n\r\n")
        assert raw.recv(100).split(b" ")[1] == b"400"


def test_a_tracking_number_is_charged_once_shows_in_the_carrier_api_and_gets_its_calls(world, session, runtime, tmp_path):
    base = world["base"]
    cid = session.post(f"{base}/customers", data={"name": "Calls Inc", "custnr": "calls1"}).json()["customers"][0]["customer_id"]
    with runtime.environment():
        from chalicelib.services.customers import accounts
        from chalicelib.services.identity import users
        from tests.support.worlds.money import ledger_sum

        principal = __import__("chalicelib.auth.api_key", fromlist=["x"]).authenticate(world["key"], None)
        accounts.update_customer(principal=principal, customer_id=int(cid), changes={"creditLimit": Decimal("-50")})
    source = session.post(f"{base}/customers/{cid}/sources", data={"name": "Ads", "number": "2065550110"})
    assert source.status_code == 200, source.text
    sid = source.json()["sources"][0]["source_id"]
    with runtime.environment():
        assert ledger_sum(world["tenant"], int(cid)) == Decimal("-1.75")
        user = users.create_user(tenant=world["tenant"], username=f"cu-{cid}-{world['tenant']}",
                                 account_number="calls1", api_only=True)
        key = users.issue_api_key(tenant=world["tenant"], user_id=user["id"])
    numbers = requests.post(f"{runtime.base_url}/carrier/getnumbers", data={"token": key, "accountno": "calls1"})
    assert "2065550110" in numbers.text
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)
    stamp = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (start + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = tmp_path / "calls.csv"
    path.write_text("call_id,direction,account,trunk_id,from,to,start,answer,end,billsec,disposition\n"
                    f"k1,inbound,calls1,,4155550009,+12065550110,{stamp},{stamp},{end},30,ANSWERED\n")
    time.sleep(max(0.0, (start - datetime.now(timezone.utc)).total_seconds()))
    assert admin_cli(runtime, "import-cdrs", "--tenant", world["tenant"], "--quiet", str(path))["accepted"] == 1
    calls = session.get(f"{base}/statistics/cdrs?customer_id={cid}").json()
    assert [(c["cdr_id"], c["source_id"], c["billsec"]) for c in calls["cdrs"]] == [("k1", sid, "30")]
    with runtime.environment():
        assert ledger_sum(world["tenant"], int(cid)) == Decimal("-1.75")  # charged once


def test_admin_cli_digest_credentials_for_an_api_only_user(world, runtime):
    made = admin_cli(runtime, "create-user", "--tenant", world["tenant"], "--username", f"apionly-{world['tenant']}",
                     "--api-only")
    issued = admin_cli(runtime, "issue-digest-password", "--tenant", world["tenant"], "--user",
                       made["user"]["username"])
    answer = requests.get(world["base"] + "/miscellaneous/ping",
                          auth=HTTPDigestAuth(made["user"]["username"], issued["password"]))
    assert answer.status_code == 200
    defined = admin_cli(runtime, "define-custom-field", "--tenant", world["tenant"], "--entity", "source",
                        "--slot", "4", "--name", "Channel", "--type", "enum", "--values", "web,print")
    assert defined["custom_field"]["values"] == ["web", "print"]

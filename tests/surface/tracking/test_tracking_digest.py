"""Digest details beyond the happy path: the ``uri`` must name the request's
whole target, the allow-list and failed sign-ins, who may authenticate, and
single-algorithm clients on every writing method."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.auth import digest
from tests.support.surfaces.tracking import BASE, Tracking, challenges


def _challenge(client: Any) -> dict[str, str]:
    bare = client.request("GET", BASE + "/miscellaneous/ping", headers={"Host": "h"})
    return {c["algorithm"]: c for c in challenges(bare)}["SHA-256"]


def _signed_for(client: Any, tenant: dict, *, uri: str, target: str, method: str = "GET") -> Any:
    """A request to ``target`` whose digest was computed (rightly) for ``uri``."""
    header = digest.answer(_challenge(client), username=tenant["user"]["username"],
                           password=tenant["user"]["password"], method=method, uri=uri)
    return client.request(method, target, headers={"Host": "h", "Authorization": header})


@pytest.mark.parametrize("uri,target", [
    ("/1", BASE + "/customers/1"),                                            # a suffix of the path
    (BASE + "/customers/1/sources", BASE + "/customers/1"),                  # the path a prefix of it
    ("/other" + BASE + "/customers", BASE + "/customers"),                   # a prefix that is not the stage
    (BASE + "/customers", BASE + "/customers?customer_id=1"),                # the query left out
    (BASE + "/customers?customer_id=2", BASE + "/customers?customer_id=1"),  # another query
    (BASE + "/customers?customer_id=1&page=1", BASE + "/customers?customer_id=1"),
    (BASE + "/customers?customer_id=1", BASE + "/customers"),
])
def test_the_digest_uri_must_name_the_whole_request_target(client, tenant, uri, target):
    assert _signed_for(client, tenant, uri=uri, target=target).status_code == 401


@pytest.mark.parametrize("uri,target", [
    (BASE + "/customers?page=0&pagesize=5", BASE + "/customers?page=0&pagesize=5"),
    (BASE + "/customers?pagesize=5&page=0", BASE + "/customers?page=0&pagesize=5"),  # order aside
    (BASE + "/customers?email=a%40b.c", BASE + "/customers?email=a@b.c"),           # encoding aside
    (BASE + "/customers&page=0", BASE + "/customers&page=0"),                       # the document's & form
    ("http://h" + BASE + "/customers?page=0", BASE + "/customers?page=0"),          # absolute form
])
def test_the_same_target_written_differently_is_accepted(client, tenant, uri, target):
    answer = _signed_for(client, tenant, uri=uri, target=target)
    assert answer.status_code == 200, answer.body


def test_only_the_stage_prefix_may_differ():
    query: list[tuple[str, str]] = []
    path = "/tracking/v1/customers/1"
    assert digest.uri_matches("/api" + path, path=path, query=query, stage="api")
    assert digest.uri_matches(path, path="/api" + path, query=query, stage="api")
    assert not digest.uri_matches("/apx" + path, path=path, query=query, stage="api")
    assert not digest.uri_matches("/api" + path, path=path, query=query, stage=None)
    assert not digest.uri_matches("/1", path=path, query=query, stage="api")
    assert digest.uri_matches(path + "?q=a+b", path=path, query=[("q", "a b")])
    assert digest.uri_matches(path + "?q=a+b", path=path, query=[("q", "a+b")])  # a gateway keeping '+'
    assert not digest.uri_matches(path + "?q=a&q=a", path=path, query=[("q", "a")])


def _user(tenant: dict, name: str, **options: Any) -> dict[str, Any]:
    from chalicelib.services.identity import users

    t = tenant["tenant"]["id"]
    return users.create_user(tenant=t, username=f"{name}-{t}", password=f"{name}-password", **options)


def _allow(tenant: dict, user: dict, ips: list[str]) -> None:
    from chalicelib.services.identity import users

    users.set_allowlist(tenant=tenant["tenant"]["id"], user_id=user["id"], ips=ips)
    digest.forget()


def test_guesses_from_outside_the_allow_list_do_not_lock_the_user_out(client, tenant):
    from chalicelib.auth import attempts

    partner = _user(tenant, "partner")
    _allow(tenant, partner, ["10.9.9.9"])  # the test client's address is 127.0.0.1: outside
    guesser = Tracking(client, partner["username"], "a-guess")
    statuses = [guesser.get("/customers").status_code for _ in range(attempts.USER_LIMIT + 2)]
    assert statuses == [401] * (attempts.USER_LIMIT + 2)
    right_from_outside = Tracking(client, partner["username"], "partner-password").get("/customers")
    assert right_from_outside.status_code == 401  # the same answer, right or wrong
    # The partner's own servers sign in as ever: no lock on the user.
    _allow(tenant, partner, ["127.0.0.1/32"])
    assert Tracking(client, partner["username"], "partner-password").get("/customers").status_code == 200


def test_guesses_from_outside_still_count_against_their_address(client, tenant, monkeypatch):
    monkeypatch.setenv("SIGN_IN_LIMIT_PER_ADDRESS", "3")
    partner = _user(tenant, "partner")
    _allow(tenant, partner, ["10.9.9.9"])
    statuses = [Tracking(client, partner["username"], password).get("/customers").status_code
                for password in ("guess-1", "guess-2", "partner-password", "guess-3")]
    assert statuses == [401, 401, 401, 429]  # the right password counted too: it must not stand out


def test_x_forwarded_for_grants_nothing_from_outside_the_allow_list(client, tenant):
    partner = _user(tenant, "partner")
    _allow(tenant, partner, ["10.9.9.9"])
    forged = Tracking(client, partner["username"], "partner-password")
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        value = "for=10.9.9.9" if header == "Forwarded" else "10.9.9.9"
        assert forged.get("/miscellaneous/ping", headers={header: value}).status_code == 401, header


def test_a_user_without_read_permission_cannot_authenticate(client, tenant):
    blind = _user(tenant, "blind", can_read=False, can_write=True)
    refused = Tracking(client, blind["username"], "blind-password")
    answers = [refused.get("/miscellaneous/ping"), refused.post("/customers", data={"name": "x"})]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json == Tracking(client, "nobody-here", "x").get("/miscellaneous/ping").json


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_single_algorithm_clients_write_with_every_method(client, tenant, algorithm):
    only = Tracking(client, tenant["user"]["username"], tenant["user"]["password"], algorithm=algorithm)
    made = only.post("/customers", data={"name": "One"})
    assert made.status_code == 200, made.text
    cid = made.json["customers"][0]["customer_id"]
    assert only.put(f"/customers/{cid}", data={"name": "Two"}).json["customers"][0]["name"] == "Two"
    assert only.post(f"/customers/{cid}?_method=PUT", data={"name": "Three"}).json["customers"][0]["name"] == "Three"
    assert only.post(f"/customers?customer_id={cid}&_method=PUT", json_body={"email": "a@example.com"}).status_code == 200
    assert only.post(f"/customers/{cid}?_method=DELETE").status_code == 200
    assert only.get(f"/customers/{cid}").status_code == 404
    assert all(f"algorithm={algorithm}," in (only.last_authorization or "") for _ in [0])



def _signed(client: Any, tenant: dict, method: str, target: str, data: dict | None = None) -> tuple[str, Any]:
    header = digest.answer(_challenge(client), username=tenant["user"]["username"],
                           password=tenant["user"]["password"], method=method, uri=target)
    headers = {"Host": "h", "Authorization": header}
    if data is None:
        return header, client.request(method, target, headers=headers)
    body = "&".join(f"{k}={v}" for k, v in data.items())
    return header, client.request(method, target, body=body,
                                  headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})


def _claims_seen(monkeypatch: Any, outcome: Any = None) -> list[str]:
    """Records each (nonce, nc) claim and when it ran relative to the handler;
    ``outcome`` replaces the claim's own answer (a callable, or None: real)."""
    seen: list[str] = []
    real = digest._claim

    def claim(*args: Any) -> bool:
        seen.append("claim")
        return real(*args) if outcome is None else outcome()

    monkeypatch.setattr(digest, "_claim", claim)
    return seen


def test_a_replayed_read_answers_the_replay_not_what_it_read(client, tenant, monkeypatch):
    """A GET's claim runs beside its read (digest.PendingClaim): a replay
    still gets the 401 with a fresh challenge, never what the read found."""
    made = Tracking(client, tenant["user"]["username"], tenant["user"]["password"]).post(
        "/customers", data={"name": "Replay Probe Ltd"})
    assert made.status_code == 200  # the document answers a POST with 200
    header, first = _signed(client, tenant, "GET", BASE + "/customers")
    assert first.status_code == 200 and "Replay Probe Ltd" in first.body.decode()
    seen = _claims_seen(monkeypatch)
    replay = client.request("GET", BASE + "/customers", headers={"Host": "h", "Authorization": header})
    assert seen == ["claim"]
    assert replay.status_code == 401 and challenges(replay)
    assert "Replay Probe Ltd" not in replay.body.decode()


def test_a_read_is_answered_only_once_its_claim_is_known(client, tenant, monkeypatch):
    """The read and its claim overlap, but the answer waits for the claim: a
    claim AWS could not make (busy through every retry) answers 503, not the
    read's 200."""
    from chalicelib.domain.errors import ServiceUnavailableError

    def busy() -> bool:
        raise ServiceUnavailableError()

    _claims_seen(monkeypatch, busy)
    _, answer = _signed(client, tenant, "GET", BASE + "/customers")
    assert answer.status_code == 503


@pytest.mark.parametrize("method,target,data", [
    ("POST", BASE + "/customers", {"name": "Never Written Ltd"}),
    ("POST", BASE + "/customers?_method=PUT", {"name": "Never Written Ltd"}),
])
def test_writes_run_only_once_their_claim_is_won(client, tenant, method, target, data, monkeypatch):
    """Only plain GETs overlap their claim: a write whose claim is lost (a
    replay) is refused before its handler runs, so nothing is written."""
    from chalicelib.services.customers import accounts
    from tests.support.worlds.money import admin

    _claims_seen(monkeypatch, lambda: False)
    _, answer = _signed(client, tenant, method, target, data)
    assert answer.status_code == 401
    names = [c.get("name") for c in accounts.list_customers(principal=admin(tenant), page=accounts.Page())]
    assert "Never Written Ltd" not in names

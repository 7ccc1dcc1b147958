"""The voice API (seed 004) over real HTTP on the local runtime: the
document's examples, tokens checked with PyJWT against the published JWKS,
refresh rotation and reuse, token attacks, the role matrix, and signed call
events delivered to a receiver on 127.0.0.1 (in order, retried, dead-lettered)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Iterator

import jwt
import pytest

from tests.support.harness.runtime import LocalRuntime
from tests.support.surfaces.voice import ADDRESS, EVENT_HOOK, FLOW_HOOK, TRUNK, gateway, route_start
from tests.support.surfaces.voice import EXAMPLE_1, EXAMPLE_2
from tests.support.surfaces.voice_http import FORM, Org
from tests.support.surfaces.voice_queues import Receiver
from tests.support.surfaces.voice_http import numbers as _numbers
from tests.support.surfaces.voice_http import wait as _wait
from tests.support.surfaces.voice_http import wait_final as _wait_final

@pytest.fixture(scope="module")
def org(runtime: LocalRuntime) -> Org:
    return Org(runtime)


# ------------------------------------------------------------------ authentication

def test_tokens_decode_with_pyjwt_against_the_published_jwks(org: Org) -> None:
    tokens = org.login(*org.users["admin"])
    assert tokens["expires_in"] == 3600 and tokens["refresh_expires_in"] == 36000
    assert tokens["token_type"] == "Bearer"
    client = jwt.PyJWKClient(org.base + "/oauth/jwks")
    key = client.get_signing_key_from_jwt(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], key.key, algorithms=["RS256"], audience="dialtone-voice",
                        issuer="http://127.0.0.1:8000/api/v1")
    assert claims["preferred_username"] == org.users["admin"][0] and claims["tenant"] == org.tenant
    assert "OrganisationAdmin" in claims["realm_access"]["roles"]
    assert {"iss", "aud", "sub", "exp", "iat", "jti"} <= set(claims)
    assert jwt.get_unverified_header(tokens["access_token"])["kid"] == key.key_id
    assert org.http.get(org.base + "/.well-known/jwks.json").json() == org.http.get(org.base + "/oauth/jwks").json()


def test_refresh_rotates_and_a_reused_token_revokes_its_family(org: Org) -> None:
    first = org.login(*org.users["voice"])
    second = org.http.post(org.base + "/oauth/authorize", data={"token": first["refresh_token"]}, headers=FORM)
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    assert org.call("GET", "/account", token=second.json()["access_token"]).status_code == 200
    again = org.http.post(org.base + "/oauth/authorize", data={"token": first["refresh_token"]}, headers=FORM)
    assert again.status_code == 401
    # The reuse revoked the family: the rotated token is dead too.
    third = org.http.post(org.base + "/oauth/authorize", data={"token": second.json()["refresh_token"]}, headers=FORM)
    assert third.status_code == 401 and third.json()["error"] == "invalid_grant"


def test_wrong_credentials_are_one_uniform_401_and_then_throttled(org: Org) -> None:
    session = org.runtime.session(source_ip="127.0.0.77")
    unknown = session.post(org.base + "/oauth/authorize", data={"username": "nobody-here", "password": "x"},
                           headers=FORM)
    wrong = session.post(org.base + "/oauth/authorize", data={"username": org.users["reader"][0], "password": "x"},
                         headers=FORM)
    assert unknown.status_code == wrong.status_code == 401 and unknown.json() == wrong.json()
    for _ in range(6):  # five failures per username and window, then refused
        last = session.post(org.base + "/oauth/authorize", data={"username": "victim-user", "password": "x"},
                            headers=FORM)
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
    assert session.post(org.base + "/oauth/authorize", data={"username": "x"}, headers=FORM).status_code == 400
    assert session.post(org.base + "/oauth/authorize", json={"username": "x", "password": "y"}).status_code == 415


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_token_attacks_are_401(org: Org) -> None:
    from chalicelib.auth import access_tokens

    good = jwt.decode(org.tokens["reader"], options={"verify_signature": False})
    header = jwt.get_unverified_header(org.tokens["reader"])
    with org.runtime.environment():
        keys = access_tokens._key_set()
        private = keys["private"][keys["active"]]
        public_pem = keys["public"][keys["active"]].public_bytes(
            encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["x"]).Encoding.PEM,
            format=__import__("cryptography.hazmat.primitives.serialization", fromlist=["x"]).PublicFormat.SubjectPublicKeyInfo)
    body = _b64(json.dumps(good).encode())
    none = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": header["kid"]}).encode()) + "." + body + "."
    signing_input = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}).encode()) + "." + body
    hs256 = signing_input + "." + _b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    now = int(time.time())
    forged = {
        "none": none, "hmac-with-public-key": hs256,
        "expired": jwt.encode({**good, "iat": now - 7200, "exp": now - 3600}, private, "RS256", headers=header),
        "wrong-aud": jwt.encode({**good, "aud": "someone-else"}, private, "RS256", headers=header),
        "wrong-iss": jwt.encode({**good, "iss": "https://evil.example"}, private, "RS256", headers=header),
        "unknown-kid": jwt.encode(good, private, "RS256", headers={**header, "kid": "not-a-key"}),
        "other-key": jwt.encode(good, __import__("cryptography.hazmat.primitives.asymmetric.rsa", fromlist=["x"])
                                .generate_private_key(public_exponent=65537, key_size=2048), "RS256", headers=header),
        "tampered": org.tokens["reader"][:-4] + ("AAAA" if not org.tokens["reader"].endswith("AAAA") else "BBBB"),
        "garbage": "not.a.jwt",
    }
    assert org.call("GET", "/account", who="reader").status_code == 200
    for name, token in forged.items():
        reply = org.call("GET", "/account", token=token)
        assert reply.status_code == 401, name
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert org.http.get(org.base + "/account").status_code == 401


def test_disabled_user_and_password_change_end_tokens(runtime: LocalRuntime, org: Org) -> None:
    from chalicelib.services.identity import users
    from chalicelib.store.dynamo import entities
    from chalicelib.store.identity.users import USER

    with runtime.environment():
        made = users.create_user(tenant=org.tenant, username=f"temp-{uuid.uuid4().hex[:6]}", password="first-pass")
    first = org.login(made["username"], "first-pass")
    token = first["access_token"]
    assert org.call("GET", "/account", token=token).status_code == 200
    with runtime.environment():
        users.set_password(tenant=org.tenant, user_id=made["id"], password="second-pass")
    time.sleep(1.2)  # the local stage trusts a resolved user for AUTH_CACHE_SECONDS=1
    assert org.call("GET", "/account", token=token).status_code == 401
    # The refresh token of the old password is refused too (and its family revoked).
    refreshed = org.http.post(org.base + "/oauth/authorize", data={"token": first["refresh_token"]}, headers=FORM)
    assert refreshed.status_code == 401 and refreshed.json()["error"] == "invalid_grant"
    token = org.login(made["username"], "second-pass")["access_token"]
    assert org.call("GET", "/account", token=token).status_code == 200
    with runtime.environment():
        user = entities.get_one(USER, org.tenant, made["id"])
        entities.update(USER, org.tenant, user, {"active": False})
    time.sleep(1.2)
    assert org.call("GET", "/account", token=token).status_code == 401
    assert org.http.post(org.base + "/oauth/authorize", data={"username": made["username"],
                                                              "password": "second-pass"}, headers=FORM).status_code == 401


# ------------------------------------------------------------------ the document's examples

def test_every_example_of_the_document(org: Org) -> None:
    me = org.call("GET", "/userAccounts/me")
    assert me.status_code == 200 and me.json()["name"] == "Demo Organisation" and len(me.json()["id"]) == 24
    accounts = org.call("GET", "/account").json()
    assert {"id": org.account, "name": "Darren's Pizzas"} in accounts
    assert {"id": org.other_account, "name": "Dean's Taxis"} in accounts
    detail = org.call("GET", f"/account/{org.account}").json()
    assert detail["name"] == "Darren's Pizzas" and detail["domain"].startswith("darrenspizzas")
    assert detail["mbn"] == "441234567890"  # as in the document
    put = org.call("PUT", f"/account/{org.account}/address", ADDRESS)
    assert put.status_code == 204 and put.content == b""
    assert org.call("GET", f"/account/{org.account}/address").json() == ADDRESS
    ddis = org.call("GET", f"/account/{org.account}/ddi").json()
    assert len(ddis) == 3 and ddis[0]["name"] == detail["mbn"]

    trunk = org.call("POST", f"/account/{org.account}/trunk", TRUNK)
    assert trunk.status_code == 201 and trunk.headers["Location"].endswith(trunk.json()["id"])
    trunk_id = trunk.json()["id"]
    assert org.call("GET", f"/account/{org.account}/trunk").json() == [{"id": trunk_id, **TRUNK}]
    assert org.call("GET", f"/account/{org.account}/trunk/{trunk_id}").json() == {"id": trunk_id, **TRUNK}
    assert org.call("PUT", f"/account/{org.account}/trunk/{trunk_id}", {"id": trunk_id, **TRUNK}).status_code == 204

    hooks = [org.call("POST", f"/account/{org.account}/hook", h) for h in (FLOW_HOOK, EVENT_HOOK)]
    assert [h.status_code for h in hooks] == [201, 201]
    listed = org.call("GET", f"/account/{org.account}/hook").json()
    assert sorted(listed, key=lambda h: h["app"]) == [{"id": hooks[1].json()["id"], **EVENT_HOOK},
                                                      {"id": hooks[0].json()["id"], **FLOW_HOOK}]
    hook_id = hooks[1].json()["id"]
    assert org.call("GET", f"/account/{org.account}/hook/{hook_id}").json() == {"id": hook_id, **EVENT_HOOK}
    assert org.call("PUT", f"/account/{org.account}/hook/{hook_id}", {"id": hook_id, **EVENT_HOOK}).status_code == 204

    gw = org.call("POST", f"/account/{org.account}/device", gateway(trunk_id, "604"))
    assert gw.status_code == 201, gw.text
    start = org.call("POST", f"/account/{org.account}/device", route_start(ddis[0]["id"], gw.json()["id"]))
    assert start.status_code == 201, start.text
    devices = org.call("GET", f"/account/{org.account}/device").json()
    assert {d["type"] for d in devices} == {"SIP_GATEWAY", "ROUTE_START"}
    assert org.call("GET", f"/account/{org.account}/device/{start.json()['id']}").json()["startRoute"] == {
        "ddis": [ddis[0]["id"]], "connectTo": gw.json()["id"]}
    update = org.call("PUT", f"/account/{org.account}/device/{start.json()['id']}",
                      {"id": start.json()["id"], **route_start(ddis[0]["id"], "HANGUP")})
    assert update.status_code == 204

    for example in (EXAMPLE_1, EXAMPLE_2):
        made = org.call("POST", f"/account/{org.account}/channels/voice", example)
        assert made.status_code == 201, made.text
        assert made.json()["state"] == "queued"
        call = _wait_final(org, made.json()["id"])
        assert call["state"] == "completed", call
        # Handed to the CDR pipeline: one row in the tenant's inbox, on the gateway's (or account's) trunk.
        from chalicelib.domain.voice import parse_opaque_id
        from chalicelib.store.voice import calls as call_store

        def handed_off() -> bool:  # written just after the call's final state
            with org.runtime.environment():
                stored = call_store.get_call(org.tenant, parse_opaque_id(org.tenant, "VCALL", call["id"],
                                                                         uuid=True))
            return str(stored.get("cdr", "")).startswith(f"cdr-inbox/{org.tenant}/voice-")
        _wait(handed_off, timeout=10)
    # The references of another account are refused, and nothing is written.
    assert org.call("POST", f"/account/{org.other_account}/device", gateway(trunk_id, "700")).status_code == 400
    assert org.call("GET", f"/account/{org.other_account}/device").json() == []


# ------------------------------------------------------------------ events to a hook

@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def _hook(org: Org, url: str, account: str | None = None, **extra: Any) -> tuple[str, str]:
    made = org.call("POST", f"/account/{account or org.account}/hook",
                    {**EVENT_HOOK, "url": url, "priority": 1, **extra})
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["signingSecret"]


def test_events_arrive_once_each_signed_and_in_order(org: Org, receiver: Receiver) -> None:
    from chalicelib.adapters.webhooks import verify_signature

    with org.runtime.environment():
        from tests.support.surfaces.voice import make_account, account_ref

        account = account_ref(org.principal, make_account(org.principal, name="Events Co", numbers=_numbers(1)))
    hook_id, secret = _hook(org, receiver.url, account, authType="BEARER", credentials={"token": "s3cret"})
    made = org.call("POST", f"/account/{account}/channels/voice", {
        **EXAMPLE_1, "callerId": "", "target": {"phoneNumber": {"number": "+150055581234"}},
        "verbs": [{"gather": {"numDigits": 4, "prompt": [{"say": {"text": ["PIN?"]}}]}}, {"hangup": {}}]})
    assert made.status_code == 201, made.text
    call = _wait_final(org, made.json()["id"], account)
    assert call["state"] == "completed" and call["digits"] == ["1234"] and call["duration"] >= 0
    expected = [h for h in call["history"] if h["event"] != "call.queued"]
    _wait(lambda: len(receiver.deliveries) >= len(expected))
    time.sleep(0.5)
    bodies = [json.loads(r["body"]) for r in receiver.deliveries]
    assert [b["event"] for b in bodies] == [h["event"] for h in expected]
    assert [b["sequence"] for b in bodies] == list(range(1, len(expected) + 1))
    ids = [r["headers"]["Dialtone-Delivery-Id"] for r in receiver.deliveries]
    assert len(set(ids)) == len(ids) and ids == [b["deliveryId"] for b in bodies]
    for request in receiver.deliveries:
        assert verify_signature(secret, request["headers"]["Dialtone-Signature"], request["body"])
        assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert {"call.initiated", "call.ringing", "call.answered", "call.gather", "call.completed"} <= \
        {b["event"] for b in bodies}
    assert bodies[-1]["data"]["cause"] and "duration" in bodies[-1]["data"]
    log = org.call("GET", f"/account/{account}/hook/{hook_id}/deliveries").json()
    assert {d["status"] for d in log} == {"delivered"} and len(log) == len(expected)


def test_a_failing_receiver_gets_the_event_again_later(org: Org) -> None:
    receiver = Receiver(fail=lambda body, seen: body["sequence"] == 1 and seen == 0)  # the first request
    try:
        with org.runtime.environment():
            from tests.support.surfaces.voice import make_account, account_ref

            account = account_ref(org.principal, make_account(org.principal, name="Retry Co", numbers=_numbers(1)))
        hook_id, _ = _hook(org, receiver.url, account)
        made = org.call("POST", f"/account/{account}/channels/voice",
                        {**EXAMPLE_1, "callerId": "", "target": {"phoneNumber": {"number": "+15005550001"}}})
        call = _wait_final(org, made.json()["id"], account)
        assert call["state"] == "busy"
        events = len([h for h in call["history"] if h["event"] != "call.queued"])
        _wait(lambda: len(receiver.deliveries) >= events + 1)
        ids = [r["headers"]["Dialtone-Delivery-Id"] for r in receiver.deliveries]
        assert ids[0] == ids[1] and len(set(ids)) == events  # the first one again, then the rest in order
        sequences = [json.loads(r["body"])["sequence"] for r in receiver.deliveries]
        assert sequences == [1] + list(range(1, events + 1))
        log = org.call("GET", f"/account/{account}/hook/{hook_id}/deliveries").json()
        first = next(d for d in log if d["sequence"] == 1)
        assert first["status"] == "delivered" and [a["status"] for a in first["attempts"]] == [500, 204]
    finally:
        receiver.close()


def test_an_always_failing_receiver_ends_in_the_dead_letter_queue(org: Org) -> None:
    from chalicelib.store import queues
    from chalicelib.store.clients import client

    receiver = Receiver(fail=lambda body, seen: True)
    try:
        with org.runtime.environment():
            from tests.support.surfaces.voice import make_account, account_ref

            account = account_ref(org.principal, make_account(org.principal, name="Dead Co", numbers=_numbers(1)))
        hook_id, _ = _hook(org, receiver.url, account)
        made = org.call("POST", f"/account/{account}/channels/voice",
                        {**EXAMPLE_1, "callerId": "", "target": {"phoneNumber": {"number": "+15005550003"}}})
        call = _wait_final(org, made.json()["id"], account)
        events = len([h for h in call["history"] if h["event"] != "call.queued"])

        def all_dead() -> bool:
            log = org.call("GET", f"/account/{account}/hook/{hook_id}/deliveries").json()
            return len(log) == events and all(d["status"] == "dead-lettered" for d in log)
        _wait(all_dead, timeout=60)
        log = org.call("GET", f"/account/{account}/hook/{hook_id}/deliveries").json()
        assert all(len(d["attempts"]) == 4 for d in log)
        with org.runtime.environment():
            url = queues.queue_url("voice_webhooks_dead")
            found = []
            for _ in range(5):
                found += client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                       WaitTimeSeconds=1).get("Messages", [])
        dead = {json.loads(m["Body"])["deliveryId"] for m in found}
        assert {d["deliveryId"] for d in log} <= dead
    finally:
        receiver.close()

"""The voice_webhooks worker (workers/voice_delivery.py) and what it calls
(services/voice/events.py, adapters/webhooks.py), on fakes: an in-memory
delivery store with the lease rules of store/voice/deliveries.py, a queue that records
what is published (and when it is due), a DNS answer the test sets, and an
HTTP connection that records each request and answers what the test says.
The clock is frozen and moved by hand, so backoff is checked to the second."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Mapping

import pytest

from chalicelib import clock
from chalicelib.services.voice import events
from chalicelib.workers import voice_delivery
from tests.support.harness.events import sqs_event

TENANT = "T9"
START = datetime(2026, 6, 1, 10, 0, 0, tzinfo=timezone.utc)
SECRET = "whsec_test_secret"
CALL = {"id": 41, "customerId": 7, "direction": "outbound", "callerId": "+441234567890", "to": "+441234567893",
        "tag": {"data": {"k": "v"}}}


class FakeStore:
    """store/voice/deliveries.py's delivery records and (call, hook) leases, in memory."""

    def __init__(self) -> None:
        self.deliveries: dict[tuple[int, str], dict[str, Any]] = {}
        self.leases: dict[tuple[int, int], dict[str, Any]] = {}
        self.hooks: dict[int, dict[str, Any]] = {}

    def put_deliveries(self, tenant: str, rows: Any) -> None:
        for row in rows:
            sk = f"{row['callId']:012d}#{row['seq']:06d}"
            self.deliveries.setdefault((row["hookId"], sk), {
                "PK": f"T#{tenant}#VDELIVERY#{row['hookId']}", "SK": sk, **row, "status": "pending", "attempts": []})

    def pending_deliveries(self, tenant: str, hook_id: int, call_id: int) -> list[dict[str, Any]]:
        return [dict(d) for (h, _), d in self.deliveries.items()
                if h == hook_id and d["callId"] == call_id and d["status"] == "pending"]

    def record_attempt(self, tenant: str, delivery: Mapping[str, Any], attempt: Mapping[str, Any],
                       status: str) -> None:
        stored = self.deliveries[(delivery["hookId"], delivery["SK"])]
        if len(stored["attempts"]) != len(delivery["attempts"]):
            return  # recorded already (the store's write is conditional on the attempts read)
        stored["status"] = status
        stored["attempts"] = [*stored["attempts"], dict(attempt)]

    def take_lease(self, tenant: str, call_id: int, hook_id: int, owner: str, seconds: int) -> dict[str, Any] | None:
        now = clock.epoch()
        lease = self.leases.setdefault((call_id, hook_id), {"attempt": 0})
        if (lease.get("until", -1) >= now and lease.get("owner") != owner) or lease.get("nextAt", 0) > now:
            return None
        lease.update(owner=owner, until=now + seconds)
        return dict(lease)

    def get_lease(self, tenant: str, call_id: int, hook_id: int) -> dict[str, Any] | None:
        lease = self.leases.get((call_id, hook_id))
        return None if lease is None else dict(lease)

    def set_lease(self, tenant: str, call_id: int, hook_id: int, owner: str, *, attempt: int, next_at: int = 0,
                  release: bool = False) -> None:
        lease = self.leases[(call_id, hook_id)]
        assert lease["owner"] == owner, "the lease is written only by its holder"
        lease.update(attempt=attempt, nextAt=next_at, **({"until": 0} if release else {}))

    def log(self, hook_id: int) -> list[dict[str, Any]]:
        return [d for (h, _), d in sorted(self.deliveries.items()) if h == hook_id]


@dataclass
class Published:
    queue: str
    body: dict[str, Any]
    due: int


@dataclass
class FakeQueues:
    sent: list[Published] = field(default_factory=list)

    def publish(self, logical: str, body: Mapping[str, Any], *, delay_seconds: int = 0, **_: Any) -> str:
        self.sent.append(Published(logical, json.loads(json.dumps(body)), clock.epoch() + delay_seconds))
        return str(len(self.sent))

    def publish_batch(self, logical: str, bodies: list[Mapping[str, Any]]) -> int:
        for body in bodies:
            self.publish(logical, body)
        return len(bodies)

    def take(self, queue: str = events.QUEUE) -> list[dict[str, Any]]:
        """The messages of ``queue`` that are due (SQS hides a delayed one until then)."""
        due = [p for p in self.sent if p.queue == queue and p.due <= clock.epoch()]
        self.sent = [p for p in self.sent if p not in due]
        return [p.body for p in due]


@dataclass
class Sent:
    address: str
    port: int
    timeout: float
    method: str = ""
    target: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FakeNetwork:
    """DNS answers and an HTTP server the test scripts: ``answer(request) -> status`` (or raises)."""

    def __init__(self) -> None:
        self.dns: dict[str, list[str]] = {"hooks.example.com": ["93.184.216.34"]}
        self.requests: list[Sent] = []
        self.answer: Callable[[Sent], int] = lambda request: 204
        network = self

        class Connection:
            def __init__(self, address: str, port: int, timeout: float = 10.0, **_: Any) -> None:
                self.sent = Sent(address, port, timeout)

            def request(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> None:
                self.sent.method, self.sent.target, self.sent.body, self.sent.headers = method, target, body, headers
                network.requests.append(self.sent)

            def getresponse(self) -> Any:
                status = network.answer(self.sent)
                return type("Response", (), {"status": status, "read": lambda self, n=-1: b""})()

            def close(self) -> None:
                pass

        self.connection = Connection

    def resolve(self, host: str, port: int) -> list[str]:
        return self.dns.get(host, [])


@dataclass
class World:
    store: FakeStore
    queues: FakeQueues
    network: FakeNetwork

    def hook(self, hook_id: int = 3, *, url: str = "https://hooks.example.com/events?x=1", auth_type: str = "DISABLED",
             credentials: Mapping[str, str] | None = None) -> int:
        self.store.hooks[hook_id] = {"id": hook_id, "url": url, "method": "POST", "authType": auth_type,
                                     "signingSecret": SECRET, "credentials": credentials, "priority": 1}
        return hook_id

    def emit(self, *names: str, hooks: list[int] | None = None, first_seq: int = 1) -> None:
        chosen = [self.store.hooks[h] for h in (hooks or list(self.store.hooks))]
        for seq, name in enumerate(names, start=first_seq):
            events.emit(tenant=TENANT, call=CALL, hooks=chosen, seq=seq, event=name, at=clock.now().timestamp(),
                        data={"n": seq})

    def pump(self) -> int:
        """Hand the due voice_webhooks messages to the worker, as one SQS batch; how many."""
        due = self.queues.take()
        if due:
            assert voice_delivery.handle(sqs_event(*due)) == {"batchItemFailures": []}
        return len(due)

    def advance(self, seconds: int) -> None:
        clock.set_now(clock.now() + timedelta(seconds=seconds))


@pytest.fixture()
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from chalicelib.adapters import webhooks
    from chalicelib.store.dynamo import entities
    from chalicelib.store.voice import children

    made = World(FakeStore(), FakeQueues(), FakeNetwork())
    monkeypatch.setattr(events, "delivery_store", made.store)
    monkeypatch.setattr(events, "queues", made.queues)
    monkeypatch.setattr(entities, "get_one", lambda etype, tenant, entity_id: made.store.hooks.get(entity_id)
                        if etype == children.HOOK else pytest.fail(f"unexpected read of {etype}"))
    monkeypatch.setattr(webhooks, "_resolve", made.network.resolve)
    monkeypatch.setattr(http.client, "HTTPConnection", made.network.connection)
    monkeypatch.setattr(webhooks, "_PinnedHTTPS", lambda address, server_name, port, *, timeout, context:
                        made.network.connection(address, port, timeout))
    monkeypatch.setenv("VOICE_HOOKS_ALLOW_LOOPBACK", "0")
    monkeypatch.setenv("VOICE_WEBHOOK_BACKOFF", "30,60,120")
    with clock.frozen(START):
        yield made


# ------------------------------------------------------------------ the request a hook receives

def test_each_event_is_signed_t_v1_over_the_raw_body_with_its_delivery_id(world: World) -> None:
    hook = world.hook()
    world.emit("call.initiated", "call.ringing")
    assert world.pump() == 2  # one flush message per (event, hook); the first flush sends both
    assert len(world.network.requests) == 2
    for seq, request in enumerate(world.network.requests, start=1):
        body = json.loads(request.body)
        assert body["sequence"] == seq and body["event"] == ("call.initiated", "call.ringing")[seq - 1]
        assert request.headers["Dialtone-Delivery-Id"] == body["deliveryId"]
        header = request.headers["Dialtone-Signature"]
        assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header), header
        stamp, digest = header[2:].split(",v1=")
        assert int(stamp) == int(START.timestamp())
        # The documented recipe, computed here by hand: HMAC-SHA256 of "<t>.<raw body>".
        expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + request.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(digest, expected)
        assert request.headers["Content-Type"] == "application/json" and "Authorization" not in request.headers
        # To the checked address itself (no second DNS lookup), with the URL's host and path.
        assert (request.address, request.port) == ("93.184.216.34", 443)
        assert request.headers["Host"] == "hooks.example.com" and request.target == "/events?x=1"
    assert [d["status"] for d in world.store.log(hook)] == ["delivered", "delivered"]
    assert len({d["deliveryId"] for d in world.store.log(hook)}) == 2


@pytest.mark.parametrize("auth_type, credentials, expected", [
    ("BASIC", {"username": "ann", "password": "p:w"}, "Basic " + base64.b64encode(b"ann:p:w").decode()),
    ("BEARER", {"token": "tok-123"}, "Bearer tok-123"),
    ("DISABLED", None, None),
])
@pytest.mark.parametrize("sealed", [False, True], ids=["saved-before-sealing", "sealed"])
def test_the_hooks_auth_type_is_honoured_and_the_signature_is_always_there(
        world: World, auth_type: str, credentials: Mapping[str, str] | None, expected: str | None,
        sealed: bool) -> None:
    from chalicelib.services.voice import hooks

    world.hook(auth_type=auth_type, credentials=hooks._sealed(credentials) if sealed else credentials)
    world.emit("call.initiated")
    world.pump()
    (request,) = world.network.requests
    assert request.headers.get("Authorization") == expected
    assert request.headers["Dialtone-Signature"].startswith("t=")


# ------------------------------------------------------------------ retries and the dead-letter queue

def test_a_failure_is_retried_after_the_backoff_and_later_events_wait_their_turn(world: World) -> None:
    hook = world.hook()
    statuses = iter([500, 503, 204, 204])
    world.network.answer = lambda request: next(statuses)
    world.emit("call.initiated", "call.completed")
    world.pump()
    # The first event failed: the pass stops there (the second never overtakes it).
    assert [json.loads(r.body)["sequence"] for r in world.network.requests] == [1]
    retry = [p for p in world.queues.sent if p.queue == events.QUEUE]
    assert [p.due - clock.epoch() for p in retry] == [30]  # the first backoff step, as an SQS delay
    assert world.store.leases[(CALL["id"], hook)]["attempt"] == 1

    world.advance(29)
    for _ in range(3):  # a stray redelivery before the retry is due sends nothing
        voice_delivery.handle(sqs_event({"tenant": TENANT, "call": CALL["id"], "hook": hook}))
    assert world.pump() == 0 and len(world.network.requests) == 1
    world.advance(1)
    assert world.pump() == 1  # failed again: the next step is 60 s
    assert [p.due - clock.epoch() for p in world.queues.sent] == [60]
    world.advance(60)
    world.pump()
    first, second = world.store.log(hook)
    assert [a["status"] for a in first["attempts"]] == [500, 503, 204] and first["status"] == "delivered"
    assert [a["at"][:19] for a in first["attempts"]] == ["2026-06-01T10:00:00", "2026-06-01T10:00:30",
                                                        "2026-06-01T10:01:30"]
    assert second["status"] == "delivered" and len(second["attempts"]) == 1
    ids = [r.headers["Dialtone-Delivery-Id"] for r in world.network.requests]
    assert ids[0] == ids[1] == ids[2] != ids[3]  # a retry is the same delivery (same id and body)
    assert len({r.body for r in world.network.requests[:3]}) == 1
    assert world.store.leases[(CALL["id"], hook)]["attempt"] == 0 and world.queues.sent == []


def test_a_timeout_is_a_failure_to_retry(world: World) -> None:
    hook = world.hook()

    def hang(request: Sent) -> int:
        raise socket.timeout("timed out")
    world.network.answer = hang
    world.emit("call.initiated")
    world.pump()
    (delivery,) = world.store.log(hook)
    assert delivery["status"] == "pending" and "TimeoutError" in delivery["attempts"][0]["error"]
    assert world.network.requests[0].timeout == 10.0
    assert [p.due - clock.epoch() for p in world.queues.sent] == [30]


def test_after_the_last_attempt_the_delivery_is_dead_lettered_and_the_next_event_goes_on(world: World) -> None:
    hook = world.hook()
    world.network.answer = lambda request: 500 if json.loads(request.body)["sequence"] == 1 else 204
    world.emit("call.initiated", "call.completed")
    for step in (0, 30, 60, 120):  # four attempts: the first and one per backoff step (30,60,120)
        world.advance(step)
        assert world.pump() >= 1
    dead, after = world.store.log(hook)
    assert dead["status"] == "dead-lettered" and len(dead["attempts"]) == 4
    assert dead["attempts"][-1]["final"] is True and dead["attempts"][-1]["error"] == "HTTP 500"
    assert after["status"] == "delivered"  # in the same pass, right after the dead-lettered one
    letters = [p.body for p in world.queues.sent if p.queue == events.DEAD_QUEUE]
    assert letters == [{"tenant": TENANT, "hook": hook, "call": CALL["id"], "deliveryId": dead["deliveryId"],
                        "event": "call.initiated", "attempts": 4, "lastError": "HTTP 500"}]
    assert world.queues.take() == [] and world.store.leases[(CALL["id"], hook)]["attempt"] == 0
    world.advance(3600)
    assert world.pump() == 0 and len(world.network.requests) == 5  # nothing is ever sent again


# ------------------------------------------------------------------ addresses refused at delivery

@pytest.mark.parametrize("url, dns, reason", [
    ("http://127.0.0.1:9000/hook", {}, "loopback"),
    ("http://[::1]/hook", {}, "loopback"),
    ("http://rebound.example.com/hook", {"rebound.example.com": ["10.1.2.3"]}, "private"),
    ("http://meta.example.com/latest", {"meta.example.com": ["93.184.216.34", "169.254.169.254"]}, "link-local"),
    ("http://localhost:8080/hook", {"localhost": ["127.0.0.1"]}, "loopback"),
    ("http://gone.example.com/hook", {}, "does not resolve"),
])
def test_a_private_or_loopback_target_is_refused_at_delivery_and_the_log_says_why(
        world: World, url: str, dns: dict[str, list[str]], reason: str) -> None:
    # Saved when its name still resolved to a public address; checked again at each attempt.
    world.network.dns.update(dns)
    hook = world.hook(url=url)
    world.emit("call.initiated")
    world.pump()
    assert world.network.requests == []  # no connection is opened
    (delivery,) = world.store.log(hook)
    assert delivery["status"] == "pending" and reason in delivery["attempts"][0]["error"]
    assert delivery["attempts"][0]["status"] is None


def test_loopback_is_allowed_where_the_stage_allows_it(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_HOOKS_ALLOW_LOOPBACK", "1")
    hook = world.hook(url="http://127.0.0.1:9000/hook")
    world.emit("call.initiated")
    world.pump()
    assert [(r.address, r.port) for r in world.network.requests] == [("127.0.0.1", 9000)]
    assert world.store.log(hook)[0]["status"] == "delivered"
    private = world.hook(4, url="http://10.0.0.8/hook")  # only loopback is let through
    world.emit("call.ringing", hooks=[private], first_seq=2)
    world.pump()
    assert "private" in world.store.log(private)[0]["attempts"][0]["error"]


# ------------------------------------------------------------------ SQS delivers at least once

def test_a_redelivered_message_sends_nothing_twice(world: World) -> None:
    hook = world.hook()
    world.emit("call.initiated", "call.answered")
    batch = sqs_event(*world.queues.take())
    assert voice_delivery.handle(batch) == {"batchItemFailures": []}
    assert voice_delivery.handle(batch) == {"batchItemFailures": []}  # the same messages again
    assert [json.loads(r.body)["sequence"] for r in world.network.requests] == [1, 2]
    assert all(len(d["attempts"]) == 1 for d in world.store.log(hook))
    # Emitting an event again (call control redelivered) keeps the record: same delivery id, not resent.
    world.emit("call.initiated")
    world.pump()
    assert len(world.network.requests) == 2


def test_a_message_that_finds_the_lease_held_leaves_the_events_to_its_holder(world: World) -> None:
    hook = world.hook()
    world.emit("call.initiated")
    assert world.store.take_lease(TENANT, CALL["id"], hook, "other-worker", events.LEASE_SECONDS)
    world.pump()
    assert world.network.requests == []
    # The holder may have died: the message comes back when the lease ends, and sends.
    assert [p.due for p in world.queues.sent] == [clock.epoch() + events.LEASE_SECONDS + 1]
    world.advance(events.LEASE_SECONDS + 1)
    world.pump()
    assert len(world.network.requests) == 1
    assert world.queues.sent == []


def test_events_of_a_deleted_hook_are_canceled_not_sent(world: World) -> None:
    hook = world.hook()
    world.emit("call.initiated")
    del world.store.hooks[hook]
    world.pump()
    assert world.network.requests == []
    assert [(d["status"], d["attempts"][0]["error"]) for d in world.store.log(hook)] == [("canceled", "hook deleted")]

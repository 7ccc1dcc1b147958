"""The rate limits of infra/rate_limits.py as the local API server applies
them (infra/local/throttle.py in its Gateway), in process: the app behind the
server's own Gateway, requests handed to it as the HTTP handler hands them,
the throttle's clock moved by hand."""
from __future__ import annotations

import json
from dataclasses import replace
from email.message import Message
from typing import Any

import pytest

from infra import rate_limits
from infra.local.throttle import Throttle

SMALL = {"per-address": 6, "per-authorization": 3, "per-token-header": 3, "per-token-parameter": 3,
         "per-portal-session": 3, "logins-per-address": 2}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0 - 1_800_000_000.0 % rate_limits.WINDOW_SECONDS + 5

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def gateway(aws: None, clock: Clock) -> Any:
    from chalice.config import Config

    from app import app
    from infra.local.api_server import Gateway

    limits = tuple(replace(limit, limit=SMALL[limit.name]) for limit in rate_limits.LIMITS)
    return Gateway(app, Config(chalice_stage="test"), Throttle(limits, now=clock))


def call(gateway: Any, method: str, path: str, headers: dict[str, str] | None = None, *,
         source: str = "198.51.100.7", body: bytes | None = None) -> tuple[int, dict[str, str], Any]:
    gateway.event_converter.LOCAL_SOURCE_IP = source
    message = Message()
    for name, value in (headers or {}).items():
        message[name] = value
    answer = gateway.handle_request(method, path, message, body)
    text = answer.get("body") or ""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    return answer["statusCode"], {k.lower(): v for k, v in answer["headers"].items()}, parsed


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_credential_over_its_limit_gets_429_with_the_headers_others_do_not(gateway, clock):
    mine, theirs = bearer("dtk_" + "a" * 40), bearer("dtk_" + "b" * 40)
    for _ in range(3):
        assert call(gateway, "GET", "/backend/api/v1/customers", mine)[0] == 401
    status, headers, body = call(gateway, "GET", "/backend/api/v1/customers", mine)
    assert status == 429
    assert headers["retry-after"] == headers["x-ratelimit-reset"] == "55"
    assert headers["x-ratelimit-limit"] == "3" and headers["x-ratelimit-remaining"] == "0"
    assert body["error_code"] == 429001 and body["error"] == "Too Many Requests"  # the platform's envelope
    # Another credential from the same address is counted apart.
    assert call(gateway, "GET", "/backend/api/v1/customers", theirs)[0] == 401
    clock.now += 55  # the next window
    assert call(gateway, "GET", "/backend/api/v1/customers", mine)[0] == 401


def test_an_address_over_its_limit_gets_429_another_address_does_not(gateway, clock):
    for _ in range(6):
        assert call(gateway, "GET", "/carrier/openapi.json")[0] == 200
    status, headers, body = call(gateway, "GET", "/carrier/openapi.json")
    assert status == 429 and body == {"status": "429", "error": rate_limits.MESSAGE}  # the carrier's envelope
    assert headers["x-ratelimit-limit"] == "6" and int(headers["retry-after"]) > 0
    assert call(gateway, "GET", "/carrier/openapi.json", source="198.51.100.8")[0] == 200
    clock.now += rate_limits.WINDOW_SECONDS
    assert call(gateway, "GET", "/carrier/openapi.json")[0] == 200


@pytest.mark.parametrize("path, headers, envelope", [
    ("/carrier/getnumbers?token=dtk_" + "c" * 40 + "&accountno=1", {}, lambda b: b["status"] == "429"),
    ("/partner/api/v1/balance", {"token": "dtk_" + "d" * 40}, lambda b: b["code"] == 429),
    ("/api/v1/account", {"Authorization": "Bearer x.y.z"}, lambda b: b["status"] == 429),
    ("/portal/dashboard", {"Cookie": "dialtone_portal=abc"}, lambda b: b["status"] == 429),
])
def test_every_credential_is_counted_where_it_travels(gateway, path, headers, envelope):
    answers = [call(gateway, "GET", path, headers) for _ in range(4)]
    assert [a[0] for a in answers[:3]].count(429) == 0
    status, sent, body = answers[3]
    assert status == 429 and envelope(body) and sent["x-ratelimit-limit"] == "3", body


def test_logins_are_throttled_harder_per_address(gateway):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    codes = [call(gateway, "POST", "/api/v1/oauth/authorize", form, body=b"username=nobody&password=x")[0]
             for _ in range(3)]
    assert codes[:2] == [401, 401] and codes[2] == 429
    # The limit is on logins: the address may still read the documents.
    assert call(gateway, "GET", "/api/v1/openapi.json")[0] == 200


def test_limits_come_from_the_environment():
    assert rate_limits.limits({"DIALTONE_RATE_LIMITS": "off"}) == ()
    changed = {limit.name: limit.limit for limit in rate_limits.limits({"DIALTONE_RATE_LIMIT_PER_ADDRESS": "7"})}
    assert changed["per-address"] == 7 and changed["logins-per-address"] == 20


@pytest.mark.parametrize("surface", ["platform", "partner", "carrier", "tracking", "voice"])
def test_every_openapi_operation_documents_the_429_and_its_headers(surface):
    import importlib

    spec = importlib.import_module(f"chalicelib.api.{surface}.openapi").spec()
    operations = [op for item in spec["paths"].values() for method, op in item.items()
                  if method in ("get", "put", "post", "delete", "patch")]
    assert operations
    for operation in operations:
        answer = operation["responses"]["429"]
        assert set(answer["headers"]) == {"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                                          "X-RateLimit-Reset"}
        assert "application/json" in answer["content"]


def test_the_server_counts_every_connection_against_one_throttle(aws, clock):
    """Over real sockets: the server's handler gives each connection's Gateway the server's throttle."""
    import threading

    import requests
    from chalice.config import Config
    from chalice.local import LocalDevServer

    from app import app
    from infra.local.api_server import RequestHandler, Server

    limits = tuple(replace(limit, limit=SMALL[limit.name]) for limit in rate_limits.LIMITS)
    server_cls = type("ThrottledServer", (Server,), {"throttle": Throttle(limits, now=clock)})
    server = LocalDevServer(app, Config(chalice_stage="test"), "127.0.0.1", 0, handler_cls=RequestHandler,
                            server_cls=server_cls)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server.server_address[1]}"
        # A new connection per request: the count is the server's, not the connection's.
        codes = [requests.get(f"{base}/carrier/openapi.json", headers={"Connection": "close"}).status_code
                 for _ in range(7)]
        assert codes == [200] * 6 + [429]
        refused = requests.get(f"{base}/carrier/openapi.json")
        assert refused.json()["status"] == "429" and refused.headers["X-RateLimit-Remaining"] == "0"
        assert int(refused.headers["Retry-After"]) == int(refused.headers["X-RateLimit-Reset"]) > 0
    finally:
        server.shutdown()
        thread.join(timeout=5)

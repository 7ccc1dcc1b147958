"""AWS that stays throttled (or failing) through botocore's retries is
answered 503 with Retry-After, in each surface's own error envelope, never a
500 (api/http/surface.py, store/clients.py transient())."""
from __future__ import annotations

import json
import socket
import threading
from typing import Any, Callable, Iterator

import pytest

from tests.support.injection.faults import SERVER_ERROR, THROTTLE, Fault, Faults
from tests.support.surfaces.portal import Portal
from tests.support.surfaces.voice import Voice
from tests.support.surfaces.tracking import Tracking


def _carrier(client: Any, tenant: dict[str, Any]) -> Any:
    return client.get(f"/carrier/get_payments?token={tenant['user']['api_key']}&accountno=1")


def _partner(client: Any, tenant: dict[str, Any]) -> Any:
    return client.get("/partner/api/v1/customers/1/balance", headers={"token": tenant["user"]["api_key"]})


def _platform(client: Any, tenant: dict[str, Any]) -> Any:
    return client.get("/backend/api/v1/customers", headers={"Authorization": f"Bearer {tenant['user']['api_key']}"})


def _voice(client: Any, tenant: dict[str, Any]) -> Any:
    reply = Voice(client).authorize(username=tenant["user"]["username"], password=tenant["user"]["password"])
    return _Answer(reply.status_code, reply.headers, reply.json)


def _tracking(client: Any, tenant: dict[str, Any]) -> Any:
    return Tracking(client, tenant["user"]["username"], tenant["user"]["password"]).get("/customers")


def _portal(client: Any, tenant: dict[str, Any]) -> Any:
    # The login form reads nothing (its token is a cookie); a session cookie is read.
    portal = Portal(client)
    portal.cookie = "dialtone_portal=" + "x" * 43
    return portal.get("/dashboard")


class _Answer:
    def __init__(self, status: int, headers: dict[str, str], body: Any) -> None:
        self.status_code, self.headers, self.body = status, headers, body


def _json(answer: Any) -> Any:
    body = answer.body
    return body if not isinstance(body, (bytes, str)) else json.loads(body)


def _header(answer: Any, name: str) -> str | None:
    return {k.lower(): v for k, v in answer.headers.items()}.get(name.lower())


# surface -> (request, what its own envelope says for a 503)
SURFACES: dict[str, tuple[Callable[[Any, dict[str, Any]], Any], Callable[[Any], bool]]] = {
    "carrier": (_carrier, lambda a: _json(a)["status"] == "503"),
    "partner": (_partner, lambda a: _json(a)["code"] == 503 and _json(a)["error"] == "service_unavailable"),
    "platform": (_platform, lambda a: _json(a)["error_code"] == 503001),
    "voice": (_voice, lambda a: a.body["status"] == 503 and a.body["error"] == "Service Unavailable"),
    "tracking": (_tracking, lambda a: a.json["errors"][0]["status"] == "503"),
    "portal": (_portal, lambda a: "Busy for a moment" in (a.body.decode() if isinstance(a.body, bytes) else a.body)),
}


@pytest.mark.parametrize("kind", [THROTTLE, SERVER_ERROR])
@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_aws_busy_after_retries_is_a_503_with_retry_after(client: Any, tenant: dict[str, Any], surface: str,
                                                          kind: str) -> None:
    request, envelope = SURFACES[surface]
    with Faults() as faults:
        faults.arm(Fault(kind, None))  # every call, every attempt
        answer = request(client, tenant)
        assert faults.injected > 0, "the request made no AWS call: it proves nothing"
    assert answer.status_code == 503, (surface, answer.status_code, answer.body)
    assert _header(answer, "Retry-After") == "1"
    assert envelope(answer), answer.body


DOCUMENTS = {"carrier": "/carrier/openapi.json", "partner": "/partner/api/v1/openapi.json",
             "platform": "/backend/api/v1/openapi.json"}


@pytest.mark.parametrize("surface", sorted(DOCUMENTS))
def test_every_operation_documents_its_503_with_retry_after(client: Any, surface: str) -> None:
    """Any operation that reads or writes storage can answer the busy 503
    above, so each one's description lists it, with its Retry-After header."""
    from tests.support.checks.openapi import resolve, served

    document = served(client, DOCUMENTS[surface])
    missing = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            busy = resolve(operation["responses"].get("503", {}), document)
            if "Retry-After" not in busy.get("headers", {}) or "content" not in busy:
                missing.append(f"{method.upper()} {path}")
    assert not missing, missing


@pytest.fixture
def silent_endpoint() -> Iterator[tuple[str, list[socket.socket]]]:
    """An endpoint that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()
    for connection in accepted:
        connection.close()


def test_aws_that_never_answers_is_a_503_not_a_timeout_of_the_gateway(
        client: Any, tenant: dict[str, Any], silent_endpoint: tuple[str, list[socket.socket]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every attempt times out (AWS_CALL_TIMEOUTS, scaled down here from the
    deployed stages' "1,3", whose worst case test_package checks against API
    Gateway's 29 s): the request ends in the surface's own 503."""
    from chalicelib.store import clients

    url, accepted = silent_endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", url)
    monkeypatch.setenv("AWS_CALL_TIMEOUTS", "0.5,0.2")
    try:
        answer = _platform(client, tenant)
    finally:
        clients.reset()
    assert len(accepted) >= clients.MAX_ATTEMPTS, "the request never reached the silent endpoint"
    assert answer.status_code == 503, (answer.status_code, answer.body)
    assert _header(answer, "Retry-After") == "1"
    assert _json(answer)["error_code"] == 503001

"""AWS that stays throttled (or failing) through botocore's retries is
answered 503 with Retry-After, in each surface's own error envelope, never a
500 (api/http/surface.py, store/clients.py transient())."""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from tests.support.faults import SERVER_ERROR, THROTTLE, Fault, Faults
from tests.support.portal import Portal
from tests.support.voice import Voice
from tests.surface.tracking.helpers import Tracking


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
    return Portal(client).get("/login")


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

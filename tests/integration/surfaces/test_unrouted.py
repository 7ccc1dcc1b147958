"""Unknown paths and methods over real HTTP: 404 or 405 (with Allow) in the
envelope of the surface the path is under, never API Gateway's 403 "Missing
Authentication Token", Chalice's MethodNotAllowedError or http.server's 501."""
from __future__ import annotations

from typing import Any, Callable

import pytest
import requests

from tests.support.harness.runtime import LocalRuntime


def platform(status: int) -> Callable[[Any], bool]:
    return lambda body: body["error_code"] // 1000 == status and isinstance(body["hint"], str) and body["error"]


def carrier(status: int) -> Callable[[Any], bool]:
    return lambda body: body["status"] == str(status) and isinstance(body["error"], str)


def partner(status: int) -> Callable[[Any], bool]:
    return lambda body: body["code"] == status and body["error"] in ("not_found", "method_not_allowed")


def tracking(status: int) -> Callable[[Any], bool]:
    return lambda body: [item["status"] for item in body["errors"]] == [str(status)]


def voice(status: int) -> Callable[[Any], bool]:
    return lambda body: body["status"] == status and isinstance(body["message"], str) and body["error"]


def outside(status: int) -> Callable[[Any], bool]:
    return lambda body: body["status"] == status and "/backend/api/v1" in body["message"]


CASES = [
    # (method, path, status, Allow, envelope check)
    ("GET", "/backend/api/v1/nothing", 404, None, platform(404)),
    ("POST", "/backend/api/v1/customers/5/bogus/deeper", 404, None, platform(404)),
    ("GET", "/backend/api/v1", 404, None, platform(404)),
    ("DELETE", "/backend/api/v1/customers", 405, "GET, POST", platform(405)),
    ("TRACE", "/backend/api/v1/customers", 405, "GET, POST", platform(405)),
    ("OPTIONS", "/backend/api/v1/customers/1", 405, "GET, PATCH, POST, PUT", platform(405)),
    ("PATCH", "/backend/api/v1/invoices/1", 405, "GET", platform(405)),
    ("HEAD", "/backend/api/v1/payments/1", 405, "GET", None),
    ("GET", "/carrier/nothing", 404, None, carrier(404)),
    ("GET", "/carrier", 404, None, carrier(404)),
    ("PUT", "/carrier/reserve", 405, "GET, POST", carrier(405)),
    ("TRACE", "/carrier/getnumbers", 405, "GET, POST", carrier(405)),
    ("PROPFIND", "/carrier/getnumbers", 405, "GET, POST", carrier(405)),
    ("GET", "/partner/api/v1/nothing/at/all", 404, None, partner(404)),
    ("DELETE", "/partner/api/v1/funds", 405, "PUT", partner(405)),
    ("TRACE", "/partner/api/v1/balance", 405, "GET", partner(405)),
    ("GET", "/tracking", 404, None, tracking(404)),
    ("GET", "/tracking/v1/a/b/c/d/e/f/g/h", 404, None, tracking(404)),
    ("TRACE", "/tracking/v1/customers", 405, None, tracking(405)),
    ("GET", "/api/v1/nothing", 404, None, voice(404)),
    ("GET", "/api/v1/account/1/nothing/else", 404, None, voice(404)),
    ("PATCH", "/api/v1/account", 405, "GET", voice(405)),
    ("TRACE", "/api/v1/userAccounts/me", 405, "GET", voice(405)),
    ("GET", "/", 404, None, outside(404)),
    ("GET", "/backend/api/v2/customers", 404, None, outside(404)),
    ("GET", "/api/v2/account", 404, None, outside(404)),
    ("TRACE", "/nothing", 404, None, outside(404)),
]


@pytest.mark.parametrize("method, path, status, allow, envelope", CASES,
                         ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_unrouted_requests_answer_in_the_surfaces_envelope(
        runtime: LocalRuntime, method: str, path: str, status: int, allow: str | None,
        envelope: Callable[[Any], bool] | None) -> None:
    answer = requests.request(method, runtime.base_url + path, timeout=10)
    assert answer.status_code == status, answer.text
    if allow is not None:
        assert answer.headers["Allow"] == allow
    if envelope is not None:
        assert answer.headers["Content-Type"].startswith("application/json")
        assert envelope(answer.json()), answer.text
        assert "Missing Authentication Token" not in answer.text and "MethodNotAllowedError" not in answer.text


def test_tracking_refusal_follows_accept(runtime: LocalRuntime) -> None:
    answer = requests.request("TRACE", runtime.base_url + "/tracking/v1/customers",
                              headers={"Accept": "application/xml"}, timeout=10)
    assert answer.status_code == 405 and answer.text.lstrip().startswith("<?xml")


def test_a_json_body_nested_100k_deep_is_a_400_on_every_surface(runtime: LocalRuntime,
                                                                 api_tenant: dict[str, Any]) -> None:
    key = api_tenant["user"]["api_key"]
    deep = b"[" * 100_000
    answers = {
        "platform": requests.post(runtime.base_url + "/backend/api/v1/customers", data=deep, timeout=30,
                                  headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}),
        "carrier": requests.post(runtime.base_url + "/carrier/getnumbers", data=b'{"a":' + deep, timeout=30,
                                 headers={"token": key, "Content-Type": "application/json"}),
        # A public endpoint (the one-time code is the credential): the body is read before anything else.
        "partner": requests.post(runtime.base_url + "/partner/api/v1/password", data=b'{"code":' + deep,
                                 timeout=30, headers={"Content-Type": "application/json"}),
    }
    assert {name: a.status_code for name, a in answers.items()} == {"platform": 400, "carrier": 404, "partner": 400}
    assert answers["platform"].json()["error_code"] == 400001
    assert answers["carrier"].json() == {"status": "404", "error": "Invalid body"}
    assert answers["partner"].json()["field"] == "body"

"""Every surface against its own OpenAPI document, on the local runtime:
schemathesis generates requests for each operation from the document served
at <surface>/openapi.json (a bounded number per operation, derandomized so a
run is repeatable) and each answer must be no server error (5xx) and match the
document's response schema. The caller is a tenant administrator (the
surface's own credential), so requests get past authentication."""
from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from requests.auth import HTTPDigestAuth
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.integration.conftest import create_tenant
from tests.support.runtime import LocalRuntime

# Enough to reach each operation's parameters and bodies; the five runs stay
# well under a minute and a half on two cores.
POSITIVE = settings(max_examples=4, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
NEGATIVE = settings(POSITIVE, max_examples=2)
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def caller(runtime: LocalRuntime) -> dict[str, Any]:
    made = create_tenant(runtime, "Schemathesis Tenant")
    return {"key": made["user"]["api_key"], "user": made["user"]["username"], "password": made["user"]["password"]}


def _findings(runtime: LocalRuntime, prefix: str, **call: Any) -> list[str]:
    """Every operation of the surface's served document, a few generated cases
    each (valid ones, then ones the document says are invalid); one line per
    distinct failure (operation, check, status)."""
    schema = schemathesis.openapi.from_url(f"{runtime.base_url}{prefix}/openapi.json")
    found: dict[tuple[str, str, int], str] = {}
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode, examples in ((GenerationMode.POSITIVE, POSITIVE), (GenerationMode.NEGATIVE, NEGATIVE)):
                _examine(operation, mode, examples, runtime.base_url + prefix, session, call, found)
    return sorted(found.values())


def _examine(operation: Any, mode: GenerationMode, examples: settings, base_url: str, session: requests.Session,
             call: dict[str, Any], found: dict[tuple[str, str, int], str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @examples
    def examine(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, timeout=30, **call)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # a FailureGroup naming what failed
            title = str(failure).strip().splitlines()[0][:120]
            key = (operation.label, title, response.status_code)
            found.setdefault(key, f"{operation.label} [{mode}] -> {response.status_code}: {title}\n"
                                  f"    {case.method} {response.request.url} body={str(case.body)[:200]!r}"
                                  f"\n    answer: {response.text[:300]!r}")

    try:
        examine()
    except Unsatisfiable:
        pass  # nothing in the operation can be made invalid (no parameters, no body)


@pytest.fixture(scope="module")
def caller(runtime: LocalRuntime) -> dict[str, Any]:
    made = create_tenant(runtime, "Schemathesis Tenant")
    return {"key": made["user"]["api_key"], "user": made["user"]["username"], "password": made["user"]["password"]}


def test_platform(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    findings = _findings(runtime, "/backend/api/v1", headers={"Authorization": f"Bearer {caller['key']}"})
    assert not findings, "\n".join(findings)


def test_carrier(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    findings = _findings(runtime, "/carrier", headers={"token": caller["key"]})
    assert not findings, "\n".join(findings)


def test_partner(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    findings = _findings(runtime, "/partner/api/v1", headers={"token": caller["key"]})
    assert not findings, "\n".join(findings)


def test_voice(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    login = requests.post(runtime.base_url + "/api/v1/oauth/authorize", timeout=30,
                          data={"username": caller["user"], "password": caller["password"]})
    assert login.status_code == 200, login.text
    findings = _findings(runtime, "/api/v1", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert not findings, "\n".join(findings)


def test_tracking(runtime: LocalRuntime, caller: dict[str, Any]) -> None:
    findings = _findings(runtime, "/tracking/v1", auth=HTTPDigestAuth(caller["user"], caller["password"]))
    assert not findings, "\n".join(findings)

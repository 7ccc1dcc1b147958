"""Surface.serve (api/http/surface.py), the wrapper every handler of every
surface runs in: the answer for a domain error and for a crash, and the
audit record each authenticated request writes."""
from __future__ import annotations

from typing import Any

import pytest
from chalice import Response

from chalicelib.api.http import surface as surface_module
from chalicelib.api.http.surface import Surface
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.identity import Principal
from chalice.app import Request

from tests.support.harness.events import load


class Recorder:
    def __init__(self) -> None:
        self.audits: list[dict[str, Any]] = []
        self.internal_errors = 0

    def internal_error(self) -> Response:
        self.internal_errors += 1
        return Response(body={"error": "internal"}, status_code=500)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    found = Recorder()
    monkeypatch.setattr(surface_module, "write_audit",
                        lambda request, principal, status, name, started: found.audits.append(
                            {"status": status, "surface": name, "tenant": principal.tenant_id}))
    return found


def api_request(method: str, path: str) -> Request:
    return Request({**load("apigateway_proxy"), "httpMethod": method, "path": path})


def _surface(recorder: Recorder) -> Surface:
    principal = Principal(tenant_id="t1", user_id=1, username="ann", roles=frozenset(), can_read=True,
                          can_write=True, customer_access="all")
    return Surface("test", authenticate=lambda request: principal,
                   error_response=lambda error: Response(body={"error": error.message}, status_code=404),
                   internal_error=recorder.internal_error)


def test_an_answer_builds_no_error_response(recorder: Recorder) -> None:
    answer = _surface(recorder).serve(api_request("GET", "/x"), lambda p, r: Response(body="ok", status_code=200))
    assert answer.status_code == 200
    assert recorder.internal_errors == 0
    assert recorder.audits == [{"status": 200, "surface": "test", "tenant": "t1"}]


def test_a_domain_error_is_the_surfaces_envelope_and_audited(recorder: Recorder) -> None:
    def handler(principal: Principal, request: Any) -> Response:
        raise NotFoundError("no such customer")

    answer = _surface(recorder).serve(api_request("GET", "/x"), handler)
    assert (answer.status_code, answer.body) == (404, {"error": "no such customer"})
    assert recorder.audits[0]["status"] == 404 and recorder.internal_errors == 0


def test_a_crash_is_the_surfaces_500_and_audited_as_500(recorder: Recorder) -> None:
    def handler(principal: Principal, request: Any) -> Response:
        raise RuntimeError("bug")

    answer = _surface(recorder).serve(api_request("GET", "/x"), handler)
    assert (answer.status_code, answer.body) == (500, {"error": "internal"})
    assert recorder.internal_errors == 1
    assert recorder.audits == [{"status": 500, "surface": "test", "tenant": "t1"}]

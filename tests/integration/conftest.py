"""One local runtime (real processes, real HTTP) for the integration session.

Nothing is skipped: without Java or npm the runtime fails to start and every
test here errors with the reason.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.support.harness.tenants import create_tenant
import requests

from tests.support.harness.runtime import LocalRuntime


@pytest.fixture(scope="session")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as started:
        yield started


@pytest.fixture()
def api_tenant(runtime: LocalRuntime) -> dict[str, Any]:
    return create_tenant(runtime)


@pytest.fixture()
def http(api_tenant: dict[str, Any]) -> Iterator[requests.Session]:
    """A kept-alive session carrying the tenant administrator's API key."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {api_tenant['user']['api_key']}"
        yield session

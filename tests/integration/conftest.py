"""One local runtime (real processes, real HTTP) for the integration session.

Nothing is skipped: without Java or npm the runtime fails to start and every
test here errors with the reason.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import requests

from tests.support.runtime import LocalRuntime


@pytest.fixture(scope="session")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as started:
        yield started


def create_tenant(runtime: LocalRuntime, name: str = "Integration Tenant") -> dict[str, Any]:
    """A tenant and its administrator (with an API key), written straight into
    the runtime's DynamoDB, as the admin CLI does."""
    from chalicelib.services.identity import users

    with runtime.environment():
        return users.create_tenant(name=name)


@pytest.fixture()
def api_tenant(runtime: LocalRuntime) -> dict[str, Any]:
    return create_tenant(runtime)


@pytest.fixture()
def http(api_tenant: dict[str, Any]) -> Iterator[requests.Session]:
    """A kept-alive session carrying the tenant administrator's API key."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {api_tenant['user']['api_key']}"
        yield session

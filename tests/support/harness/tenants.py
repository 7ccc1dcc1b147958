"""A tenant made straight in a local runtime, for tests over real HTTP."""
from __future__ import annotations

from typing import Any

from tests.support.harness.runtime import LocalRuntime


def create_tenant(runtime: LocalRuntime, name: str = "Integration Tenant") -> dict[str, Any]:
    """A tenant and its administrator (with an API key), written straight into
    the runtime's DynamoDB, as the admin CLI does."""
    from chalicelib.services.identity import users

    with runtime.environment():
        return users.create_tenant(name=name)

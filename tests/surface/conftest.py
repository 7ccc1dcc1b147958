from __future__ import annotations

from typing import Any, Iterator

import pytest


@pytest.fixture(scope="session")
def client(aws: None) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client.http


@pytest.fixture()
def api(client: Any, tenant: dict[str, Any]) -> Any:
    """The billing API as the tenant's administrator (files may define their own)."""
    from tests.support.surfaces.platform import Api

    return Api(client, tenant["user"]["api_key"])


@pytest.fixture()
def admin(tenant: dict[str, Any]) -> Any:
    """The tenant administrator's Principal, for calling services directly."""
    from chalicelib.auth import api_key

    return api_key.authenticate(tenant["user"]["api_key"], None)

from __future__ import annotations

from typing import Any, Iterator

import pytest


@pytest.fixture(scope="session")
def client(aws: None) -> Iterator[Any]:
    """The app in process (Chalice's test client), as the surface tests use it."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client.http

from __future__ import annotations

from typing import Any

import pytest

from tests.support.voice import Voice


@pytest.fixture()
def voice(client: Any, tenant: dict[str, Any]) -> Voice:
    """The voice API as the tenant's administrator (OrganisationAdmin), logged in."""
    api = Voice(client)
    api.login(tenant["user"]["username"], tenant["user"]["password"])
    return api

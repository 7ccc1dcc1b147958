from __future__ import annotations

from typing import Any

import pytest

from tests.support.surfaces.voice import Voice


@pytest.fixture(autouse=True)
def fresh_key_cache() -> None:
    # The in-process AWS is emptied after every test, stored signing keys with it.
    from chalicelib.auth import access_tokens

    access_tokens.forget_keys()
    access_tokens.forget_users()


@pytest.fixture()
def voice(client: Any, tenant: dict[str, Any]) -> Voice:
    """The voice API as the tenant's administrator (OrganisationAdmin), logged in."""
    api = Voice(client)
    api.login(tenant["user"]["username"], tenant["user"]["password"])
    return api

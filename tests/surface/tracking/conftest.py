from __future__ import annotations

from typing import Any

import pytest

from tests.surface.tracking.helpers import Tracking


@pytest.fixture()
def tracking(client: Any, tenant: dict[str, Any]) -> Tracking:
    """The tenant administrator over Digest (SHA-256)."""
    return Tracking(client, tenant["user"]["username"], tenant["user"]["password"])

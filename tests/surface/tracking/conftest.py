from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib.services.customers import accounts
from chalicelib.services.tracking import fields
from tests.support.worlds.money import admin
from tests.support.worlds.numbers import import_landlines
from tests.support.surfaces.tracking import Tracking
from tests.support.worlds.tracking import NUMBERS


@pytest.fixture()
def tracking(client: Any, tenant: dict[str, Any]) -> Tracking:
    """The tenant administrator over Digest (SHA-256)."""
    return Tracking(client, tenant["user"]["username"], tenant["user"]["password"])


@pytest.fixture()
def shop(tracking, tenant):
    """Inventory numbers, two custom fields of sources, and a customer with credit."""
    t = tenant["tenant"]["id"]
    import_landlines(t, NUMBERS)
    fields.define(tenant=t, entity="source", slot=1, name="Campaign", kind="string", values=[])
    fields.define(tenant=t, entity="source", slot=2, name="Launched", kind="date", values=[])
    made = tracking.post("/customers", data={"name": "Acme", "custnr": "acme1"}).json["customers"][0]
    accounts.update_customer(principal=admin(tenant), customer_id=int(made["customer_id"]),
                             changes={"creditLimit": Decimal("-100")})
    return {"tenant": t, "customer_id": made["customer_id"]}

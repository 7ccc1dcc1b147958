"""Trunk groups (services/numbers/trunks.py): define, read, update and
disable, each customer seeing only its own trunks of the asked direction."""
from __future__ import annotations

import pytest

from chalicelib.domain.numbers import trunks as rules
from chalicelib.domain.errors import NotFoundError, ValidationError
from chalicelib.services.numbers import trunks
from chalicelib.store.numbers import trunks as store
from tests.support.worlds.money import admin, new_customer

ORIGINATION = {"title": "Main", "primaryTrunk": "203.0.113.9", "primaryPort": "5060", "billingType": "metered"}
TERMINATION = {"title": "Out", "ipaddress": "198.51.100.7", "ports": "30", "cps": "5"}


def test_an_origination_trunk_is_defined_and_read_back_by_its_customer_only(tenant):
    principal = admin(tenant)
    acme, globex = new_customer(principal, name="Acme"), new_customer(principal, name="Globex")
    made = trunks.define_origination(principal=principal, customer=acme, params=ORIGINATION)
    assert made["primaryIP"] == "203.0.113.9" and made["primaryPort"] == 5060 and made["billingType"] == "Metered"
    assert made["status"] == rules.ENABLED and made["customerId"] == acme["id"]
    read = trunks.get_trunk(principal=principal, customer=acme, trunk_id=str(made["id"]),
                            direction=rules.ORIGINATION)
    assert read == made
    with pytest.raises(NotFoundError):  # another customer's trunk looks like none
        trunks.get_trunk(principal=principal, customer=globex, trunk_id=made["id"], direction=rules.ORIGINATION)
    with pytest.raises(NotFoundError):  # the other direction's view does not show it
        trunks.get_trunk(principal=principal, customer=acme, trunk_id=made["id"], direction=rules.TERMINATION)
    with pytest.raises(ValidationError):
        trunks.define_origination(principal=principal, customer=acme, params={**ORIGINATION, "billingType": "x"})


def test_trunks_are_listed_per_customer_and_direction(tenant):
    principal = admin(tenant)
    acme, globex = new_customer(principal, name="Acme"), new_customer(principal, name="Globex")
    first = trunks.define_origination(principal=principal, customer=acme, params=ORIGINATION)
    out = trunks.define_termination(principal=principal, customer=acme, params=TERMINATION)
    second = trunks.define_origination(principal=principal, customer=acme, params={**ORIGINATION, "title": "Two"})
    trunks.define_origination(principal=principal, customer=globex, params=ORIGINATION)
    listed = trunks.list_trunks(principal=principal, customer=acme, direction=rules.ORIGINATION)
    assert [t["id"] for t in listed] == [first["id"], second["id"]]
    assert trunks.trunks_of(principal=principal, customer=acme, direction=rules.TERMINATION) == [out]
    assert trunks.trunks_of(principal=principal, customer=acme, direction=rules.ORIGINATION,
                            trunk_id=second["id"]) == [second]


def test_an_origination_update_changes_only_the_given_fields(tenant):
    principal = admin(tenant)
    acme = new_customer(principal)
    made = trunks.define_origination(principal=principal, customer=acme, params=ORIGINATION)
    updated = trunks.update_origination(principal=principal, customer=acme, trunk_id=made["id"],
                                        params={"primaryPrefix": "1234"})
    assert updated["primaryPrefix"] == "1234" and updated["title"] == "Main" and updated["version"] == 2
    assert store.get(principal.tenant_id, made["id"]) == updated
    unchanged = trunks.update_origination(principal=principal, customer=acme, trunk_id=made["id"], params={})
    assert unchanged == updated


def test_a_termination_trunk_is_disabled_once(tenant):
    principal = admin(tenant)
    acme, globex = new_customer(principal, name="Acme"), new_customer(principal, name="Globex")
    made = trunks.define_termination(principal=principal, customer=acme, params=TERMINATION)
    assert made["portsAssigned"] == 30 and made["cpsAssigned"] == 5 and made["status"] == rules.ENABLED
    with pytest.raises(NotFoundError):
        trunks.disable_termination(principal=principal, customer=globex, trunk_id=made["id"])
    assert store.get(principal.tenant_id, made["id"])["status"] == rules.ENABLED
    disabled = trunks.disable_termination(principal=principal, customer=acme, trunk_id=made["id"])
    assert disabled["status"] == rules.DISABLED and disabled["version"] == 2
    again = trunks.disable_termination(principal=principal, customer=acme, trunk_id=made["id"])
    assert again == disabled  # nothing written the second time
    assert store.get(principal.tenant_id, made["id"]) == disabled

"""Customers (services/customers/accounts.py): create, get, list and update
within the caller's customer scope, and the optimistic retry of an update
that loses a race."""
from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.domain.errors import AlreadyExistsError, NotFoundError, PermissionDeniedError
from chalicelib.domain.identity import principal_from_user
from chalicelib.services.customers import accounts as customers
from chalicelib.services.identity import users
from chalicelib.store.customers import accounts as customer_store
from chalicelib.store.dynamo.entities import Page
from tests.support.worlds.money import admin


def staff(tenant: dict, username: str, access: str):
    t = tenant["tenant"]["id"]
    made = users.create_user(tenant=t, username=f"{username}-{t}", customer_access=access)
    return principal_from_user(users.get_user(tenant=t, user_id=made["id"]), t)


def test_a_created_customer_gets_an_account_number_and_reads_back(tenant):
    principal = admin(tenant)
    first = customers.create_customer(principal=principal, fields={"name": "Acme", "creditLimit": "25"})
    second = customers.create_customer(principal=principal, fields={"name": "Globex"})
    assert first["accountNumber"] and first["accountNumber"] != second["accountNumber"]
    assert first["version"] == 1 and first["creditLimit"] == Decimal("25.00")
    assert customers.get_customer(principal=principal, customer_id=first["id"]) == first
    found = customers.customer_by_account_number(principal=principal, account_number=first["accountNumber"])
    assert found["id"] == first["id"]
    assert [c["id"] for c in customers.list_customers(principal=principal, page=Page())] == [first["id"], second["id"]]


def test_an_account_number_given_twice_is_refused(tenant):
    principal = admin(tenant)
    customers.create_customer(principal=principal, fields={"name": "Acme", "accountNumber": "ACME-1"})
    with pytest.raises(AlreadyExistsError) as refused:
        customers.create_customer(principal=principal, fields={"name": "Other", "accountNumber": "acme-1"})
    assert refused.value.field == "accountNumber"
    assert len(customers.list_customers(principal=principal, page=Page())) == 1


def test_an_account_manager_sees_and_creates_only_its_own_customers(tenant):
    principal = admin(tenant)
    manager = staff(tenant, "manager", "manager")
    other = staff(tenant, "other", "manager")
    managed = customers.create_customer(principal=principal, fields={"name": "Managed",
                                                                     "accountManagerId": manager.user_id})
    unmanaged = customers.create_customer(principal=principal, fields={"name": "Unmanaged",
                                                                       "accountManagerId": other.user_id})
    own = customers.create_customer(principal=manager, fields={"name": "Own"})
    assert own["accountManagerId"] == manager.user_id  # lands in the creator's scope
    with pytest.raises(PermissionDeniedError):
        customers.create_customer(principal=manager, fields={"name": "X", "accountManagerId": other.user_id})
    assert [c["id"] for c in customers.list_customers(principal=manager, page=Page())] == [managed["id"], own["id"]]
    with pytest.raises(NotFoundError):
        customers.get_customer(principal=manager, customer_id=unmanaged["id"])
    with pytest.raises(NotFoundError):
        customers.update_customer(principal=manager, customer_id=unmanaged["id"], changes={"city": "X"})
    assert customer_store.get(principal.tenant_id, unmanaged["id"]) == unmanaged


def test_a_commission_holder_lists_only_its_customers(tenant):
    principal = admin(tenant)
    holder = staff(tenant, "holder", "commission")
    held = customers.create_customer(principal=principal, fields={"name": "Held",
                                                                  "commissionHolderId": holder.user_id})
    customers.create_customer(principal=principal, fields={"name": "Not held"})
    assert [c["id"] for c in customers.list_customers(principal=holder, page=Page())] == [held["id"]]


def test_a_customer_user_sees_only_its_own_customer_and_creates_none(tenant):
    principal = admin(tenant)
    t = tenant["tenant"]["id"]
    mine = customers.create_customer(principal=principal, fields={"name": "Mine", "accountNumber": "MINE-1"})
    theirs = customers.create_customer(principal=principal, fields={"name": "Theirs"})
    made = users.create_user(tenant=t, username=f"mine-{t}", account_number="MINE-1")
    user = principal_from_user(users.get_user(tenant=t, user_id=made["id"]), t)
    assert [c["id"] for c in customers.list_customers(principal=user, page=Page())] == [mine["id"]]
    with pytest.raises(NotFoundError):
        customers.get_customer(principal=user, customer_id=theirs["id"])
    with pytest.raises(PermissionDeniedError):
        customers.create_customer(principal=user, fields={"name": "New"})


def test_an_update_writes_only_what_differs(tenant):
    principal = admin(tenant)
    created = customers.create_customer(principal=principal, fields={"name": "Acme", "city": "York"})
    same, changed = customers.update_customer(principal=principal, customer_id=created["id"],
                                              changes={"city": "York"})
    assert not changed and same["version"] == 1
    updated, changed = customers.update_customer(principal=principal, customer_id=created["id"],
                                                 changes={"city": "Leeds", "creditLimit": "10"})
    assert changed and updated["version"] == 2 and updated["city"] == "Leeds"
    assert customers.get_customer(principal=principal, customer_id=created["id"]) == updated


def test_an_update_that_loses_a_race_is_applied_again_on_the_new_version(tenant, monkeypatch):
    principal = admin(tenant)
    created = customers.create_customer(principal=principal, fields={"name": "Acme", "city": "York"})
    real_update = customer_store.update
    calls = []

    def racing_update(tenant_id, current, changes):
        calls.append(dict(changes))
        if len(calls) == 1:
            # Someone else changes the customer between our read and our write.
            real_update(tenant_id, customer_store.get(tenant_id, current["id"]), {"phone": "+15550001"})
        return real_update(tenant_id, current, changes)

    monkeypatch.setattr(customer_store, "update", racing_update)
    updated, changed = customers.update_customer(principal=principal, customer_id=created["id"],
                                                 changes={"city": "Leeds"})
    assert changed and len(calls) == 2  # the first write was refused, the second applied
    stored = customer_store.get(principal.tenant_id, created["id"])
    assert stored["city"] == "Leeds" and stored["phone"] == "+15550001"  # neither update is lost
    assert stored["version"] == 3 and updated == stored

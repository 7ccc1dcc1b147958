"""Self-service registration is one transaction: customer, account-number
claim, customer user and username claim are written together or not at all."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.services.customers import accounts as customers
from chalicelib.services.identity import signup
from chalicelib.services.identity import users
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo import schema
from chalicelib.store.identity import users as identity_store
from tests.support.worlds.money import admin


def test_registration_writes_customer_and_user_together(tenant):
    principal = admin(tenant)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    made = signup.register_customer(principal=principal, name="Ada", email=email, password="long enough",
                                    contact={"city": "Paris"})
    owner, user = identity_store.find_user_by_username(email)
    assert owner == tenant["tenant"]["id"] and user["customerId"] == made["customer_id"]
    assert user["customerAccess"] == "customer"
    customer = customers.customer_by_account_number(principal=principal, account_number=made["account_number"])
    assert customer["email"] == email and customer["city"] == "Paris"


def test_losing_the_email_race_leaves_no_customer(tenant, monkeypatch):
    principal = admin(tenant)
    t = tenant["tenant"]["id"]
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    users.create_user(tenant=t, username=email)  # the other registration won
    before = entities.list_page(schema.CUSTOMER, t, entities.Page(limit=1000))
    # The early check ran before the winner's write landed: only the transaction can refuse.
    monkeypatch.setattr(identity_store, "find_user_by_username", lambda username: None)
    with pytest.raises(ValidationError) as refused:
        signup.register_customer(principal=principal, name="Late", email=email, password="long enough", contact={})
    assert refused.value.field == "email"
    assert entities.list_page(schema.CUSTOMER, t, entities.Page(limit=1000)) == before

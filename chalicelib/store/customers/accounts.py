"""Customers in the main table: CUSTOMER entities (store/dynamo/schema.py).

  T#<t>#CUSTOMER / <id>                          a customer (generic entity)
  T#<t>#U#CUSTOMER#accountNumber / <number>      account numbers are unique per tenant
  ByRef1 T#<t>#CUSTOMER#MGR#<user> / <id>        an account manager's customers
  ByRef2 T#<t>#CUSTOMER#COM#<user> / <id>        a commission holder's customers
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from chalicelib import settings
from chalicelib.domain.errors import DialtoneError
from chalicelib.store.dynamo import entities, keys
from chalicelib.store.dynamo.entities import Page
from chalicelib.store.dynamo.schema import (
    ACCOUNT_NUMBERS, CUSTOMER, CUSTOMER_BY_COMMISSION_HOLDER, CUSTOMER_BY_MANAGER,
)
from chalicelib.store.dynamo.table import Transaction


@dataclass(frozen=True)
class Condition:
    """A rule on the stored customer item as a DynamoDB condition, for a
    write elsewhere that must not commit once the customer breaks it."""

    expression: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


def status_among(allowed: Iterable[int], *, absent_is_allowed: bool) -> Condition:
    """The customer's ``status`` is one of ``allowed`` (or, with
    ``absent_is_allowed``, it has none)."""
    wanted = sorted(allowed)
    expression = "#cst IN (" + ", ".join(f":cst{n}" for n in range(len(wanted))) + ")"
    if absent_is_allowed:
        expression = "attribute_not_exists(#cst) OR " + expression
    return Condition(expression, {"#cst": "status"}, {f":cst{n}": v for n, v in enumerate(wanted)})


def add_condition_check(tx: Transaction, tenant: str, customer_id: int, condition: Condition, *,
                        failure: DialtoneError) -> None:
    """Add to ``tx``: the customer exists and meets ``condition`` when it commits."""
    entities.add_check(tx, CUSTOMER, tenant, customer_id, condition.expression, names=condition.names,
                       values=condition.values, failure=failure)


def add_exists_check(tx: Transaction, tenant: str, customer_id: int, *, failure: DialtoneError) -> None:
    """Add to ``tx``: the customer still exists when it commits."""
    tx.check(settings.main_table(), {"PK": keys.entity_pk(tenant, CUSTOMER.kind), "SK": keys.pad(customer_id)},
             "attribute_exists(PK)", failure=failure)


def allocate_id(tenant: str) -> int:
    return entities.allocate_ids(tenant, CUSTOMER.kind)[0]


def next_account_sequence(tenant: str) -> int:
    """The next number of the sequence allocated account numbers are made from."""
    return entities.allocate_ids(tenant, ACCOUNT_NUMBERS)[0]


def create(tenant: str, fields: Mapping[str, Any], *, customer_id: int,
           also: Transaction | None = None) -> dict[str, Any]:
    """A new customer with its account-number claim (AlreadyExistsError on
    ``accountNumber`` if taken); ``also``: writes that commit with it."""
    return entities.create(CUSTOMER, tenant, fields, entity_id=customer_id, also=also)


def get(tenant: str, customer_id: int) -> dict[str, Any] | None:
    return entities.get_one(CUSTOMER, tenant, customer_id)


def id_by_account_number(tenant: str, account_number: str) -> int | None:
    owner = entities.find_id_by_unique(CUSTOMER, tenant, "accountNumber", account_number)
    return owner[1] if owner else None


def list_page(tenant: str, page: Page, *, manager_id: int | None = None,
              commission_holder_id: int | None = None) -> list[dict[str, Any]]:
    """Customers in id order: all of the tenant's, or (a Query on the
    narrowest key) those of one account manager or one commission holder."""
    if manager_id is not None:
        return entities.list_page(CUSTOMER, tenant, page, ref=(CUSTOMER_BY_MANAGER, str(manager_id)))
    if commission_holder_id is not None:
        return entities.list_page(CUSTOMER, tenant, page,
                                  ref=(CUSTOMER_BY_COMMISSION_HOLDER, str(commission_holder_id)))
    return entities.list_page(CUSTOMER, tenant, page)


def update(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` applied if the customer is still as read (ConcurrentUpdateError otherwise)."""
    return entities.update(CUSTOMER, tenant, current, changes)

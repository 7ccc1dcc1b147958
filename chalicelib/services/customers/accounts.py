"""Customers (accounts): create, read, list, update, within the caller's scope."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.domain.customers import accounts as rules
from chalicelib.domain.customers.items import CUSTOMER_ACTIONS
from chalicelib.domain import identity
from chalicelib.domain.errors import (
    AlreadyExistsError, ConcurrentUpdateError, NotFoundError, PermissionDeniedError, ValidationError,
)
from chalicelib.domain.identity import Principal
from chalicelib.domain.money.amounts import as_money
from chalicelib.services.common import actions, audit
from chalicelib.services.common import retry
from chalicelib.store.customers import accounts as store
from chalicelib.store.identity import users as identity_store
from chalicelib.store.dynamo.entities import Page
from chalicelib.store.dynamo.schema import CUSTOMER

if TYPE_CHECKING:
    from chalicelib.store.dynamo.table import Transaction

# Page size when a scoped user's visible customers are collected (child listings).
SCOPE_PAGE = 1000
ALLOCATION_ATTEMPTS = 5


def create_customer(*, principal: Principal, fields: Mapping[str, Any], entity_id: int | None = None,
                    also: Transaction | None = None) -> dict[str, Any]:
    """A new customer; an account number is allocated when none is given.
    ``also``: writes that must succeed or fail with it (e.g. its first user)."""
    from chalicelib.domain.customers.account_input import parse_customer_write  # local: pydantic, for writes only

    principal.require_write()
    if principal.customer_access == identity.ACCESS_CUSTOMER:
        raise PermissionDeniedError("customer users cannot create customers")
    values = parse_customer_write(fields)
    if not values.get("name"):
        raise ValidationError("name is required", field="name")
    # A scoped user's new customer lands in its own scope, or it could not see it.
    if principal.customer_access == identity.ACCESS_MANAGER:
        values["accountManagerId"] = _own_scope(values.get("accountManagerId"), principal, "accountManagerId")
    if principal.customer_access == identity.ACCESS_COMMISSION:
        values["commissionHolderId"] = _own_scope(values.get("commissionHolderId"), principal, "commissionHolderId")
    _check_staff_users(principal.tenant_id, values)
    values.setdefault("status", rules.STATUS_CUSTOMER)
    values["creditLimit"] = as_money(values.get("creditLimit"))
    if entity_id is None:
        entity_id = store.allocate_id(principal.tenant_id)
    if values.get("accountNumber"):
        record = store.create(principal.tenant_id, values, customer_id=entity_id, also=also)
    else:
        record = _create_with_allocated_number(principal.tenant_id, values, entity_id, also)
    audit.touch("customer", record["id"])
    return record


def _own_scope(given: int | None, principal: Principal, field: str) -> int:
    if given not in (None, principal.user_id):
        raise PermissionDeniedError(f"{field} must be yourself: your access covers only your own customers")
    return principal.user_id


def _create_with_allocated_number(tenant: str, values: dict[str, Any], entity_id: int,
                                  also: Transaction | None) -> dict[str, Any]:
    for _ in range(ALLOCATION_ATTEMPTS):
        sequence = store.next_account_sequence(tenant)
        try:
            return store.create(tenant, {**values, "accountNumber": rules.allocated_account_number(sequence)},
                                customer_id=entity_id, also=also)
        except AlreadyExistsError as error:
            if error.field != "accountNumber":
                raise
            # Someone chose this number by hand; take the next one.
    raise ConcurrentUpdateError("could not allocate a free account number")


def _check_staff_users(tenant: str, values: Mapping[str, Any]) -> None:
    wanted = {values[f] for f in ("accountManagerId", "commissionHolderId") if values.get(f) is not None}
    if not wanted:
        return
    found = identity_store.users_by_id(tenant, wanted)
    for field in ("accountManagerId", "commissionHolderId"):
        user_id = values.get(field)
        if user_id is not None:
            user = found.get(user_id)
            if not user or user.get("customerAccess") == identity.ACCESS_CUSTOMER:
                raise ValidationError(f"{field} {user_id} is not a staff user of this tenant", field=field)


def get_customer(*, principal: Principal, customer_id: int) -> dict[str, Any]:
    """The customer, or NotFoundError if it does not exist or is outside the caller's scope."""
    principal.require_read()
    record = store.get(principal.tenant_id, customer_id)
    if record is None or not principal.may_see_customer(record):
        raise NotFoundError(f"customer {customer_id} not found")
    audit.touch("customer", customer_id)
    return record


def customer_by_account_number(*, principal: Principal, account_number: str) -> dict[str, Any]:
    customer_id = store.id_by_account_number(principal.tenant_id, account_number)
    if customer_id is None:
        raise NotFoundError(f"account {account_number} not found", field="accountNumber")
    return get_customer(principal=principal, customer_id=customer_id)


def customer_id_for_account(*, tenant: str, account_number: str) -> int:
    customer_id = store.id_by_account_number(tenant, account_number)
    if customer_id is None:
        raise NotFoundError(f"account {account_number} not found", field="accountNumber")
    return customer_id


def list_customers(*, principal: Principal, page: Page, active: bool | None = None) -> list[dict[str, Any]]:
    """Customers visible to the caller, in id order (a Query on the narrowest key)."""
    principal.require_read()
    if active is not None:
        page = Page(id_after=page.id_after, limit=page.limit, offset=page.offset,
                    updated_since=page.updated_since, where=lambda c: rules.is_active(c) == active)
    tenant = principal.tenant_id
    access = principal.customer_access
    if access == identity.ACCESS_CUSTOMER:
        own = store.get(tenant, principal.customer_id or 0)
        candidates = [own] if own and own["id"] > page.id_after else []
        if page.updated_since:
            candidates = [c for c in candidates if c["updatedAt"] >= page.updated_since]
        if page.where:
            candidates = [c for c in candidates if page.where(c)]
        return candidates[page.offset:page.offset + page.limit]
    found = store.list_page(tenant, page,
                            manager_id=principal.user_id if access == identity.ACCESS_MANAGER else None,
                            commission_holder_id=principal.user_id if access == identity.ACCESS_COMMISSION else None)
    for record in found:
        audit.touch("customer", record["id"])
    return found


def update_customer(*, principal: Principal, customer_id: int,
                    changes: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Apply a partial update; returns (customer, changed). Nothing is written
    when every given value equals the stored one. A concurrent update makes us
    re-read and re-apply (services.retry), so neither update is lost."""
    from chalicelib.domain.customers.account_input import parse_customer_write  # local: pydantic, for writes only

    principal.require_write()
    values = parse_customer_write(changes)
    if "name" in values and not values["name"]:
        raise ValidationError("name cannot be empty", field="name")
    if "accountNumber" in values and values["accountNumber"] is None:
        raise ValidationError("accountNumber cannot be removed", field="accountNumber")
    if "creditLimit" in values:
        values["creditLimit"] = as_money(values["creditLimit"])
    for field in ("accountManagerId", "commissionHolderId"):
        if field in values and principal.customer_access != identity.ACCESS_ALL:
            raise PermissionDeniedError(f"only users with access to all customers may change {field}")
    _check_staff_users(principal.tenant_id, values)
    def attempt() -> tuple[dict[str, Any], bool]:
        current = get_customer(principal=principal, customer_id=customer_id)
        effective = {k: v for k, v in values.items() if differs(current.get(k), v)}
        if not effective:
            return current, False
        return store.update(principal.tenant_id, current, effective), True

    return retry.until_settled(attempt, what=f"customer {customer_id}")


def differs(stored: Any, given: Any) -> bool:
    # DynamoDB returns 100 for a stored Decimal('100.00000'): compare money as money.
    if isinstance(given, Decimal) and stored is not None:
        return as_money(stored) != given
    return bool(stored != given)


def perform_action(*, principal: Principal, customer_id: int, name: str | None,
                   params: Mapping[str, Any]) -> dict[str, Any]:
    """drop, reinstate or generatePIN (see domain.customer_items.CUSTOMER_ACTIONS)."""
    return actions.perform(
        principal=principal, etype=CUSTOMER, resource="customer", actions=CUSTOMER_ACTIONS,
        status_names=rules.STATUS_NAMES, name=name, params=params,
        load=lambda: get_customer(principal=principal, customer_id=customer_id))

"""Services, features and notes of customers: create under a customer, read,
list (all or one customer's), update, actions, and expansion in batches.
Every read and write is checked against the caller's customer scope."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Mapping

from chalicelib.domain.customers import items as rules
from chalicelib.domain import identity
from chalicelib.domain.common.actions import Action
from chalicelib.domain.errors import NotFoundError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.domain.money.amounts import as_money
from chalicelib.services.common import actions
from chalicelib.services.common import audit
from chalicelib.services.common import retry
from chalicelib.services.customers import accounts as customer_service
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.entities import EntityType, Page
from chalicelib.store.dynamo.schema import FEATURE, NOTE, SERVICE



@dataclass(frozen=True)
class ChildResource:
    """A resource that belongs to one customer (``customerId``)."""

    name: str
    etype: EntityType | None
    is_active: Callable[[Mapping[str, Any]], bool] | None = None
    status_names: Mapping[int, str] | None = None
    actions: Mapping[str, Action] = field(default_factory=dict)
    initial: Mapping[str, Any] = field(default_factory=dict)
    # Reads of a resource kept by another capability in its own layout (the
    # number inventory): get_one / list_page / children_of with the signatures
    # of entities' functions minus the EntityType. Such a resource is read-only
    # here (etype None): create, update and actions belong to its owner.
    reader: Any = None


def _get_one(resource: ChildResource, tenant: str, item_id: int) -> dict[str, Any] | None:
    if resource.reader is not None:
        return resource.reader.get_one(tenant, item_id)
    assert resource.etype is not None
    return entities.get_one(resource.etype, tenant, item_id)


def _writable(resource: ChildResource) -> EntityType:
    if resource.etype is None:
        raise ValidationError(f"{resource.name}s are read-only here", field="id")
    return resource.etype


SERVICES = ChildResource(
    "service", SERVICE,
    is_active=rules.service_is_active, status_names=rules.SERVICE_STATUS_NAMES, actions=rules.SERVICE_ACTIONS,
    initial={"status": rules.SERVICE_PENDING, "quantity": 1})
FEATURES = ChildResource(
    "feature", FEATURE,
    is_active=rules.feature_is_active, status_names=rules.FEATURE_STATUS_NAMES, actions=rules.FEATURE_ACTIONS,
    initial={"status": rules.FEATURE_ACTIVE})
NOTES = ChildResource("note", NOTE)


def visible_customer_ids(principal: Principal) -> set[int] | None:
    """The customers a scoped user sees (None: all of the tenant's)."""
    if principal.customer_access == identity.ACCESS_ALL:
        return None
    if principal.customer_access == identity.ACCESS_CUSTOMER:
        return {principal.customer_id} if principal.customer_id else set()
    found: set[int] = set()
    page = Page(limit=customer_service.SCOPE_PAGE)
    while True:
        batch = customer_service.list_customers(principal=principal, page=page)
        found.update(c["id"] for c in batch)
        if len(batch) < page.limit:
            return found
        page = Page(id_after=batch[-1]["id"], limit=page.limit)


def check_customer(principal: Principal, customer_id: Any) -> None:
    """NotFoundError unless the customer exists in the caller's scope. Users who
    see all customers skip the read: the tenant key already isolates them."""
    if principal.customer_access != identity.ACCESS_ALL:
        customer_service.get_customer(principal=principal, customer_id=int(customer_id))


def create(*, principal: Principal, resource: ChildResource, customer_id: int,
           fields: Mapping[str, Any]) -> dict[str, Any]:
    """A new child of the customer, with the resource's initial status."""
    from chalicelib.domain.customers.item_input import parse_write  # local: pydantic, for writes only

    principal.require_write()
    values = parse_write(resource.name, fields, creating=True)
    customer_service.get_customer(principal=principal, customer_id=customer_id)
    record = entities.create(_writable(resource), principal.tenant_id,
                             {**resource.initial, **_stored(values), "customerId": customer_id,
                              "createdBy": principal.user_id})
    audit.touch(resource.name, record["id"])
    return record


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (as_money(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


def get(*, principal: Principal, resource: ChildResource, item_id: int) -> dict[str, Any]:
    principal.require_read()
    record = _get_one(resource, principal.tenant_id, item_id)
    if record is None:
        raise NotFoundError(f"{resource.name} {item_id} not found")
    try:
        check_customer(principal, record["customerId"])
    except NotFoundError:
        raise NotFoundError(f"{resource.name} {item_id} not found") from None
    audit.touch(resource.name, item_id)
    return record


def list_items(*, principal: Principal, resource: ChildResource, page: Page, customer_id: int | None = None,
               active: bool | None = None) -> list[dict[str, Any]]:
    """In id order: one customer's (ByParent prefix) or every visible one's."""
    principal.require_read()
    conditions: list[Callable[[Mapping[str, Any]], bool]] = []
    if active is not None:
        if resource.is_active is None:
            raise ValidationError(f"{resource.name}s have no status: 'active' does not apply", field="active")
        is_active = resource.is_active
        conditions.append(lambda r: is_active(r) == active)
    if customer_id is None and principal.customer_access == identity.ACCESS_CUSTOMER:
        customer_id = principal.customer_id or 0
    if customer_id is not None:
        customer_service.get_customer(principal=principal, customer_id=customer_id)
    else:
        visible = visible_customer_ids(principal)
        if visible is not None:
            conditions.append(lambda r: r.get("customerId") in visible)
    where = (lambda r: all(c(r) for c in conditions)) if conditions else None
    page = Page(id_after=page.id_after, limit=page.limit, offset=page.offset,
                updated_since=page.updated_since, where=where)
    if resource.reader is not None:
        found = resource.reader.list_page(principal.tenant_id, page, parent_id=customer_id)
    else:
        found = entities.list_page(_writable(resource), principal.tenant_id, page, parent_id=customer_id)
    for record in found:
        audit.touch(resource.name, record["id"])
    return found


def children(*, principal: Principal, resource: ChildResource, customer_ids: list[int],
             active_only: bool = False) -> dict[int, list[dict[str, Any]]]:
    """Children of customers the caller has already read (expansion): one Query
    over the ByParent range of the page of customers, never one per customer."""
    principal.require_read()
    where = resource.is_active if active_only and resource.is_active else None
    if resource.reader is not None:
        return resource.reader.children_of(principal.tenant_id, customer_ids, where=where)
    return entities.children_of(_writable(resource), principal.tenant_id, customer_ids, where=where)


def update(*, principal: Principal, resource: ChildResource, item_id: int,
           changes: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Partial update; (record, changed). Nothing is written when nothing differs;
    a concurrent update is re-read and re-applied, so no update is lost."""
    from chalicelib.domain.customers.item_input import parse_write  # local: pydantic, for writes only

    principal.require_write()
    values = _stored(parse_write(resource.name, changes, creating=False))
    def attempt() -> tuple[dict[str, Any], bool]:
        current = get(principal=principal, resource=resource, item_id=item_id)
        effective = {k: v for k, v in values.items() if customer_service.differs(current.get(k), v)}
        if not effective:
            return current, False
        return entities.update(_writable(resource), principal.tenant_id, current, effective), True

    return retry.until_settled(attempt, what=f"{resource.name} {item_id}")


def perform_action(*, principal: Principal, resource: ChildResource, item_id: int, name: str | None,
                   params: Mapping[str, Any]) -> dict[str, Any]:
    return actions.perform(
        principal=principal, etype=_writable(resource), resource=resource.name, actions=resource.actions,
        status_names=resource.status_names, name=name, params=params,
        load=lambda: get(principal=principal, resource=resource, item_id=item_id))

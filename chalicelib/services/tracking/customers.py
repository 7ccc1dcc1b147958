"""Customers as the call-tracking API sees them: the same customers as every
other surface (services.customers does the work), with the tracking
vocabulary and custom fields. A dropped customer (Ex-Customer) is gone from
this surface: DELETE drops, as the billing API's ``drop`` action does."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib import clock
from chalicelib.domain.customers import accounts as customer_rules
from chalicelib.domain import tracking as rules
from chalicelib.domain.customers.items import CUSTOMER_ACTIONS
from chalicelib.domain.errors import (
    ActionPermissionError, DialtoneError, NotFoundError, PermissionDeniedError, UnknownFieldError, ValidationError,
)
from chalicelib.domain.identity import Principal
from chalicelib.services.common import actions
from chalicelib.services.customers import accounts
from chalicelib.services.tracking import fields
from chalicelib.store.tracking import customers as customer_store, sources as source_store
from chalicelib.store.dynamo.entities import Page

# The document's names -> the domain's.
WRITABLE = {"name": "name", "custnr": "accountNumber", "corporateid": "companyNumber", "email": "email"}
MAX_LISTED = 100_000


def _visible(record: Mapping[str, Any]) -> bool:
    return record.get("status", customer_rules.STATUS_CUSTOMER) != customer_rules.STATUS_EX_CUSTOMER


def get_customer(*, principal: Principal, customer_id: int) -> dict[str, Any]:
    record = accounts.get_customer(principal=principal, customer_id=customer_id)
    if not _visible(record):
        raise NotFoundError(f"customer {customer_id} not found", field="customer_id")
    return record


def customer_ids_in_scope(*, principal: Principal, customer_id: int | None) -> list[int]:
    """The one customer named (checked to be in the caller's scope), or every
    customer the caller may see: whose sub-resources a list covers."""
    if customer_id is not None:
        get_customer(principal=principal, customer_id=customer_id)
        return [customer_id]
    visible, _ = list_customers(principal=principal, paging=rules.Paging(0, MAX_LISTED))
    return [c["id"] for c in visible]


def owned_record(*, principal: Principal, record: Mapping[str, Any] | None, customer_id: int | None,
                 not_found: NotFoundError) -> dict[str, Any]:
    """``record`` (a source, a greeting) if it exists, belongs to ``customer_id``
    when one is given, and its customer is visible to the caller; else
    ``not_found``, the same answer in all three cases, so another customer's
    ids reveal nothing."""
    if record is None or (customer_id is not None and record["customerId"] != customer_id):
        raise not_found
    try:
        get_customer(principal=principal, customer_id=record["customerId"])
    except NotFoundError:
        raise not_found from None
    return dict(record)


def list_customers(*, principal: Principal, paging: rules.Paging) -> tuple[list[dict[str, Any]], int]:
    """(the page, the total) of the customers the caller may see, in id order."""
    found = accounts.list_customers(principal=principal, page=Page(limit=MAX_LISTED))
    visible = [c for c in found if _visible(c)]
    return visible[paging.offset:paging.offset + paging.pagesize], len(visible)


def _domain_fields(principal: Principal, given: Mapping[str, Any], *, creating: bool,
                   current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    for name in given:
        if name not in WRITABLE and not name.startswith("custom_"):
            raise UnknownFieldError(f"unknown field '{name}'", field=name)
    custom = rules.custom_values(given, fields.definitions(principal.tenant_id), "customer")
    values: dict[str, Any] = {}
    for name, domain_name in WRITABLE.items():
        if name in given:
            value = given[name]
            if value is not None and not isinstance(value, str):
                value = str(value)
            if name in ("custnr", "name") and not (value or "").strip():
                if name == "name" or not creating:
                    raise ValidationError(f"{name} cannot be empty", field=name)
                continue  # custnr left empty on create: one is allocated
            values[domain_name] = value.strip() if isinstance(value, str) else value
    if creating and not values.get("name"):
        raise ValidationError("name is required", field="name")
    if custom:
        merged = {**((current or {}).get("customFields") or {}), **custom}
        values["customFields"] = {k: v for k, v in merged.items() if v is not None} or None
    return values


def _renamed(error: DialtoneError) -> DialtoneError:
    # The domain names its fields; this surface's client knows the document's names.
    back = {v: k for k, v in WRITABLE.items()}
    if error.field in back:
        renamed = type(error)(error.message.replace(error.field, back[error.field]), field=back[error.field])
        return renamed
    return error


def create_customer(*, principal: Principal, given: Mapping[str, Any]) -> dict[str, Any]:
    principal.require_write()
    values = _domain_fields(principal, given, creating=True)
    try:
        return accounts.create_customer(principal=principal, fields=values)
    except DialtoneError as error:
        raise _renamed(error) from None


def update_customer(*, principal: Principal, customer_id: int, given: Mapping[str, Any]) -> dict[str, Any]:
    """PUT updates only: an unknown customer is 404, never created."""
    principal.require_write()
    current = get_customer(principal=principal, customer_id=customer_id)
    values = _domain_fields(principal, given, creating=False, current=current)
    if not values:
        return current
    try:
        record, _ = accounts.update_customer(principal=principal, customer_id=customer_id, changes=values)
    except DialtoneError as error:
        raise _renamed(error) from None
    return record


def drop_customer(*, principal: Principal, customer_id: int) -> dict[str, Any]:
    """Drop the customer (Ex-Customer from today); refused with a reason while
    it holds active tracking numbers. The drop's write is conditional on the
    count of active sources that each source's own transaction keeps, and a
    source's transaction on the customer not being an Ex-Customer, so a drop
    racing a new source cannot leave an Ex-Customer with a live source: one
    of the two fails (store/tracking/customers.py)."""
    principal.require_write()
    current = get_customer(principal=principal, customer_id=customer_id)
    # Sources from before the count was kept are seen here (and named).
    active = [s for s in source_store.sources_of(principal.tenant_id, customer_id) if s.get("active")]
    if active:
        raise PermissionDeniedError(
            f"customer {customer_id} has {len(active)} active tracking number(s) (sources "
            f"{', '.join(str(s['id']) for s in active[:10])}); delete those sources first", field="customer_id")
    raced = PermissionDeniedError(f"customer {customer_id} has an active tracking number (a source was created "
                                  "meanwhile); delete its sources first", field="customer_id")
    try:
        return actions.perform(
            principal=principal, etype=None, resource="customer", actions=CUSTOMER_ACTIONS,
            status_names=customer_rules.STATUS_NAMES, name="drop", params={"dateDrop": clock.now_iso()[:10]},
            load=lambda: accounts.get_customer(principal=principal, customer_id=current["id"]),
            write=lambda record, changes: customer_store.drop_customer(principal.tenant_id, record, changes,
                                                                       failure=raced))
    except ActionPermissionError as error:
        raise PermissionDeniedError(error.message, field="customer_id") from None

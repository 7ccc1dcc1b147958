"""Sources: where calls come from (a campaign, a page, a listing), each with
the tracking number callers dial.

A source's number is a number of the tenant's inventory sold to the customer
through the existing number sale (services.customer_numbers.assign: charged
once as a one-number order, never sold twice), or a number the customer
already owns that no active source holds (a number moving from a deleted
source to a new one: no second charge). While a source is active it holds
its number (one live claim per number, written in the source's own
transaction) and a holding period records from when to when, so calls are
attributed to the source that held the number when they started.
DELETE deactivates the source, ends its holding period and releases the
number as the inventory's rules say: the customer's number becomes
``inactive`` (owned, not routed; a new source may take it again).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from chalicelib.domain.customers import accounts as customer_rules
from chalicelib.domain.numbers import inventory as number_rules
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import (
    NotFoundError, NumberUnavailableError, UnknownFieldError, ValidationError,
)
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.services.numbers import inventory, sales as customer_numbers
from chalicelib.services.tracking import customers, fields
from chalicelib.store.numbers import inventory as number_store
from chalicelib.store.tracking import sources as store
from chalicelib.store.dynamo.table import Transaction
from chalicelib import clock

CREATE_FIELDS = ("name", "number", "forward_to", "areacode", "state", "tollfree", "active", "customer_id",
                 "pool_size")
UPDATE_FIELDS = ("name", "forward_to", "customer_id", "source_id")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
SEARCH_CANDIDATES = 10


def _forward_to(value: Any) -> str | None:
    text = re.sub(r"[\s().-]", "", str(value or ""))
    if not text:
        return None
    if not text.startswith("+"):
        text = "+" + (text if len(text) > 10 else "1" + text)
    if not _E164.match(text):
        raise ValidationError("forward_to must be a phone number in E.164 (+14155550100)", field="forward_to")
    return text


def _name(value: Any) -> str:
    text = str(value or "").strip()
    if not text or len(text) > rules.NAME_MAX:
        raise ValidationError(f"name must be 1-{rules.NAME_MAX} characters", field="name")
    return text


def get_source(*, principal: Principal, source_id: int, customer_id: int | None = None) -> dict[str, Any]:
    """The source if its customer is visible to the caller (and is
    ``customer_id`` when given); NotFoundError otherwise, as for none."""
    principal.require_read()
    record = customers.owned_record(
        principal=principal, record=store.get_source(principal.tenant_id, source_id), customer_id=customer_id,
        not_found=NotFoundError(f"source {source_id} not found", field="source_id"))
    audit.touch("source", source_id)
    return record


def list_sources(*, principal: Principal, customer_id: int | None, paging: rules.Paging
                 ) -> tuple[list[dict[str, Any]], int]:
    principal.require_read()
    ids = customers.customer_ids_in_scope(principal=principal, customer_id=customer_id)
    return store.sources_page(principal.tenant_id, customer_ids=ids, offset=paging.offset, limit=paging.pagesize)


def create_source(*, principal: Principal, customer_id: int, given: Mapping[str, Any]) -> dict[str, Any]:
    """A new active source holding a tracking number: the requested ``number``
    or one found by ``areacode`` / ``state`` / ``tollfree``."""
    principal.require_write()
    for name in given:
        if name not in CREATE_FIELDS and not name.startswith("custom_"):
            raise UnknownFieldError(f"unknown field '{name}'", field=name)
    name = _name(given.get("name"))
    forward_to = _forward_to(given.get("forward_to"))
    custom = rules.custom_values(given, fields.definitions(principal.tenant_id), "source")
    if str(given.get("active", "1")).strip() not in ("1", "true", ""):
        raise ValidationError("a new source is active (active=1); deactivate it with DELETE", field="active")
    if given.get("pool_size") not in (None, "", "0"):
        raise ValidationError("pools are built with POST /sources/{id}/number (see the OpenAPI description)",
                              field="pool_size")
    customer = customers.get_customer(principal=principal, customer_id=customer_id)
    tenant = principal.tenant_id
    wanted = given.get("number")
    criteria = None if wanted else criteria_key(given)
    candidates = ([number_rules.parse_number(wanted, field="number")] if wanted
                  else candidates_for(principal, customer, given, criteria=str(criteria)))
    source_id = store.allocate_id(tenant)
    last_error: Exception = NumberUnavailableError("no available number matches", field="number")
    for number in candidates:
        try:
            held = _take_number(principal, customer, number, criteria=criteria)
        except NumberUnavailableError as error:
            last_error = error
            continue
        since = clock.now_iso()
        tx = Transaction()
        holding_source(tx, tenant, customer_id=customer["id"], number=number, source_id=source_id, since=since)
        store.count_active_sources(tx, tenant, customer["id"], 1)
        try:
            record = store.create_source(tenant, {
                "customerId": customer["id"], "name": name, "number": number, "forwardTo": forward_to,
                "active": True, "holdingSince": since,
                "customFields": {k: v for k, v in custom.items() if v is not None} or None, "acquired": held,
            }, entity_id=source_id, also=tx)
        except NumberUnavailableError as error:
            # Another source took the number after our check: the next candidate.
            last_error = error
            continue
        audit.touch("source", source_id)
        return record
    raise last_error


def holding_source(tx: Transaction, tenant: str, *, customer_id: int, number: str, source_id: int,
                   since: str) -> None:
    """The writes that make ``number`` held by the source, in its transaction:
    the live claim and holding period, the completion of a sale recorded for
    it, and the check that the customer has not been dropped meanwhile."""
    store.customer_not_in_status(tx, tenant, customer_id, status=customer_rules.STATUS_EX_CUSTOMER,
                                 failure=NotFoundError(f"customer {customer_id} not found", field="customer_id"))
    store.settle_pending_sale(tx, tenant, customer_id, number)
    store.add_holding(tx, tenant, number=number, source_id=source_id, customer_id=customer_id, since=since,
                      failure=NumberUnavailableError(f"number {number} is held by another active source",
                                                     field="number"))


def criteria_key(given: Mapping[str, Any], scope: str = "source") -> str:
    """The search a request asked for, as recorded with a sale made for it."""
    tollfree = _tollfree(given)
    return (f"{scope}|areacode={str(given.get('areacode') or '').strip()}"
            f"|state={str(given.get('state') or '').strip().upper()}|tollfree={int(tollfree)}")


def candidates_for(principal: Principal, customer: Mapping[str, Any], given: Mapping[str, Any], *,
                   criteria: str) -> list[str]:
    """Numbers already sold to the customer for this same search whose source
    never committed (a failure after the sale: the retry takes them without a
    second charge), then the inventory's available numbers that match."""
    pending = store.pending_sales(principal.tenant_id, customer["id"], criteria=criteria)
    try:
        found = _search(principal, given)
    except NumberUnavailableError:
        if not pending:
            raise
        found = []
    return list(dict.fromkeys([*pending, *found]))


def _tollfree(given: Mapping[str, Any]) -> bool:
    return str(given.get("tollfree") or "").strip().lower() in ("1", "true", "yes")


def _search(principal: Principal, given: Mapping[str, Any]) -> list[str]:
    tollfree = _tollfree(given)
    areacode = str(given.get("areacode") or "").strip()
    state = given.get("state")
    if not tollfree and not areacode and not state:
        raise ValidationError("give number, or areacode / state / tollfree=1 to pick one", field="number")
    if areacode and not re.fullmatch(r"[2-9][0-9]{2}", areacode):
        raise ValidationError("areacode must be a 3-digit NANP area code", field="areacode")
    if tollfree:
        prefixes = [areacode] if areacode else list(number_rules.TOLLFREE_PREFIXES)
        found: list[str] = []
        for prefix in prefixes:
            criteria = number_rules.criteria(category=number_rules.TOLLFREE, state=None, npanxx=None, city=None,
                                             tfn_prefix=prefix)
            found += [i["number"] for i in inventory.search(principal=principal, criteria=criteria,
                                                            limit=SEARCH_CANDIDATES)]
            if found:
                break
        return found
    states = [number_rules.parse_state(state)] if state else inventory.available_states(principal=principal)
    found = []
    for st in states:
        criteria = number_rules.Criteria(category=number_rules.LANDLINE, state=st, npanxx=areacode or None)
        found += [i["number"] for i in inventory.search(principal=principal, criteria=criteria,
                                                        limit=SEARCH_CANDIDATES)]
        if len(found) >= SEARCH_CANDIDATES:
            break
    if not found:
        raise NumberUnavailableError("no available number matches areacode / state", field="areacode")
    return found


def _take_number(principal: Principal, customer: Mapping[str, Any], number: str, *,
                 criteria: str | None = None) -> str:
    """The number is the customer's afterwards: already owned and free of any
    active source ("owned"), or bought now through the number sale ("sold").
    A sale for a search (``criteria``) is recorded first: if the source's
    transaction does not follow, the same request again takes that number
    (as "owned") instead of buying another (candidates_for)."""
    tenant = principal.tenant_id
    item = number_store.get_number(tenant, number)
    if item is not None and item.get("customerId") == customer["id"] and item.get("status") in number_rules.OWNED:
        refusal = (f"number {number} is cancelled" if item["status"] == number_rules.CANCELLED
                   else f"number {number} is held by another active source"
                   if store.live_holder(tenant, number) is not None else None)
        if refusal is not None:
            if criteria is not None:
                store.drop_pending_sale(tenant, customer["id"], number)  # not ours to complete any more
            raise NumberUnavailableError(refusal, field="number")
        if item["status"] != number_rules.ACTIVE:
            _set_number_status(principal, customer, number, number_rules.ACTIVE)
        return "owned"
    if criteria is not None:
        store.record_pending_sale(tenant, customer["id"], number, criteria=criteria)
    try:
        customer_numbers.assign(principal=principal, customer_id=customer["id"], number=number)
    except NumberUnavailableError:
        if criteria is not None:
            store.drop_pending_sale(tenant, customer["id"], number)
        raise
    return "sold"


def _set_number_status(principal: Principal, customer: Mapping[str, Any], number: str, status: str) -> None:
    inventory.update_numbers(principal=principal, customer=customer, numbers=[number], status=status)


def update_source(*, principal: Principal, source_id: int, customer_id: int | None,
                  given: Mapping[str, Any]) -> dict[str, Any]:
    """PUT: name, forward_to, custom fields. The number is not changed by PUT
    (a new source takes it); an inactive source stays inactive."""
    principal.require_write()
    for name in given:
        if name == "number":
            raise ValidationError("a source's number cannot change; delete the source and create one with "
                                  "the number", field="number")
        if name == "active":
            raise ValidationError("active is changed by DELETE (deactivate); a new source activates",
                                  field="active")
        if name not in UPDATE_FIELDS and not name.startswith("custom_"):
            raise UnknownFieldError(f"unknown field '{name}'", field=name)
    current = get_source(principal=principal, source_id=source_id, customer_id=customer_id)
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = _name(given["name"])
    if "forward_to" in given:
        changes["forwardTo"] = _forward_to(given["forward_to"])
    custom = rules.custom_values(given, fields.definitions(principal.tenant_id), "source")
    if custom:
        merged = {**(current.get("customFields") or {}), **custom}
        changes["customFields"] = {k: v for k, v in merged.items() if v is not None} or None
    if not changes:
        return current
    return store.update_source(principal.tenant_id, current, changes)


def delete_source(*, principal: Principal, source_id: int, customer_id: int | None) -> dict[str, Any]:
    """Deactivate the source, end its holding and release the number (the
    customer's number becomes inactive). Deleting an inactive source again
    changes nothing."""
    principal.require_write()
    current = get_source(principal=principal, source_id=source_id, customer_id=customer_id)
    if not current.get("active"):
        return current
    tenant, until = principal.tenant_id, clock.now_iso()
    tx = Transaction()
    store.count_active_sources(tx, tenant, current["customerId"], -1)
    store.end_holding(tx, tenant, number=current["number"], source_id=current["id"],
                      since=current["holdingSince"], until=until)
    for number, since in (current.get("poolSince") or {}).items():
        store.end_holding(tx, tenant, number=number, source_id=current["id"], since=since, until=until)
    record = store.update_source(tenant, current, {"active": False, "deactivatedAt": until}, also=tx)
    customer = customers.get_customer(principal=principal, customer_id=current["customerId"])
    for number in [current["number"], *(current.get("poolSince") or {})]:
        try:
            _set_number_status(principal, customer, number, number_rules.INACTIVE)
        except NotFoundError:
            pass  # the number is no longer the customer's (moved by the carrier API): nothing to release
    return record

"""Phone numbers as the billing platform API sees them: children of a customer.

The number inventory and its life cycle (available -> reserved -> ordered ->
active ...) belong to the numbers capability (issue 4). This module is the one
place the billing API learns what a number is: its entity type and what
"active" means. It reads numbers the generic way (entities.list_page /
children_of), so at the merge NUMBER and ``is_active`` are pointed at the
inventory's definitions and nothing else changes.
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain.identity import Principal
from chalicelib.services import audit
from chalicelib.services import customers as customer_service
from chalicelib.services.customer_items import ChildResource
from chalicelib.store import entities
from chalicelib.store.entities import EntityType

NUMBER = EntityType(kind="NUMBER", parent_kind="CUSTOMER", parent_field="customerId")
ACTIVE_STATUS = "active"


def is_active(record: Mapping[str, Any]) -> bool:
    return record.get("status") == ACTIVE_STATUS


NUMBERS = ChildResource("number", NUMBER, is_active=is_active)


def assign_number(*, principal: Principal, customer_id: int, number: str, status: str = ACTIVE_STATUS,
                  **fields: Any) -> dict[str, Any]:
    """A number held by a customer. Stands in for the inventory's order flow
    until the merge with issue 4 (tests and the admin CLI use it)."""
    principal.require_write()
    customer_service.get_customer(principal=principal, customer_id=customer_id)
    record = entities.create(NUMBER, principal.tenant_id,
                             {**fields, "number": number, "status": status, "customerId": customer_id})
    audit.touch("number", record["id"])
    return record

"""Phone numbers as the billing platform API sees them: the inventory's
numbers (issue 4) that a customer owns, read-only.

Numbers are created by the inventory (import, port-in) and sold through the
carrier API's order flow; the billing API lists and reads them. Each number
item carries an integer ``id`` (per tenant, allocated when it is created) and
an id lookup item (``T#<t>#NUMBERID`` / <12-digit id> -> number):

  get by id        GetItem of the lookup, GetItem of the number
  one customer's   ByParent prefix <customer>#, ordered by id in memory
  all (visible)    Query of the lookup partition from idAfter, BatchGetItem of
                   the numbers, keeping those a customer owns
  expansion        ONE Query over the ByParent range of the page of customers

Only numbers a customer owns (status active, inactive or cancelled) are shown:
available and reserved ones are the inventory's, not a customer's.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from chalicelib.domain import numbers as rules
from chalicelib.services.customer_items import ChildResource
from chalicelib.store import entities
from chalicelib.store import numbers as store
from chalicelib.store.entities import Page


def is_active(record: Mapping[str, Any]) -> bool:
    return record.get("status") == rules.ACTIVE


def _owned(item: Mapping[str, Any] | None) -> bool:
    return (item is not None and item.get("id") is not None and item.get("customerId") is not None
            and item.get("status") in rules.OWNED)


def _changed_since(page: Page) -> Callable[[Mapping[str, Any]], bool]:
    since = page.updated_since
    return lambda item: since is None or str(item.get("updatedAt") or "") >= since


class InventoryNumbers:
    """The reads customer_items needs (see ChildResource.reader)."""

    def get_one(self, tenant: str, item_id: int) -> dict[str, Any] | None:
        item = store.number_by_id(tenant, item_id)
        return entities.public(item) if item is not None and _owned(item) else None

    def list_page(self, tenant: str, page: Page, *, parent_id: int | None = None) -> list[dict[str, Any]]:
        wanted = page.offset + page.limit
        changed = _changed_since(page)

        def keep(item: Mapping[str, Any]) -> bool:
            return (_owned(item) and item["id"] > page.id_after and changed(item)
                    and (page.where is None or page.where(item)))

        if parent_id is not None:
            found = sorted((i for i in store.owned(tenant, parent_id) if keep(i)), key=lambda i: i["id"])
        else:
            found = []
            for items in store.numbers_in_id_order(tenant, page.id_after, page_size=min(1000, max(wanted, 25))):
                found.extend(i for i in items if keep(i))
                if len(found) >= wanted:
                    break
        return [entities.public(i) for i in found[page.offset:wanted]]

    def children_of(self, tenant: str, parent_ids: Iterable[int],
                    where: Callable[[Mapping[str, Any]], bool] | None = None) -> dict[int, list[dict[str, Any]]]:
        grouped = store.owned_by_customers(tenant, parent_ids)
        return {customer: [entities.public(i) for i in sorted(items, key=lambda i: i["id"])
                           if _owned(i) and (where is None or where(i))]
                for customer, items in grouped.items()}


NUMBERS = ChildResource("number", None, is_active=is_active, reader=InventoryNumbers())

"""Trunk groups in the main table: TRUNK entities (store/dynamo/schema.py).

  T#<t>#TRUNK / <id>                          a trunk group, origination or termination (``direction``)
  ByParent T#<t>#CUSTOMER>TRUNK / <customer>#<id>   a customer's trunk groups
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.entities import Page
from chalicelib.store.dynamo.schema import TRUNK


def create(tenant: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return entities.create(TRUNK, tenant, fields)


def get(tenant: str, trunk_id: int) -> dict[str, Any] | None:
    return entities.get_one(TRUNK, tenant, trunk_id)


def trunks_of(tenant: str, customer_id: int, *, direction: str, limit: int = 1000) -> list[dict[str, Any]]:
    """The customer's trunk groups of one direction, in id order."""
    return entities.list_page(TRUNK, tenant, Page(limit=limit, where=lambda t: t.get("direction") == direction),
                              parent_id=customer_id)


def update(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` applied if the trunk is still as read (ConcurrentUpdateError otherwise)."""
    return entities.update(TRUNK, tenant, current, changes)

"""Domain records -> the document's field names (seed 004)."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain import voice as rules
from chalicelib.domain.identity import Principal


def account_summary(principal: Principal, customer: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": rules.opaque_id(principal.tenant_id, "ACCOUNT", customer["id"]), "name": customer.get("name", "")}


def account(principal: Principal, customer: Mapping[str, Any]) -> dict[str, Any]:
    return {**account_summary(principal, customer), "mbn": customer.get("voiceMbn", ""),
            "domain": customer.get("voiceDomain", "")}


def ddi(found: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": found["id"], "name": found["name"]}

"""What the voice use cases share: the account's flow as the domain sees it
(devices, DDIs, trunks and hooks by their opaque ids), and id parsing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from chalicelib.domain import voice as rules
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.identity import Principal
from chalicelib.store.voice import children as store
from chalicelib.store.dynamo.entities import EntityType

TRUNK_KIND, HOOK_KIND, DEVICE_KIND, CALL_KIND = "TRUNK", "VHOOK", "VDEVICE", "VCALL"


def oid(principal: Principal | str, kind: str, number: int) -> str:
    tenant = principal if isinstance(principal, str) else principal.tenant_id
    return rules.opaque_id(tenant, kind, number, uuid=True)


def parse(principal: Principal, kind: str, text: str, what: str) -> int:
    found = rules.parse_opaque_id(principal.tenant_id, kind, text, uuid=True)
    if found is None:
        raise NotFoundError(f"{what} '{text}' not found")
    return found


def child_or_404(principal: Principal, etype: EntityType, customer: Mapping[str, Any], kind: str, text: str,
                 what: str) -> dict[str, Any]:
    record = store.child(etype, principal.tenant_id, customer["id"], parse(principal, kind, text, what))
    if record is None:
        raise NotFoundError(f"{what} '{text}' not found")
    return record


@dataclass
class Flow:
    """An account's flow at one version: what device checks need."""

    version: int
    devices: dict[str, dict[str, Any]]          # opaque id -> definition
    records: dict[str, dict[str, Any]]          # opaque id -> stored record
    ddis: dict[str, dict[str, Any]] = field(default_factory=dict)
    trunks: set[str] = field(default_factory=set)
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def flow_hooks(self) -> set[str]:
        return {h for h, r in self.hooks.items() if r.get("app") == rules.FLOW_APP}


def definition(record: Mapping[str, Any]) -> dict[str, Any]:
    section = rules.DEVICE_TYPES[record["type"]]
    found = {"type": record["type"], "name": record["name"], section: record[section]}
    if record.get("extension"):
        found["extension"] = record["extension"]
    return found


def load_flow(principal: Principal, customer: Mapping[str, Any], *, full: bool = True) -> Flow:
    from chalicelib.services.voice import accounts, trunks

    tenant = principal.tenant_id
    version = store.flow_version(tenant, customer["id"])
    records = {oid(principal, DEVICE_KIND, r["id"]): r for r in store.children(store.DEVICE, tenant, customer["id"])}
    flow = Flow(version, {k: definition(r) for k, r in records.items()}, records)
    if full:
        flow.ddis = {d["id"]: d for d in accounts.active_numbers(principal=principal, customer=customer)}
        flow.trunks = {oid(principal, TRUNK_KIND, t["id"]) for t in trunks.records(principal, customer)}
        flow.hooks = {oid(principal, HOOK_KIND, h["id"]): h
                      for h in store.children(store.HOOK, tenant, customer["id"])}
    return flow


def refuse_if_used(flow: Flow, target: str, what: str) -> None:
    from chalicelib.domain.errors import InvalidStateError

    users = rules.references_to(flow.devices, target)
    if users:
        raise InvalidStateError(f"the {what} is used by device {', '.join(sorted(users))}; change those first")

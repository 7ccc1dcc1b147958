"""Flow devices of an account. Every write checks the whole flow it leaves
(references, DDIs, trunks, hooks, extensions, loops: domain.voice.check_flow)
and is conditional on the flow version it checked, so concurrent edits cannot
together break it."""
from __future__ import annotations

from typing import Any

from chalicelib.domain import voice as rules
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.services.voice import accounts
from chalicelib.services.voice.common import DEVICE_KIND, child_or_404, definition, load_flow, oid, refuse_if_used
from chalicelib.store.voice import children as store
from chalicelib.store.dynamo.table import Transaction


def list_devices(*, principal: Principal, account: str) -> list[dict[str, Any]]:
    customer = accounts.get_account(principal=principal, account=account)
    return store.children(store.DEVICE, principal.tenant_id, customer["id"])


def get_device(*, principal: Principal, account: str, device: str) -> dict[str, Any]:
    customer = accounts.get_account(principal=principal, account=account)
    record = child_or_404(principal, store.DEVICE, customer, DEVICE_KIND, device, "device")
    audit.touch("device", record["id"])
    return record


def _check(principal: Principal, flow: Any, device_id: str, fields: dict[str, Any]) -> None:
    devices = {**flow.devices, device_id: fields}
    rules.check_flow(devices, device_id, ddis=set(flow.ddis), trunks=flow.trunks, flow_hooks=flow.flow_hooks,
                     hooks=set(flow.hooks))


def create_device(*, principal: Principal, account: str, body: Any) -> dict[str, Any]:
    rules.require(principal, rules.CONFIGURE)
    fields = rules.device_input(body)
    customer = accounts.get_account(principal=principal, account=account)
    flow = load_flow(principal, customer)
    new_id = store.new_id(store.DEVICE, principal.tenant_id)
    _check(principal, flow, oid(principal, DEVICE_KIND, new_id), fields)
    tx = Transaction()
    store.bump_flow(tx, principal.tenant_id, customer["id"], flow.version)
    record = store.create_child(store.DEVICE, principal.tenant_id, {**fields, "customerId": customer["id"]},
                                entity_id=new_id, also=tx)
    audit.touch("device", record["id"])
    return record


def update_device(*, principal: Principal, account: str, device: str, body: Any) -> None:
    rules.require(principal, rules.CONFIGURE)
    fields = rules.device_input(body, device_id=device)
    customer = accounts.get_account(principal=principal, account=account)
    current = child_or_404(principal, store.DEVICE, customer, DEVICE_KIND, device, "device")
    flow = load_flow(principal, customer)
    _check(principal, flow, oid(principal, DEVICE_KIND, current["id"]), fields)
    tx = Transaction()
    store.bump_flow(tx, principal.tenant_id, customer["id"], flow.version)
    # A full replacement: the other type's section and a dropped extension go.
    changes: dict[str, Any] = {name: None for name in rules.DEVICE_TYPES.values() if name in current}
    changes["extension"] = None
    changes.update(fields)
    store.update_child(store.DEVICE, principal.tenant_id, current, changes, also=tx)


def delete_device(*, principal: Principal, account: str, device: str) -> None:
    rules.require(principal, rules.CONFIGURE)
    customer = accounts.get_account(principal=principal, account=account)
    current = child_or_404(principal, store.DEVICE, customer, DEVICE_KIND, device, "device")
    flow = load_flow(principal, customer, full=False)
    refuse_if_used(flow, oid(principal, DEVICE_KIND, current["id"]), "device")
    tx = Transaction()
    store.bump_flow(tx, principal.tenant_id, customer["id"], flow.version)
    store.delete_child(store.DEVICE, principal.tenant_id, current, also=tx)


def view(principal: Principal, record: dict[str, Any]) -> dict[str, Any]:
    return {"id": oid(principal, DEVICE_KIND, record["id"]), **definition(record)}

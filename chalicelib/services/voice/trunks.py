"""SIP trunks of an account: the tenant's trunk records (the CDR statistics'
termination trunks, one model with the carrier API's), with the voice fields."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain.numbers import trunks as trunk_rules
from chalicelib.domain import voice as rules
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.store.dynamo.schema import TRUNK
from chalicelib.services.voice import accounts
from chalicelib.services.voice.common import TRUNK_KIND, child_or_404, load_flow, oid, refuse_if_used
from chalicelib.store.voice import children as store
from chalicelib.store.dynamo.table import Transaction

# What the carrier API's termination view needs of a trunk created here.
DEFAULT_PORTS = 30


def records(principal: Principal, customer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The account's SIP trunks (not its platform voice route: services/voice/cdr.py)."""
    return [t for t in store.children(TRUNK, principal.tenant_id, customer["id"])
            if t.get("direction") == trunk_rules.TERMINATION and not t.get("platformRoute")]


def list_trunks(*, principal: Principal, account: str) -> list[dict[str, Any]]:
    customer = accounts.get_account(principal=principal, account=account)
    return records(principal, customer)


def get_trunk(*, principal: Principal, account: str, trunk: str) -> dict[str, Any]:
    customer = accounts.get_account(principal=principal, account=account)
    return _trunk(principal, customer, trunk)


def _trunk(principal: Principal, customer: Mapping[str, Any], trunk: str) -> dict[str, Any]:
    from chalicelib.domain.errors import NotFoundError

    record = child_or_404(principal, TRUNK, customer, TRUNK_KIND, trunk, "trunk")
    if record.get("direction") != trunk_rules.TERMINATION or record.get("platformRoute"):
        raise NotFoundError(f"trunk '{trunk}' not found")
    audit.touch("trunk", record["id"])
    return record


def _stored(fields: Mapping[str, Any]) -> dict[str, Any]:
    # The carrier API's names for the same trunk (title, ipaddress) kept in step.
    return {**fields, "title": (fields["description"] or f"SIP trunk {fields['ip']}")[:100],
            "ipaddress": fields["ip"], "voice": True}


def create_trunk(*, principal: Principal, account: str, body: Any) -> dict[str, Any]:
    rules.require(principal, rules.CONFIGURE)
    fields = rules.trunk_input(body)
    customer = accounts.get_account(principal=principal, account=account)
    record = store.create_child(TRUNK, principal.tenant_id, {
        **_stored(fields), "customerId": customer["id"], "direction": trunk_rules.TERMINATION,
        "status": trunk_rules.ENABLED, "ports": DEFAULT_PORTS, "portsAssigned": DEFAULT_PORTS, "cpsAssigned": 0})
    audit.touch("trunk", record["id"])
    return record


def update_trunk(*, principal: Principal, account: str, trunk: str, body: Any) -> None:
    rules.require(principal, rules.CONFIGURE)
    fields = rules.trunk_input(body, trunk_id=trunk)
    customer = accounts.get_account(principal=principal, account=account)
    current = _trunk(principal, customer, trunk)
    store.update_child(TRUNK, principal.tenant_id, current, _stored(fields))


def delete_trunk(*, principal: Principal, account: str, trunk: str) -> None:
    """409 while a SIP_GATEWAY device names it; checked against the flow version written with the delete."""
    rules.require(principal, rules.CONFIGURE)
    customer = accounts.get_account(principal=principal, account=account)
    current = _trunk(principal, customer, trunk)
    flow = load_flow(principal, customer, full=False)
    refuse_if_used(flow, oid(principal, TRUNK_KIND, current["id"]), "trunk")
    tx = Transaction()
    store.bump_flow(tx, principal.tenant_id, customer["id"], flow.version)
    store.delete_child(TRUNK, principal.tenant_id, current, also=tx)

"""Hooks of an account: flow.generic (asked for the next verbs by FLOW_HOOK
devices and redirect verbs) and event.generic (sent every call event).

The signing secret is made when the hook is created and answered once
(``signingSecret``), and again only by an explicit rotation.

The credentials of a BASIC or BEARER hook are write-only and stored sealed
(auth/sealing.py, as TOTP seeds are: AES-256-GCM under the stage's sealing
key), opened only to deliver (``credentials_of``). The sealed text is JSON
``{"hookCredentials": {...}}``, so a value sealed for another use never reads
as a hook's credentials. Hooks saved before sealing hold them in clear: they
are read as they are until ``seal_hook_credentials`` (admin
``seal-hook-credentials``) seals them."""
from __future__ import annotations

import json
import secrets
from typing import Any, Mapping

from chalicelib.adapters import webhooks
from chalicelib.domain import voice as rules
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.services.voice import accounts
from chalicelib.services.voice.common import HOOK_KIND, child_or_404, load_flow, oid, refuse_if_used
from chalicelib.store.voice import children as child_store, deliveries as delivery_store
from chalicelib.store.dynamo.table import Transaction

MAX_DELIVERIES_PAGE = 200


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def list_hooks(*, principal: Principal, account: str) -> list[dict[str, Any]]:
    customer = accounts.get_account(principal=principal, account=account)
    return child_store.children(child_store.HOOK, principal.tenant_id, customer["id"])


def get_hook(*, principal: Principal, account: str, hook: str) -> dict[str, Any]:
    customer = accounts.get_account(principal=principal, account=account)
    record = child_or_404(principal, child_store.HOOK, customer, HOOK_KIND, hook, "hook")
    audit.touch("hook", record["id"])
    return record


def _fields(body: Any, hook: str | None = None) -> dict[str, Any]:
    fields = rules.hook_input(body, hook_id=hook)
    webhooks.check_url(fields["url"])
    # A replacement without credentials clears them.
    fields["credentials"] = _sealed(fields.get("credentials"))
    return fields


def _sealed(credentials: Mapping[str, str] | None) -> str | None:
    from chalicelib.auth import sealing

    return sealing.seal(json.dumps({"hookCredentials": dict(credentials)})) if credentials else None


def credentials_of(hook: Mapping[str, Any]) -> dict[str, str] | None:
    """The hook's credentials in clear, for a delivery: opened when sealed, as
    stored when saved before sealing existed, None without any."""
    from chalicelib.auth import sealing

    stored = hook.get("credentials")
    if not stored:
        return None
    if isinstance(stored, Mapping):
        return {str(k): str(v) for k, v in stored.items()}
    opened = json.loads(sealing.unseal(str(stored)) or "null")
    if not isinstance(opened, dict) or not isinstance(opened.get("hookCredentials"), dict):
        raise sealing.SealingError(f"hook {hook.get('id')}: its sealed value is not a hook's credentials")
    return {str(k): str(v) for k, v in opened["hookCredentials"].items()}


def seal_hook_credentials(*, tenant: str) -> int:
    """The migration: every hook of the tenant whose credentials are still in
    clear gets them sealed (each write conditional on the hook's version: one
    changed meanwhile is left to the next run). Returns how many; safe to run again."""
    from chalicelib.domain.errors import ConcurrentUpdateError

    sealed = 0
    for hook in child_store.every_hook(tenant):
        if not isinstance(hook.get("credentials"), Mapping):
            continue
        try:
            child_store.update_child(child_store.HOOK, tenant, hook, {"credentials": _sealed(hook["credentials"])})
        except ConcurrentUpdateError:
            continue
        sealed += 1
    return sealed


def create_hook(*, principal: Principal, account: str, body: Any) -> tuple[dict[str, Any], str]:
    """(hook, signing secret): the secret is shown once."""
    rules.require(principal, rules.CONFIGURE)
    fields = _fields(body)
    customer = accounts.get_account(principal=principal, account=account)
    secret = new_secret()
    record = child_store.create_child(child_store.HOOK, principal.tenant_id,
                                      {**fields, "customerId": customer["id"], "signingSecret": secret})
    audit.touch("hook", record["id"])
    return record, secret


def update_hook(*, principal: Principal, account: str, hook: str, body: Any) -> None:
    """A full replacement; a hook a FLOW_HOOK device uses must stay flow.generic."""
    rules.require(principal, rules.CONFIGURE)
    fields = _fields(body, hook)
    customer = accounts.get_account(principal=principal, account=account)
    current = child_or_404(principal, child_store.HOOK, customer, HOOK_KIND, hook, "hook")
    tx = Transaction()
    if current["app"] != fields["app"]:
        flow = load_flow(principal, customer, full=False)
        refuse_if_used(flow, oid(principal, HOOK_KIND, current["id"]), "hook")
        child_store.bump_flow(tx, principal.tenant_id, customer["id"], flow.version)
    child_store.update_child(child_store.HOOK, principal.tenant_id, current, fields, also=tx)


def rotate_secret(*, principal: Principal, account: str, hook: str) -> str:
    rules.require(principal, rules.CONFIGURE)
    customer = accounts.get_account(principal=principal, account=account)
    current = child_or_404(principal, child_store.HOOK, customer, HOOK_KIND, hook, "hook")
    secret = new_secret()
    child_store.update_child(child_store.HOOK, principal.tenant_id, current, {"signingSecret": secret})
    return secret


def delete_hook(*, principal: Principal, account: str, hook: str) -> None:
    rules.require(principal, rules.CONFIGURE)
    customer = accounts.get_account(principal=principal, account=account)
    current = child_or_404(principal, child_store.HOOK, customer, HOOK_KIND, hook, "hook")
    flow = load_flow(principal, customer, full=False)
    refuse_if_used(flow, oid(principal, HOOK_KIND, current["id"]), "hook")
    tx = Transaction()
    child_store.bump_flow(tx, principal.tenant_id, customer["id"], flow.version)
    child_store.delete_child(child_store.HOOK, principal.tenant_id, current, also=tx)


def deliveries(*, principal: Principal, account: str, hook: str, limit: int,
               before: str | None = None) -> list[dict[str, Any]]:
    """The hook's delivery log, newest call first: attempts and outcome of each event."""
    record = get_hook(principal=principal, account=account, hook=hook)
    return delivery_store.deliveries_of_hook(principal.tenant_id, record["id"],
                                             limit=min(limit, MAX_DELIVERIES_PAGE), before=before)


def event_hooks(tenant: str, customer_id: int) -> list[Mapping[str, Any]]:
    """The account's event.generic hooks by priority, then age: the order in which
    an event's deliveries are recorded and queued (not an order of arrival
    across hooks: services/voice/events.py says what order is guaranteed)."""
    found = [h for h in child_store.children(child_store.HOOK, tenant, customer_id) if h.get("app") == rules.EVENT_APP]
    return sorted(found, key=lambda h: (int(h.get("priority", 10)), h["id"]))

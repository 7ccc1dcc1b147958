"""Custom-field definitions ("defined by the partner and Freespee at
delivery": staff make them with the admin CLI; the API reads them) and the
Digest credentials the admin CLI hands out."""
from __future__ import annotations

import threading
import time
from typing import Any

from chalicelib import settings
from chalicelib.auth import digest, hashing as secrets
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.identity import Principal
from chalicelib.services.identity import users
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.schema import USER
from chalicelib.store.identity import users as identity
from chalicelib.store.tracking import fields as store

_cache: dict[str, tuple[float, list[rules.FieldDefinition]]] = {}
_lock = threading.Lock()


def define(*, tenant: str, entity: str, slot: int, name: str, kind: str, values: list[str]) -> dict[str, Any]:
    """Create or replace the definition of one slot of customers or sources."""
    if not identity.get_tenant(tenant):
        raise NotFoundError(f"tenant {tenant} not found", field="tenant")
    spec = rules.definition(entity=entity, slot=slot, name=name, kind=kind, values=values)
    record = store.put_definition(tenant, entity=spec.entity, slot=spec.slot, name=spec.name, kind=spec.kind,
                                  values=list(spec.values))
    forget(tenant)
    return record


def definitions(tenant: str) -> list[rules.FieldDefinition]:
    """The tenant's definitions, trusted for AUTH_CACHE_SECONDS by this
    process: a read of one customer then costs no extra request."""
    now = time.monotonic()
    cached = _cache.get(tenant)
    if cached is not None and cached[0] >= now:
        return cached[1]
    found = sorted((rules.from_record(r) for r in store.definitions(tenant)), key=lambda d: (d.entity, d.slot))
    with _lock:
        _cache[tenant] = (now + settings.auth_cache_seconds(), found)
    return found


def forget(tenant: str | None = None) -> None:
    with _lock:
        if tenant is None:
            _cache.clear()
        else:
            _cache.pop(tenant, None)


def list_definitions(*, principal: Principal) -> list[rules.FieldDefinition]:
    principal.require_read()
    return definitions(principal.tenant_id)


def issue_digest_password(*, tenant: str, user: str) -> dict[str, Any]:
    """A new random password for Digest only (API-only users included): the
    HA1 values are stored, the password is returned once and never stored."""
    record = users.find_user(tenant=tenant, user=user)
    password = secrets.new_password()
    entities.update(USER, tenant, record, {"digestHa1": secrets.digest_ha1(record["username"], password)})
    digest.forget(record["username"])
    return {"user": record["username"], "password": password, "realm": digest.REALM}

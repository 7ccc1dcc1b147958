"""Running an action on a resource: permission, parameters, state, one
conditional write. The state check and the write are bound by the version the
record was read with; a concurrent change makes us re-read and re-check."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from chalicelib.domain.common import actions as rules
from chalicelib.domain import identity
from chalicelib.domain.errors import ActionPermissionError
from chalicelib.domain.identity import Principal
from chalicelib.services.common import retry
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.entities import EntityType

Write = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def perform(*, principal: Principal, etype: EntityType | None, resource: str, actions: Mapping[str, rules.Action],
            status_names: Mapping[Any, str] | None, load: Callable[[], dict[str, Any]], name: str | None,
            params: Mapping[str, Any], write: Write | None = None) -> dict[str, Any]:
    """Apply the named action to the record ``load`` returns (scope already checked by it).
    ``write`` (current, changes) -> new record, conditional on the version read,
    for records kept in their own layout (numbers); entities.update otherwise."""
    action = rules.find(actions, name, resource)
    principal.require_write()
    if action.needs_full_access and not (principal.customer_access == identity.ACCESS_ALL or principal.is_admin):
        raise ActionPermissionError(f"the action '{action.name}' needs access to all customers")
    rules.check_parameters(action, params)

    def attempt() -> dict[str, Any]:
        current = load()
        if status_names is not None:
            rules.check_state(action, current.get("status"), status_names, resource)
        changes = action.apply(current, params)
        effective = {k: v for k, v in changes.items() if current.get(k) != v}
        if not effective:
            return current
        if write is not None:
            return write(current, effective)
        assert etype is not None
        return entities.update(etype, principal.tenant_id, current, effective)

    return retry.until_settled(attempt, what=resource)

"""Actions on resources (``POST /{resource}/{id}?action=NAME``): what each
needs and in which states it is valid. Pure rules; services apply them to a
record read with its version, so the state check and the write are one
conditional update (a concurrent change makes the service re-read and re-check).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Mapping

from chalicelib import clock
from chalicelib.domain.errors import (
    ActionFailedError, InvalidStateError, MissingParameterError, UnknownActionError,
)

Changes = dict[str, Any]


@dataclass(frozen=True)
class Action:
    name: str
    # Domain changes for (current record, parameters); parameters already checked.
    apply: Callable[[Mapping[str, Any], Mapping[str, Any]], Changes]
    valid_states: frozenset[Any] | None = None  # None: any state (integer codes, or a number's names)
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # Beyond write access: only users who see all customers (or administrators).
    needs_full_access: bool = False
    summary: str = ""


def find(actions: Mapping[str, Action], name: str | None, resource: str) -> Action:
    if not name:
        raise UnknownActionError(f"an action name is required (one of: {', '.join(actions) or 'none'})",
                                 field="action")
    action = actions.get(name)
    if action is None:
        known = ", ".join(actions) or "none"
        raise UnknownActionError(f"The action '{name}' is not recognised for this resource ({resource} "
                                 f"actions: {known})", field="action")
    return action


def check_parameters(action: Action, params: Mapping[str, Any]) -> None:
    for name in action.required:
        if params.get(name) in (None, ""):
            raise MissingParameterError(f"the action '{action.name}' requires the parameter '{name}'", field=name)
    allowed = set(action.required) | set(action.optional)
    for name in params:
        if name not in allowed:
            raise ActionFailedError(f"the action '{action.name}' has no parameter '{name}'"
                                    f" (accepted: {', '.join(sorted(allowed)) or 'none'})", field=name)


def check_state(action: Action, status: Any, names: Mapping[Any, str], resource: str) -> None:
    if action.valid_states is not None and status not in action.valid_states:
        valid = ", ".join(names[s] for s in sorted(action.valid_states))
        raise InvalidStateError(f"cannot {action.name} a {resource} in state '{names.get(status, status)}'"
                              f" (valid in: {valid})")


def date_parameter(params: Mapping[str, Any], name: str, *, default_today: bool = False) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        return clock.today().isoformat() if default_today else None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ActionFailedError(f"{name} must be a date (YYYY-MM-DD)", field=name) from None


def text_parameter(params: Mapping[str, Any], name: str, *, max_length: int = 500) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise ActionFailedError(f"{name} must be text of at most {max_length} characters", field=name)
    return value.strip() or None


def new_pin(digits: int = 6) -> str:
    import secrets

    return "".join(secrets.choice("0123456789") for _ in range(digits))

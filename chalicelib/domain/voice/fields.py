"""Field checks shared by every voice request: each refusal is a ValidationError whose ``field`` is a JSON pointer (RFC 6901) to the offending element."""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from chalicelib.domain.countries import COUNTRIES
from chalicelib.domain.errors import UnknownFieldError, ValidationError

# ------------------------------------------------------------------ helpers

def fail(pointer: str, message: str) -> ValidationError:
    return ValidationError(f"{pointer or '/'}: {message}", field=pointer or "/")


def object_fields(value: Any, pointer: str, allowed: Iterable[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(pointer, "must be an object")
    if isinstance(allowed, AnyKey):
        return value
    allowed = set(allowed)
    for name in value:
        if name not in allowed:
            raise UnknownFieldError(f"{pointer}/{name}: unknown field", field=f"{pointer}/{name}")
    return value


def string(value: Any, pointer: str, *, low: int = 1, high: int = 200, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str):
        raise fail(pointer, "must be a string")
    text = value.strip()
    if not low <= len(text) <= high:
        raise fail(pointer, f"must be {low}-{high} characters")
    if pattern is not None and not pattern.match(text):
        raise fail(pointer, "has an invalid format")
    return text


def integer(value: Any, pointer: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(pointer, "must be an integer")
    if not low <= value <= high:
        raise fail(pointer, f"must be between {low} and {high}")
    return int(value)


def boolean(value: Any, pointer: str) -> bool:
    if not isinstance(value, bool):
        raise fail(pointer, "must be true or false")
    return value


def enum(value: Any, pointer: str, choices: Sequence[str], *, fold: bool = False) -> str:
    if isinstance(value, str):
        for choice in choices:
            if value == choice or (fold and value.lower() == choice.lower()):
                return choice
    raise fail(pointer, f"must be one of {', '.join(choices)}")


def bounded_list(value: Any, pointer: str, low: int, high: int) -> list[Any]:
    if not isinstance(value, list):
        raise fail(pointer, "must be an array")
    if not low <= len(value) <= high:
        raise fail(pointer, f"must have {low}-{high} elements")
    return value


def required(body: Mapping[str, Any], name: str, pointer: str) -> Any:
    if body.get(name) is None:
        raise fail(f"{pointer}/{name}", "is required")
    return body[name]


def same_id(body: Mapping[str, Any], expected: str | None) -> None:
    # A PUT may repeat the resource's id (the document's examples do); it must be this one.
    if "id" in body and (expected is None or str(body["id"]).lower() != expected.lower()):
        raise fail("/id", "is read-only" if expected is None else "does not match the resource in the path")


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def e164(value: Any, pointer: str) -> str:
    text = string(value, pointer, low=8, high=16)
    if not E164.match(text):
        raise fail(pointer, "must be an E.164 number such as +441234567890")
    return text


def country(value: Any, pointer: str) -> str:
    text = string(value, pointer, low=2, high=2)
    if text.upper() != text or text not in COUNTRIES:
        raise fail(pointer, "must be an ISO 3166-1 alpha-2 country code such as GB")
    return text

class AnyKey:
    """Allows every key (a free-form string map such as ``tag.data``)."""
    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter(())

"""Python values <-> DynamoDB attribute values, with the low-level client.

The low-level client is used instead of the resource API because creating a
resource costs ~100 ms more on a cold start. Numbers come back as Decimal and
floats are refused on the way in: money never passes through binary floating
point.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping


def to_attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("non-finite Decimal cannot be stored")
        return {"N": format(value, "f")}
    if isinstance(value, float):
        raise TypeError("floats are not stored; use Decimal")
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        if all(isinstance(v, str) for v in value):
            return {"SS": sorted(value)}
        return {"NS": sorted(str(v) for v in value)}
    raise TypeError(f"cannot store {type(value).__name__}")


def from_attr(attr: Mapping[str, Any]) -> Any:
    (kind, value), = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        return _number(value)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {_number(v) for v in value}
    if kind == "B":
        return bytes(value)
    raise TypeError(f"unknown attribute type {kind}")


def _number(text: str) -> int | Decimal:
    # Integers (ids, versions, counts) come back as int; anything with a
    # fraction or exponent as Decimal.
    if text.lstrip("-").isdigit():
        return int(text)
    return Decimal(text)


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}

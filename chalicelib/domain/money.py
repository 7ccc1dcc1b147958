"""Money is Decimal with five decimal places, from JSON to storage to output."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from chalicelib.domain.errors import ValidationError

PLACES = 5
QUANTUM = Decimal(1).scaleb(-PLACES)  # 0.00001
MAX_AMOUNT = Decimal(10) ** 15


def parse_money(value: Any, *, field: str, allow_zero: bool = True) -> Decimal:
    """A money amount from input. Refuses floats (already rounded in binary),
    NaN, infinities, and more than five decimal places: we never round input."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationError(f"{field} must be a decimal number", field=field)
    try:
        amount = Decimal(str(value).strip()) if isinstance(value, (str, int, Decimal)) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(f"{field} must be a decimal number", field=field)
    if amount.as_tuple().exponent < -PLACES:  # type: ignore[operator]
        raise ValidationError(f"{field} has more than {PLACES} decimal places", field=field)
    if abs(amount) >= MAX_AMOUNT:
        # Also keeps quantize() inside the context's precision (1e400 would raise).
        raise ValidationError(f"{field} is out of range", field=field)
    if not allow_zero and amount == 0:
        raise ValidationError(f"{field} must not be zero", field=field)
    return amount.quantize(QUANTUM)


def round_money(amount: Decimal) -> Decimal:
    """Round a computed amount half-up to five places (the one rounding rule)."""
    return amount.quantize(QUANTUM, rounding=ROUND_HALF_UP)


def as_money(stored: Any) -> Decimal:
    """A stored amount back as Decimal with five places (DynamoDB may return int)."""
    return Decimal(stored if stored is not None else 0).quantize(QUANTUM)

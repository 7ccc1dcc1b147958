"""Money is Decimal with five decimal places, from JSON to storage to output."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.domain.errors import ValidationError

PLACES = 5
QUANTUM = Decimal(1).scaleb(-PLACES)  # 0.00001
MAX_AMOUNT = Decimal(10) ** 15


# The one grammar of money text on every surface: an optional sign, ASCII
# digits, and an optional point followed by digits. Python's Decimal() is far
# more lenient ("1_000", " 5 ", "1e3", "Infinity", Arabic-Indic digits), and a
# client's typo must be a 400, never an amount.
MONEY_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def parse_money(value: Any, *, field: str, allow_zero: bool = True) -> Decimal:
    """A money amount from input: text matching MONEY_TEXT, an int, or a JSON
    number (already Decimal). Refuses floats (already rounded in binary), NaN,
    infinities, and more than five decimal places: we never round input."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationError(f"{field} must be a decimal number", field=field)
    amount: Decimal | None = None
    if isinstance(value, str):
        if MONEY_TEXT.fullmatch(value):
            amount = Decimal(value)
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal) and value.is_finite():
        amount = value
    if amount is None:
        raise ValidationError(f"{field} must be a decimal number (digits, an optional sign and point)",
                              field=field)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PLACES:
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

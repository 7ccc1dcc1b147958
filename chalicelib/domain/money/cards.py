"""Payment cards as they arrive, checked before any gateway sees them.
A Card never prints its number or CVV; only brand and last four are kept."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from chalicelib import clock
from chalicelib.domain.errors import ValidationError


@dataclass(frozen=True)
class Card:
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvv: str = field(repr=False)
    first_name: str
    last_name: str

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        n = self.number
        if n.startswith("4"):
            return "visa"
        if n[:2] in ("51", "52", "53", "54", "55") or "2221" <= n[:4] <= "2720":
            return "mastercard"
        if n[:2] in ("34", "37"):
            return "amex"
        if n.startswith("6011") or n.startswith("65"):
            return "discover"
        return "unknown"


def luhn_ok(number: str) -> bool:
    total = 0
    for n, digit in enumerate(int(c) for c in reversed(number)):
        if n % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def parse_card(*, number: str | None, exp_month: str | None, exp_year: str | None, cvv: str | None,
               first_name: str | None, last_name: str | None, today: date | None = None) -> Card:
    digits = (number or "").replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        raise ValidationError("Invalid cardnumber", field="cardnumber")
    try:
        month, year = int(exp_month or ""), int(exp_year or "")
    except ValueError:
        raise ValidationError("Invalid expmonth", field="expmonth") from None
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        raise ValidationError("Invalid expmonth", field="expmonth")
    now = today or clock.today()
    if (year, month) < (now.year, now.month) or year > now.year + 25:
        raise ValidationError("Invalid expyear: the card has expired", field="expyear")
    code = (cvv or "").strip()
    if not code.isdigit() or len(code) not in (3, 4):
        raise ValidationError("Invalid cvv", field="cvv")
    for name, value in (("firstname", first_name), ("lastname", last_name)):
        if not (value or "").strip():
            raise ValidationError(f"Invalid {name}", field=name)
    return Card(digits, month, year, code, (first_name or "").strip(), (last_name or "").strip())

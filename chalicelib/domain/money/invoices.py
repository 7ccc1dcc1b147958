"""A monthly invoice: the customer's statement for one calendar month.

Its figures are the ledger statement of the month (opening, the four category
totals, closing), so an invoice agrees with the partner API's balance
statement for the same days to the last digit. When the month has few
movements each one is listed; above ``MAX_DETAIL`` they are summarised per
activity type only if the caller read them all, else per category (the
statement itself). Either way the listed lines add up to closing - opening.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

from chalicelib.domain.money import ledger as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.money.ledger import Statement
from chalicelib.domain.money.amounts import as_money

# A PDF page holds ~45 lines; a few pages of movements, then a summary.
MAX_DETAIL = 200


@dataclass(frozen=True)
class Line:
    date: str  # YYYY-MM-DD, or "" for a summary line
    description: str
    amount: Decimal  # signed: credits positive, debits negative


@dataclass(frozen=True)
class Invoice:
    tenant_name: str
    account_number: str
    customer_name: str
    month: str  # YYYY-MM
    first_day: str
    last_day: str
    statement: Statement
    lines: list[Line] = field(default_factory=list)
    detail: str = "movements"  # movements | categories

    @property
    def opening(self) -> Decimal:
        return self.statement.opening_balance

    @property
    def closing(self) -> Decimal:
        return self.statement.closing_balance


def parse_month(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit() or not 1 <= int(value[5:]) <= 12:
        raise ValidationError("month must be YYYY-MM", field="month")
    return value


def previous_month(day: str) -> str:
    """The month before the one containing ``day`` (YYYY-MM-DD)."""
    year, month = int(day[:4]), int(day[5:7])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def build(*, tenant_name: str, customer: Mapping[str, Any], month: str, statement: Statement,
          entries: Sequence[Mapping[str, Any]] | None) -> Invoice:
    """The invoice of ``month``; ``entries`` are the month's ledger entries, or
    None when there were more than MAX_DETAIL (then the categories are listed)."""
    first_day, last_day = rules.month_bounds(month)
    if entries is not None:
        lines = [Line(rules.day_of(e["at"]), _describe(e), as_money(e["amount"])) for e in entries]
        detail = "movements"
    else:
        lines = [Line("", "Payments", statement.payments), Line("", "Adjustments", statement.adjustments),
                 Line("", "Call charges", -statement.call_charges),
                 Line("", "Other charges", -statement.other_charges)]
        detail = "categories"
    total = sum((line.amount for line in lines), as_money(0))
    if statement.opening_balance + total != statement.closing_balance:
        # The entries and the checkpoints disagree: never issue such an invoice.
        raise ValueError(f"invoice lines of {month} add up to {total}, the statement moves "
                         f"{statement.closing_balance - statement.opening_balance}")
    return Invoice(tenant_name=tenant_name, account_number=str(customer["accountNumber"]),
                   customer_name=str(customer.get("name") or ""), month=month, first_day=first_day,
                   last_day=last_day, statement=statement, lines=lines, detail=detail)


def _describe(entry: Mapping[str, Any]) -> str:
    text = str(entry["activity"])
    if entry.get("description"):
        text += f" - {entry['description']}"
    return text[:80]

"""Ledger rules: activity types, their signs and statement categories.

Every movement is a signed amount on one account (a customer or the tenant's
own wallet): credits are positive, debits negative. Activity names are the
carrier API's (seed 002 ``financial_summary``) plus two of ours:
``Adjustment`` (admin CLI) and ``Fund Transfer`` (partner <-> customer moves).

A statement (partner API, seed 001) groups activities into four categories:
  payments      signed sum of payment activities (refunds/cancellations negative)
  adjustments   signed sum of adjustments, test-call credits and fund transfers
  call_charges  debits of call charges, shown positive
  other_charges debits of orders, fees and taxes, shown positive
closing = opening + payments + adjustments - call_charges - other_charges, exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Mapping

from chalicelib.domain.errors import InsufficientFundsError, ValidationError
from chalicelib.domain.money.amounts import QUANTUM, as_money

CREDIT, DEBIT, EITHER = "credit", "debit", "either"
PAYMENTS, ADJUSTMENTS, CALL_CHARGES, OTHER_CHARGES = "payments", "adjustments", "call_charges", "other_charges"
CATEGORIES = (PAYMENTS, ADJUSTMENTS, CALL_CHARGES, OTHER_CHARGES)

ADJUSTMENT = "Adjustment"
FUND_TRANSFER = "Fund Transfer"
TEST_CALL_CREDIT = "Test Call Credit"
BANK_TRANSFER = "Bank Transfer"
BANK_FEE = "Bank Fee"
PAYPAL_TRANSFER = "Paypal Transfer"
PAYPAL_FEE = "Paypal Fee"
USF_TAX = "USF Tax Deduction"
PAYMENT_CANCELLED = "Payment Cancelled"
PAYMENT_REFUND = "Payment Refund"
CALL_CHARGES_ACTIVITY = "Call Charges"
ORDER_NEW_DIDS = "Order (New DIDs)"
ORDER_LNP = "Order (LNP)"
CREDIT_CARD = "Credit Card"
CREDIT_CARD_FEE = "Credit Card Fee"

# activity -> (allowed sign, statement category)
ACTIVITIES: dict[str, tuple[str, str]] = {
    TEST_CALL_CREDIT: (CREDIT, ADJUSTMENTS),
    BANK_TRANSFER: (CREDIT, PAYMENTS),
    BANK_FEE: (DEBIT, OTHER_CHARGES),
    PAYPAL_TRANSFER: (CREDIT, PAYMENTS),
    PAYPAL_FEE: (DEBIT, OTHER_CHARGES),
    USF_TAX: (DEBIT, OTHER_CHARGES),
    PAYMENT_CANCELLED: (DEBIT, PAYMENTS),
    PAYMENT_REFUND: (DEBIT, PAYMENTS),
    CALL_CHARGES_ACTIVITY: (DEBIT, CALL_CHARGES),
    ORDER_NEW_DIDS: (DEBIT, OTHER_CHARGES),
    ORDER_LNP: (DEBIT, OTHER_CHARGES),
    CREDIT_CARD: (CREDIT, PAYMENTS),
    CREDIT_CARD_FEE: (DEBIT, OTHER_CHARGES),
    ADJUSTMENT: (EITHER, ADJUSTMENTS),
    FUND_TRANSFER: (EITHER, ADJUSTMENTS),
}
# Activities that may be posted with an overdraft allowance: charges for
# usage already delivered (the calls were made; refusing the charge would
# only lose it). Such a debit is recorded even below the credit limit; the
# limit then blocks new spend until credits bring the balance back above it.
# Never payments, fund moves, adjustments or order charges: those are spend
# the credit limit exists to stop.
OVERDRAFT_ACTIVITIES = frozenset({CALL_CHARGES_ACTIVITY})
ALL_ACTIVITY = "All Activity"
# Payment methods of ``get_payments`` and the activity a payment credits with.
METHOD_ACTIVITY = {"credit card": CREDIT_CARD, "bank": BANK_TRANSFER, "paypal": PAYPAL_TRANSFER}

TENANT_ACCOUNT = "TENANT"


def category_of(activity: str) -> str:
    return ACTIVITIES[activity][1]


def check_movement(activity: str, amount: Decimal, *, overdraft: bool = False) -> None:
    """The amount's sign must match the activity (a charge is a debit); an
    overdraft allowance only for OVERDRAFT_ACTIVITIES."""
    rule = ACTIVITIES.get(activity)
    if rule is None:
        raise ValidationError(f"unknown activity type '{activity}'", field="activity")
    if overdraft and activity not in OVERDRAFT_ACTIVITIES:
        raise ValidationError(f"{activity} may not go below the credit limit", field="activity")
    if amount == 0:
        raise ValidationError("amount must not be zero", field="amount")
    if amount.as_tuple().exponent < -5 or amount != amount.quantize(QUANTUM):  # type: ignore[operator]
        raise ValidationError("amount has more than 5 decimal places", field="amount")
    if rule[0] == CREDIT and amount < 0 or rule[0] == DEBIT and amount > 0:
        raise ValidationError(f"{activity} must be a {rule[0]}", field="amount")


def check_credit(balance: Decimal, amount: Decimal, credit_limit: Decimal, *, account: str,
                 overdraft: bool = False) -> Decimal:
    """The balance after the movement; refused when a debit would go below the limit
    (``account``: the account as the client knows it, e.g. "account 100023"),
    unless it carries an overdraft allowance (usage already delivered, see
    OVERDRAFT_ACTIVITIES). A credit is always allowed, even on an account that
    is already below it."""
    after = balance + amount
    if amount < 0 and after < credit_limit and not overdraft:
        raise InsufficientFundsError(
            f"{account}: balance {balance} minus {-amount} would go below the credit limit {credit_limit}",
            field="amount")
    return after


def empty_totals() -> dict[str, Decimal]:
    return {c: as_money(0) for c in CATEGORIES}


def add_to_totals(totals: Mapping[str, Any], activity: str, amount: Decimal) -> dict[str, Decimal]:
    """Totals are kept as signed sums per category; charges are negated only for display."""
    new = {c: as_money(totals.get(c)) for c in CATEGORIES}
    new[category_of(activity)] += amount
    return new


@dataclass(frozen=True)
class Statement:
    opening_balance: Decimal
    payments: Decimal
    adjustments: Decimal
    call_charges: Decimal
    other_charges: Decimal
    closing_balance: Decimal

    @property
    def total_charges(self) -> Decimal:
        return self.call_charges + self.other_charges

    @classmethod
    def from_totals(cls, opening: Decimal, totals: Mapping[str, Decimal]) -> "Statement":
        payments, adjustments = totals[PAYMENTS], totals[ADJUSTMENTS]
        call, other = -totals[CALL_CHARGES], -totals[OTHER_CHARGES]
        return cls(opening, payments, adjustments, call, other, opening + payments + adjustments - call - other)


def day_of(stamp: str) -> str:
    return stamp[:10]


def next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def parse_day(text: str | None, *, field: str) -> str | None:
    """A date (2015-04-29) or a date-time ('2015-04-29 00:00:00'); only the day counts."""
    if text is None or not str(text).strip():
        return None
    value = str(text).strip()
    try:
        return (datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T")).date().isoformat()
                if len(value) > 10 else date.fromisoformat(value).isoformat())
    except ValueError:
        raise ValidationError(f"{field} must be a date (YYYY-MM-DD)", field=field) from None


def month_bounds(month: str) -> tuple[str, str]:
    """First and last day of 'YYYY-MM'."""
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()

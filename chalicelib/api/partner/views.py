"""Domain records -> the partner API's field names (seed 001)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the ledger rules load with the services that use them, not on a cold start
    from chalicelib.domain.money.ledger import Statement


def statement_view(statement: Statement) -> dict[str, Any]:
    return {
        "opening_balance": statement.opening_balance, "payments": statement.payments,
        "adjustments": statement.adjustments, "call_charges": statement.call_charges,
        "other_charges": statement.other_charges, "total_charges": statement.total_charges,
        "closing_balance": statement.closing_balance,
    }

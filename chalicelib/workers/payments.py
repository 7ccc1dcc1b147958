"""reconcile_payments: card payments whose gateway outcome was unknown (a
timeout) are asked of the gateway again and settled exactly once (the credit
is keyed on the payment)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.money import payments
else:
    payments = lazy("chalicelib.services.money.payments")


def reconcile() -> dict[str, int]:
    return payments.reconcile_all()

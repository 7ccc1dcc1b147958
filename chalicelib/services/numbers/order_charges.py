"""The order charge: an order's amount leaves the customer's balance through
the ledger (services.ledger), as an "Order (New DIDs)" movement.

The movement is keyed on the order id and carries the order's move to
``charged`` in the same transaction (``also``): the charge and the state
change commit together or not at all, so a redelivered or re-run order cannot
be charged twice, and a refused charge (below the credit limit) writes nothing.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Callable

from chalicelib.domain.money import ledger as ledger_rules
from chalicelib.domain.money.amounts import as_money
from chalicelib.services.money import ledger
from chalicelib.store.dynamo.table import Transaction
from chalicelib.store.money.ledger import read_state


def charge_order(*, tenant: str, customer_id: int, amount: Decimal, order_id: int,
                 also: Callable[[Transaction], None], guard: ledger.Guard | None = None) -> None:
    """Debit ``amount`` for ``order_id`` atomically with ``also``'s writes;
    InsufficientFundsError (nothing written) if the credit limit forbids it,
    ``guard``'s error if the customer no longer meets it."""
    ledger.post_movement(tenant=tenant, account=customer_id, activity=ledger_rules.ORDER_NEW_DIDS,
                         amount=-as_money(amount), reference=f"order:{order_id}",
                         idempotency_key=f"order:{order_id}", description=f"Number order {order_id}",
                         also=also, guard=guard)


def balance_of(*, tenant: str, customer_id: int) -> Decimal:
    return as_money(read_state(tenant, customer_id).get("balance"))

"""The order charge: how an order's amount leaves the customer's balance.

``add_order_charge`` adds its writes to the caller's transaction, so the
charge and the order's move to ``charged`` commit together or not at all: a
redelivered or re-run order cannot be charged twice, because the order's
status condition fails in the same transaction. This is the seam where the
ledger service plugs in: any implementation that contributes conditional
writes to the same transaction (or is idempotent on the order id) keeps that
guarantee. Until then it writes the balance item ``T#<t>#BALANCE`` /
<customer id> (balance - amount >= creditLimit, as one conditional update)
and an append-only ledger entry keyed by the order id.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from chalicelib import settings
from chalicelib.domain.errors import InsufficientFundsError
from chalicelib.domain.money import as_money
from chalicelib.store import keys
from chalicelib.store.dynamo import Transaction, get


def balance_of(*, tenant: str, customer_id: int) -> Decimal:
    item = get(settings.main_table(), keys.balance_key(tenant, customer_id))
    return as_money(item.get("balance") if item else 0)


def add_order_charge(tx: Transaction, *, tenant: str, customer: Mapping[str, Any], amount: Decimal,
                     order_id: int, at: str) -> None:
    """Writes that take ``amount`` from the customer's balance for ``order_id``;
    the transaction fails with InsufficientFundsError if balance - amount
    would fall below the customer's credit limit (a negative limit is credit)."""
    limit = as_money(customer.get("creditLimit"))
    floor = amount + limit  # balance - amount >= limit  <=>  balance >= amount + limit
    short = InsufficientFundsError(f"balance does not cover the order amount {amount}", field="amount")
    condition = "balance >= :floor"
    if Decimal(0) >= floor:
        condition = "attribute_not_exists(balance) OR " + condition
    tx.update(settings.main_table(), keys.balance_key(tenant, customer["id"]),
              "SET balance = if_not_exists(balance, :zero) - :amount, updatedAt = :at, customerId = :c",
              condition=condition, values={":zero": Decimal(0), ":amount": amount, ":floor": floor, ":at": at,
                                           ":c": customer["id"]}, failure=short)
    tx.put(settings.ledger_table(), {
        "PK": f"T#{tenant}#ACCT#{keys.pad(customer['id'])}", "SK": f"E#{at}#ORDER#{keys.pad(order_id)}",
        "type": "order_charge", "amount": -amount, "orderId": order_id, "customerId": customer["id"], "at": at,
    }, condition="attribute_not_exists(PK)")


def credit(*, tenant: str, customer_id: int, amount: Decimal, at: str, reference: str) -> None:
    """A payment into the balance with its ledger entry (used by tests and the
    admin CLI until the ledger service owns payments)."""
    tx = Transaction()
    tx.update(settings.main_table(), keys.balance_key(tenant, customer_id),
              "SET balance = if_not_exists(balance, :zero) + :amount, updatedAt = :at, customerId = :c",
              values={":zero": Decimal(0), ":amount": amount, ":at": at, ":c": customer_id})
    tx.put(settings.ledger_table(), {
        "PK": f"T#{tenant}#ACCT#{keys.pad(customer_id)}", "SK": f"E#{at}#PAYMENT#{reference}",
        "type": "payment", "amount": amount, "customerId": customer_id, "at": at,
    }, condition="attribute_not_exists(PK)")
    tx.execute()

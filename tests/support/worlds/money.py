"""Helpers for money tests: a tenant's administrator as a Principal, customers
with a credit limit, and the ledger sum of an account read straight from the table."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.auth import api_key
from chalicelib.domain.identity import Principal
from chalicelib.domain.money.amounts import as_money
from chalicelib.services.customers import accounts as customers
from chalicelib.store.money import ledger as store


def admin(tenant: dict[str, Any]) -> Principal:
    # From the local address: a test may give the administrator an allow-list of it.
    return api_key.authenticate(tenant["user"]["api_key"], "127.0.0.1")


def new_customer(principal: Principal, *, credit_limit: str = "0", name: str = "Acme") -> dict[str, Any]:
    return customers.create_customer(principal=principal, fields={"name": name, "creditLimit": credit_limit})


def ledger_sum(tenant: str, account: store.Account) -> Decimal:
    """Sum of every entry of the account (a test may read the whole history)."""
    from chalicelib import settings
    from chalicelib.store.dynamo.table import query_pages

    total = as_money(0)
    for page in query_pages(settings.ledger_table(), key_condition="PK = :pk AND begins_with(SK, :e)",
                            values={":pk": store.ledger_pk(tenant, account), ":e": "E#"}, consistent=True):
        total += sum((as_money(i["amount"]) for i in page), as_money(0))
    return total


def ledger_entries(tenant: str, account: store.Account) -> list[dict[str, Any]]:
    """Every entry of the account, oldest first (read straight from the table)."""
    from chalicelib import settings
    from chalicelib.store.dynamo.table import query_pages

    found: list[dict[str, Any]] = []
    for page in query_pages(settings.ledger_table(), key_condition="PK = :pk AND begins_with(SK, :e)",
                            values={":pk": store.ledger_pk(tenant, account), ":e": "E#"}, consistent=True):
        found.extend(page)
    return found


def assert_balance_is_ledger_sum(tenant: str, account: store.Account) -> Decimal:
    """The account's balance equals the sum of its entries, and each entry's
    balanceAfter is the running sum (nothing lost or doubled between them)."""
    running = as_money(0)
    for entry in ledger_entries(tenant, account):
        running += as_money(entry["amount"])
        assert as_money(entry["balanceAfter"]) == running, (account, entry)
    balance = as_money(store.read_state(tenant, account).get("balance"))
    assert balance == running, (account, balance, running)
    return balance

"""Money use cases for callers with a Principal: statements, fund moves,
financial history and adjustments. Scope and permission are checked here,
so every surface gets them."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib import clock
from chalicelib.domain import identity
from chalicelib.domain.money import ledger as rules
from chalicelib.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.domain.money.ledger import Statement, TENANT_ACCOUNT
from chalicelib.domain.money.amounts import as_money, parse_money
from chalicelib.services.common import audit
from chalicelib.services.customers import accounts as customers
from chalicelib.services.money import ledger, ledger_reads
from chalicelib.services.money.ledger import Posted
from chalicelib.store.identity import users as identity_store
from chalicelib.store.dynamo.entities import Page


def period(first: str | None, last: str | None, *, names: tuple[str, str] = ("initial_date", "final_date"),
           default_days: int | None = None) -> tuple[str, str]:
    """Days [first, last]; by default the current month so far (or the last ``default_days``)."""
    last_day = rules.parse_day(last, field=names[1]) or clock.today().isoformat()
    if default_days is not None:
        fallback = (datetime.fromisoformat(last_day) - timedelta(days=default_days - 1)).date().isoformat()
    else:
        fallback = last_day[:8] + "01"
    first_day = rules.parse_day(first, field=names[0]) or fallback
    if first_day > last_day:
        raise ValidationError(f"{names[0]} is after {names[1]}", field=names[0])
    return first_day, last_day


def customer_statement(*, principal: Principal, account_number: str, first_day: str, last_day: str) -> Statement:
    principal.require_read()
    customer = customers.customer_by_account_number(principal=principal, account_number=account_number)
    return ledger_reads.statement(tenant=principal.tenant_id, account=customer["id"], first_day=first_day,
                                  last_day=last_day)


def partner_statement(*, principal: Principal, first_day: str, last_day: str) -> Statement:
    _require_partner(principal)
    principal.require_read()
    return ledger_reads.statement(tenant=principal.tenant_id, account=TENANT_ACCOUNT, first_day=first_day,
                                  last_day=last_day)


def move_funds(*, principal: Principal, account_number: str, amount: Any, description: str | None,
               idempotency_key: str | None) -> Posted:
    """Positive: from the partner's wallet to the customer; negative: back."""
    _require_partner(principal)
    principal.require_write()
    value = parse_money(amount, field="amount", allow_zero=False)
    customer = customers.customer_by_account_number(principal=principal, account_number=account_number)
    if description is not None and len(description) > 500:
        raise ValidationError("description is longer than 500 characters", field="description")
    return ledger.transfer_funds(tenant=principal.tenant_id, customer_id=customer["id"], amount=value,
                                 description=description, idempotency_key=idempotency_key or ledger.new_key())


def financial_history(*, principal: Principal, customer: dict[str, Any], first_day: str, last_day: str,
                      activity: str | None) -> list[dict[str, Any]]:
    principal.require_read()
    audit.touch("customer", customer["id"])
    return ledger_reads.history(tenant=principal.tenant_id, account=customer["id"], first_day=first_day,
                                last_day=last_day, activity=activity)


def adjust_balance(*, tenant: str, account_number: str | None, amount: Any, reason: str,
                   idempotency_key: str | None = None) -> Posted:
    """An administrator's adjustment (admin CLI); without an account, the tenant's wallet."""
    value = parse_money(amount, field="amount", allow_zero=False)
    if not (reason or "").strip():
        raise ValidationError("a reason is required", field="reason")

    if identity_store.get_tenant(tenant) is None:
        raise NotFoundError(f"tenant {tenant} not found", field="tenant")
    account: int | str = TENANT_ACCOUNT
    if account_number is not None:
        account = customers.customer_id_for_account(tenant=tenant, account_number=account_number)
    return ledger.post_movement(tenant=tenant, account=account, activity=rules.ADJUSTMENT, amount=value,
                                reference=f"admin:{reason.strip()[:100]}", description=reason.strip(),
                                idempotency_key=idempotency_key or ledger.new_key())


def _require_partner(principal: Principal) -> None:
    # The partner's wallet is the tenant's: customer-scoped users never touch it.
    if principal.customer_access != identity.ACCESS_ALL:
        raise PermissionDeniedError("only users with access to all customers may use the partner wallet")




def account_overview(*, principal: Principal, customer: dict[str, Any] | None, days: int = 30,
                     recent: int = 10) -> dict[str, Any]:
    """Balance, credit limit and the latest credits and debits of a customer (or, with
    no customer, of the partner's wallet): the portal's main menu."""
    principal.require_read()
    account: int | str
    if customer is None:
        _require_partner(principal)
        account = TENANT_ACCOUNT
    else:
        audit.touch("customer", customer["id"])
        account = int(customer["id"])
    balance, credit_limit = ledger.balance_of(tenant=principal.tenant_id, account=account)
    last_day = clock.today().isoformat()
    first_day = (clock.today() - timedelta(days=days - 1)).isoformat()
    entries = ledger_reads.history(tenant=principal.tenant_id, account=account, first_day=first_day,
                                   last_day=last_day)
    latest = list(reversed(entries))
    return {"balance": balance, "creditLimit": credit_limit, "firstDay": first_day, "lastDay": last_day,
            "payments": [e for e in latest if e["amount"] > 0][:recent],
            "charges": [e for e in latest if e["amount"] < 0][:recent]}


MANAGED_LIMIT = 50   # customers on the main menu of staff limited to some customers
MANAGED_RECENT = 20  # of which the latest movements are read (one Query each)


def managed_overview(*, principal: Principal, days: int = 30, recent: int = 10) -> dict[str, Any]:
    """The main menu of staff limited to some customers (account managers,
    commission holders): each of their customers' balance and credit limit,
    the totals, and the latest payments and charges across them. Never the
    partner's wallet: that is for users with access to all customers."""
    from concurrent.futures import ThreadPoolExecutor

    principal.require_read()
    if principal.customer_access not in (identity.ACCESS_MANAGER, identity.ACCESS_COMMISSION):
        raise PermissionDeniedError("this overview is for staff limited to the customers they manage")
    found = customers.list_customers(principal=principal, page=Page(limit=MANAGED_LIMIT + 1))
    shown = found[:MANAGED_LIMIT]
    # The customer's record is its ledger state: the listing already holds balance and credit limit.
    balances = [as_money(c.get("balance")) for c in shown]
    credit_limits = [as_money(c.get("creditLimit")) for c in shown]
    rows = [{"customer": c, "balance": b, "creditLimit": limit} for c, b, limit in zip(shown, balances, credit_limits)]
    last_day = clock.today().isoformat()
    first_day = (clock.today() - timedelta(days=days - 1)).isoformat()

    def movements(customer: dict[str, Any]) -> list[dict[str, Any]]:
        entries = ledger_reads.history(tenant=principal.tenant_id, account=int(customer["id"]),
                                       first_day=first_day, last_day=last_day)
        return [{**e, "customer": customer} for e in entries]

    read = shown[:MANAGED_RECENT]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="overview") as pool:
        entries = [e for part in pool.map(movements, read) for e in part]
    latest = sorted(entries, key=lambda e: str(e.get("at") or ""), reverse=True)
    return {"customers": rows, "more": len(found) > MANAGED_LIMIT, "movementsOf": len(read),
            "balance": sum(balances, Decimal(0)), "creditLimit": sum(credit_limits, Decimal(0)),
            "firstDay": first_day, "lastDay": last_day,
            "payments": [e for e in latest if e["amount"] > 0][:recent],
            "charges": [e for e in latest if e["amount"] < 0][:recent]}

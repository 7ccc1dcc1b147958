"""The ledger read back: a period's statement (opening, totals per category,
closing) and its entries (docs/money.md, "Statement"). Movements are
written by services/money/ledger.py."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Mapping

from chalicelib import clock
from chalicelib.domain.money import ledger as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.money.ledger import Statement
from chalicelib.domain.money.amounts import as_money
from chalicelib.store.money import ledger as store
from chalicelib.store.money.ledger import Account

_pool: ThreadPoolExecutor | None = None


def _reads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="statement")
    return _pool


def statement(*, tenant: str, account: Account, first_day: str, last_day: str) -> Statement:
    """Opening, totals per category and closing for the days [first_day, last_day].

    Reads a few small items whatever the number of entries or days
    (docs/money.md, "Statement"):
    - a calendar month that is over: its month record (one GetItem);
    - a period that ends today or later: the state item (one GetItem), which
      alone answers when the period starts on the 1st of the open month or on
      or before the account's first day; otherwise plus the checkpoint of the
      day before the period (one GetItem, or a ``Limit 1`` Query if that day
      had no movement);
    - any other period: one BatchGetItem of the state item and the two
      boundary checkpoints, plus a ``Limit 1`` Query per boundary day without
      a checkpoint (the two in parallel).
    Totals are differences of cumulative totals; accounts older than
    cumulative totals fall back to adding up day checkpoints."""
    if first_day > last_day:
        raise ValidationError("initial date is after final date", field="initial_date")
    today = rules.day_of(clock.now_iso())
    month = first_day[:7]
    if last_day < today and (first_day, last_day) == rules.month_bounds(month):
        record = store.get_month(tenant, account, month)
        if record is not None:
            return _checked(account, as_money(record["opening"]), record.get("totals") or {}, record["closing"])
        # No record: the account did not move in that month, or the month is
        # still its open one (nothing since). The general reads tell which.
    if last_day >= today:
        found = _statement_from_state(tenant, account, first_day, last_day)
        if found is not None:
            return found
    return _statement_from_checkpoints(tenant, account, first_day, last_day)


def _checked(account: Account, opening: Decimal, totals: Mapping[str, Any], balance: Any) -> Statement:
    found = Statement.from_totals(opening, {c: as_money(totals.get(c)) for c in rules.CATEGORIES})
    if found.closing_balance != as_money(balance):
        raise ValueError(f"account {account}: totals and balance disagree ({found.closing_balance} != {balance})")
    return found


def _statement_from_state(tenant: str, account: Account, first_day: str, last_day: str) -> Statement | None:
    """A period that ends in the open day or later. None: the open day is
    after ``last_day`` (the clock is behind the ledger), use checkpoints."""
    state = store.statement_state(tenant, account)
    open_day = state.get("ledgerDay")
    if not open_day:
        return Statement.from_totals(as_money(0), rules.empty_totals())
    if open_day > last_day:
        return None
    balance = state.get("balance")
    if open_day < first_day:  # nothing moved since before the period
        return Statement.from_totals(as_money(balance), rules.empty_totals())
    open_month = state.get("ledgerMonth")
    if open_month == open_day[:7] and first_day == f"{open_month}-01":
        return _checked(account, as_money(state.get("ledgerMonthOpening")), state.get("ledgerMonthTotals") or {},
                        balance)
    end_cum = state.get("ledgerCumTotals")
    if end_cum is None:
        return _statement_by_days(tenant=tenant, account=account, first_day=first_day, last_day=last_day)
    first_moved = state.get("ledgerFirstDay")
    if first_moved and first_day <= first_moved:
        return _checked(account, as_money(0), end_cum, balance)
    before_day = (datetime.fromisoformat(first_day) - timedelta(days=1)).date().isoformat()
    start_cp = (store.start_checkpoint(tenant, account, before_day)
                or store.latest_checkpoint(tenant, account, before_day))
    if start_cp is None:
        return _checked(account, as_money(0), end_cum, balance)
    start_cum = start_cp.get("cumulative")
    if start_cum is None:
        return _statement_by_days(tenant=tenant, account=account, first_day=first_day, last_day=last_day)
    return _checked(account, as_money(start_cp["closing"]),
                    {c: as_money(end_cum.get(c)) - as_money(start_cum.get(c)) for c in rules.CATEGORIES}, balance)


def _statement_from_checkpoints(tenant: str, account: Account, first_day: str, last_day: str) -> Statement:
    """The general case: the state item and the checkpoints of exactly the
    days ``last_day`` and ``first_day - 1`` in one BatchGetItem (a busy
    account has both); a missing one is found with a ``Limit 1`` Query."""
    before_day = (datetime.fromisoformat(first_day) - timedelta(days=1)).date().isoformat()
    state, exact = store.state_and_checkpoints(tenant, account, (last_day, before_day))
    open_day = state.get("ledgerDay")
    end_cp, start_cp = exact.get(last_day), exact.get(before_day)
    if open_day and open_day >= first_day:
        first_moved = state.get("ledgerFirstDay")
        # Before the account's first day there is nothing to find.
        start_needed = start_cp is None and not (first_moved and before_day < first_moved)
        pool = _reads()
        end_f = (pool.submit(store.latest_checkpoint, tenant, account, last_day)
                 if end_cp is None and open_day > last_day else None)
        start_f = pool.submit(store.latest_checkpoint, tenant, account, before_day) if start_needed else None
        end_cp = end_f.result() if end_f is not None else end_cp
        start_cp = start_f.result() if start_f is not None else start_cp
    if not open_day:
        return Statement.from_totals(as_money(0), rules.empty_totals())
    if open_day < first_day:  # nothing moved since before the period
        return Statement.from_totals(as_money(state.get("balance")), rules.empty_totals())
    if open_day <= last_day:
        end_cum, end_balance = state.get("ledgerCumTotals"), state.get("balance")
    elif end_cp is not None:
        end_cum, end_balance = end_cp.get("cumulative"), end_cp["closing"]
    else:  # the first movement came after the period
        return Statement.from_totals(as_money(0), rules.empty_totals())
    start_cum = start_cp.get("cumulative") if start_cp is not None else {}
    if end_cum is None or start_cum is None:
        return _statement_by_days(tenant=tenant, account=account, first_day=first_day, last_day=last_day)
    opening = as_money(start_cp["closing"]) if start_cp is not None else as_money(0)
    return _checked(account, opening,
                    {c: as_money(end_cum.get(c)) - as_money(start_cum.get(c)) for c in rules.CATEGORIES}, end_balance)


def _statement_by_days(*, tenant: str, account: Account, first_day: str, last_day: str) -> Statement:
    """The statement from the day checkpoints of the period (one Query, newest
    first) plus the state item unless the period's last day is closed."""
    days = (datetime.fromisoformat(last_day) - datetime.fromisoformat(first_day)).days + 1
    in_range: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for page in store.checkpoints_down_from(tenant, account, last_day, page_size=min(days + 2, 1000)):
        for item in page:
            if item["day"] >= first_day:
                in_range.append(item)
            else:
                before = item
                break
        if before is not None:
            break
    closed_to_end = bool(in_range) and in_range[0]["day"] == last_day
    if not closed_to_end:
        state = store.read_state(tenant, account)
        open_day = state.get("ledgerDay")
        if open_day and open_day < first_day:
            current = as_money(state.get("balance"))
            return Statement.from_totals(current, rules.empty_totals())
        if open_day and first_day <= open_day <= last_day:
            in_range.insert(0, {"day": open_day, "opening": state.get("ledgerDayOpening"),
                                "totals": state.get("ledgerDayTotals") or {}})
    totals = rules.empty_totals()
    for item in in_range:
        for category, value in (item.get("totals") or {}).items():
            totals[category] += as_money(value)
    if in_range:
        opening = as_money(in_range[-1]["opening"])
    elif before is not None:
        opening = as_money(before["closing"])
    else:
        opening = as_money(0)
    return Statement.from_totals(opening, totals)


def history(*, tenant: str, account: Account, first_day: str, last_day: str, activity: str | None = None,
            limit: int = 5000) -> list[dict[str, Any]]:
    """Entries of the days [first_day, last_day], oldest first (at most ``limit``)."""
    if activity is not None and activity not in rules.ACTIVITIES:
        raise ValidationError(f"unknown activity type '{activity}'", field="activitytype")
    found: list[dict[str, Any]] = []
    for page in store.entries_between(tenant, account, first_day, last_day):
        found.extend(e for e in page if activity is None or e["activity"] == activity)
        if len(found) >= limit:
            break
    return found[:limit]

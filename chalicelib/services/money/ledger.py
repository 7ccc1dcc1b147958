"""Balances and ledger movements: post, transfer, statement, history.

Every movement is one conditional transaction: the account's state item
(balance, ledger cursor, running day totals) is updated only if its ledger
sequence is the one we read, together with the new entry, the account's
idempotency claim and, on the first movement of a new day, the checkpoint of
the previous day. A lost race re-reads and retries; a debit that would go
below the credit limit is refused before anything is written.

Other services compose movements into bigger transactions (an order charges
the customer and activates its numbers atomically)::

    def activate(tx):                       # called once per attempt
        tx.update(...numbers..., condition=..., failure=NumberUnavailableError(...))
    ledger.post_movement(tenant=t, account=customer_id, activity=ledger_rules.ORDER_NEW_DIDS,
                         amount=-total, reference=f"order:{order_id}",
                         idempotency_key=f"order:{order_id}", also=activate)

``also`` is called with the attempt's Transaction before it executes; if one
of its conditions fails, its own ``failure`` error is raised and nothing is
written. A replayed idempotency key returns the first movement and does not
call ``also``.
"""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

from chalicelib import clock
from chalicelib.domain.money import ledger as rules
from chalicelib.domain.errors import ConcurrentUpdateError, DialtoneError, ValidationError
from chalicelib.domain.money.ledger import Statement
from chalicelib.domain.money.amounts import as_money
from chalicelib.store import ledger as store
from chalicelib.store.dynamo.table import Transaction
from chalicelib.store.ledger import Account, BalanceMovedError, DuplicateKeyError

ATTEMPTS = 12
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Guard:
    """A rule the account's state item must still meet when the movement
    commits (say, the customer is active): ``check`` raises the domain error
    on the state as read; ``condition`` is the same rule as a DynamoDB
    condition (``names``/``values`` its placeholders) added to the state
    update, so a change between read and write cancels the transaction and
    the retry's read raises."""

    check: Callable[[Mapping[str, Any]], None]
    condition: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Leg:
    """One account's side of a movement."""

    account: Account
    activity: str
    amount: Decimal
    description: str | None = None
    counterparty: str | None = None
    # Recorded even below the credit limit: only for activities in
    # domain.ledger.OVERDRAFT_ACTIVITIES (charges for usage already delivered).
    overdraft: bool = False
    guard: Guard | None = None


@dataclass
class Posted:
    """The result of a movement: its entries, and whether it was a replay."""

    entries: list[dict[str, Any]]
    replayed: bool = False
    states: dict[str, dict[str, Any]] = field(default_factory=dict)

    def balance(self, account: Account) -> Decimal:
        return as_money(self.entries[self._index(account)]["balanceAfter"])

    def credit_limit(self, account: Account) -> Decimal:
        return as_money(self.entries[self._index(account)].get("creditLimit"))

    def _index(self, account: Account) -> int:
        name = store.account_name(account)
        return next(n for n, e in enumerate(self.entries) if e["account"] == name)


def post_movement(*, tenant: str, account: Account, activity: str, amount: Decimal, reference: str,
                  idempotency_key: str, description: str | None = None,
                  also: Callable[[Transaction], None] | None = None, overdraft: bool = False,
                  guard: Guard | None = None) -> Posted:
    """One movement on one account, atomically with whatever ``also`` adds.
    ``overdraft``: the debit is recorded even below the credit limit (only
    for usage already delivered: domain.ledger.OVERDRAFT_ACTIVITIES).
    ``guard``: a rule the account must still meet when the movement commits."""
    return post_legs(tenant=tenant, legs=[Leg(account, activity, amount, description, overdraft=overdraft,
                                              guard=guard)],
                     reference=reference, idempotency_key=idempotency_key, also=also)


def post_legs(*, tenant: str, legs: Sequence[Leg], reference: str, idempotency_key: str,
              also: Callable[[Transaction], None] | None = None) -> Posted:
    """Several accounts' movements as one transaction (a fund move is two legs).
    The idempotency claim sits on the first leg's account."""
    if not legs or len({store.account_name(leg.account) for leg in legs}) != len(legs):
        raise ValidationError("a movement needs distinct accounts", field="account")
    for leg in legs:
        rules.check_movement(leg.activity, leg.amount, overdraft=leg.overdraft)
    key = _check_key(idempotency_key)
    fingerprint = _fingerprint(legs)
    claim_account = legs[0].account
    for attempt in range(ATTEMPTS):
        tx = Transaction()
        stamp = clock.now_iso()
        entries, states = [], {}
        for leg in legs:
            state = store.read_state(tenant, leg.account)
            try:
                if leg.guard is not None:
                    leg.guard.check(state)
                entry, changes, closed = _plan(state, leg, stamp, reference=reference, key=key)
            except DialtoneError:
                # A retry of a movement that already happened replays it, whatever the account is now.
                if store.read_claim(tenant, claim_account, key) is not None:
                    return _replay(tenant, claim_account, key, fingerprint)
                raise
            store.add_state_update(tx, tenant, leg.account, expected_seq=int(state.get("ledgerSeq") or 0),
                                   changes=changes, **(_guard_condition(leg.guard) if leg.guard else {}))
            store.add_entry(tx, tenant, leg.account, entry)
            for checkpoint in closed:
                store.add_checkpoint(tx, tenant, leg.account, checkpoint)
            entries.append(entry)
            states[entry["account"]] = {**state, **changes}
        # The claim goes first: a replay is recognised before a (then irrelevant) lost race.
        claim = Transaction()
        store.add_claim(claim, tenant, claim_account, key, {
            "fingerprint": fingerprint, "reference": reference, "at": stamp,
            "entries": [{"account": e["account"], "SK": store.entry_sk(e["at"], e["seq"])} for e in entries],
            "result": entries,
        })
        claim.actions.extend(tx.actions)
        claim.failures.extend(tx.failures)
        if also is not None:
            also(claim)
        try:
            claim.execute()
            return Posted(entries=entries, states=states)
        except DuplicateKeyError:
            return _replay(tenant, claim_account, key, fingerprint)
        except BalanceMovedError:
            pass
        except ConcurrentUpdateError as error:
            # A TransactionConflict (same items in flight) is a lost race too; a
            # failed condition of ``also`` carries its own error and is final.
            if type(error) is not ConcurrentUpdateError:
                raise
        time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))
    raise ConcurrentUpdateError("the account is being moved by many requests at once; try again")


def _guard_condition(guard: Guard) -> dict[str, Any]:
    return {"guard": guard.condition, "guard_names": guard.names, "guard_values": guard.values}


def _shown_name(account: Account, state: Mapping[str, Any]) -> str:
    # What a client knows the account by (a refusal's message): never the internal key.
    if account == rules.TENANT_ACCOUNT:
        return "your partner balance"
    number = state.get("accountNumber")
    return f"account {number}" if number else "the customer's balance"


def _plan(state: Mapping[str, Any], leg: Leg, stamp: str, *, reference: str,
          key: str) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The entry, the new state and the checkpoints the movement closes: the
    old day's (on a new day) and the old month's (on a new month)."""
    balance = as_money(state.get("balance"))
    credit_limit = as_money(state.get("creditLimit"))
    account = store.account_name(leg.account)
    after = rules.check_credit(balance, leg.amount, credit_limit, account=_shown_name(leg.account, state),
                               overdraft=leg.overdraft)
    seq = int(state.get("ledgerSeq") or 0) + 1
    # Entry times never go backwards on one account, so time order is sequence order.
    at = max(stamp, state.get("ledgerLastAt") or "")
    day = rules.day_of(at)
    month = day[:7]
    open_day = state.get("ledgerDay")
    closed: list[dict[str, Any]] = []
    # Cumulative totals since the account's first movement make a statement two
    # point reads. Accounts that moved before they existed have none (None): their
    # statements add up day checkpoints instead.
    cumulative = state.get("ledgerCumTotals")
    if open_day and open_day != day:
        checkpoint = {"day": open_day, "opening": as_money(state.get("ledgerDayOpening")), "closing": balance,
                      "totals": {c: as_money(v) for c, v in (state.get("ledgerDayTotals") or {}).items()},
                      "count": int(state.get("ledgerDayCount") or 0), "lastSeq": seq - 1}
        if cumulative is not None:
            checkpoint["cumulative"] = {c: as_money(v) for c, v in cumulative.items()}
        closed.append(checkpoint)
    if open_day == day:
        totals, opening, count = state.get("ledgerDayTotals") or {}, as_money(state.get("ledgerDayOpening")), \
            int(state.get("ledgerDayCount") or 0)
    else:
        totals, opening, count = {}, balance, 0
    changes = {
        "balance": after, "ledgerSeq": seq, "ledgerLastAt": at, "ledgerDay": day, "ledgerDayOpening": opening,
        "ledgerDayTotals": rules.add_to_totals(totals, leg.activity, leg.amount), "ledgerDayCount": count + 1,
    }
    if cumulative is not None or seq == 1:
        changes["ledgerCumTotals"] = rules.add_to_totals(cumulative or {}, leg.activity, leg.amount)
    if seq == 1:
        changes["ledgerFirstDay"] = day  # a period starting on or before it opens at zero
    # The open month's opening and running totals, like the day's: the first
    # movement of a later month closes it into a month record (a calendar
    # month's statement is then one read). An account that moved before month
    # totals existed starts them with its next new month, never half-way.
    open_month = state.get("ledgerMonth")
    if seq == 1 or (open_day and open_day[:7] != month):
        if open_month and open_day and open_month == open_day[:7]:
            closed.append({"month": open_month, "opening": as_money(state.get("ledgerMonthOpening")),
                           "closing": balance,
                           "totals": {c: as_money(v) for c, v in (state.get("ledgerMonthTotals") or {}).items()}})
        changes.update(ledgerMonth=month, ledgerMonthOpening=balance,
                       ledgerMonthTotals=rules.add_to_totals({}, leg.activity, leg.amount))
    elif open_month == month:
        changes["ledgerMonthTotals"] = rules.add_to_totals(state.get("ledgerMonthTotals") or {}, leg.activity,
                                                           leg.amount)
    entry = {
        "account": account, "seq": seq, "at": at, "activity": leg.activity, "amount": leg.amount,
        "balanceAfter": after, "creditLimit": credit_limit, "reference": reference, "idempotencyKey": key,
        "description": leg.description, "counterparty": leg.counterparty,
    }
    return {k: v for k, v in entry.items() if v is not None}, changes, closed


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(f"idempotency key must be 1-{MAX_KEY_LENGTH} characters", field="idempotencyKey")
    return key


def _fingerprint(legs: Sequence[Leg]) -> str:
    return "|".join(f"{store.account_name(leg.account)}:{leg.activity}:{leg.amount}" for leg in legs)


def _replay(tenant: str, account: Account, key: str, fingerprint: str) -> Posted:
    claim = store.read_claim(tenant, account, key)
    if claim is None:  # the claim was there a moment ago; ledger items are never deleted
        raise ConcurrentUpdateError("idempotency record vanished")
    if claim.get("fingerprint") != fingerprint:
        raise ValidationError("this idempotency key was used for a different movement", field="idempotencyKey")
    return Posted(entries=list(claim.get("result") or []), replayed=True)


def new_key() -> str:
    return uuid.uuid4().hex


def transfer_funds(*, tenant: str, customer_id: int, amount: Decimal, description: str | None,
                   idempotency_key: str, reference: str | None = None) -> Posted:
    """Move ``amount`` from the tenant's wallet to the customer (negative: back).
    Both legs in one transaction: the sum of partner and customers never changes."""
    name = store.account_name(customer_id)
    legs = [
        Leg(customer_id, rules.FUND_TRANSFER, amount, description, counterparty=rules.TENANT_ACCOUNT),
        Leg(rules.TENANT_ACCOUNT, rules.FUND_TRANSFER, -amount, description, counterparty=name),
    ]
    # The debited side first: its credit-limit refusal is the one the caller needs.
    if amount > 0:
        legs.reverse()
    return post_legs(tenant=tenant, legs=legs, reference=reference or f"funds:{idempotency_key}",
                     idempotency_key=idempotency_key)


def balance_of(*, tenant: str, account: Account) -> tuple[Decimal, Decimal]:
    """(balance, credit limit) now."""
    state = store.read_state(tenant, account)
    return as_money(state.get("balance")), as_money(state.get("creditLimit"))


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

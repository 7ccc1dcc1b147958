"""Balances and ledger movements: post, transfer, balance (statements and
history are read back by services/money/ledger_reads.py).

Every movement is one conditional transaction: the account's state item
(balance, ledger cursor, running day totals) is updated only if its ledger
sequence is the one we read, together with the new entry, the account's
idempotency claim and, on the first movement of a new day, the checkpoint of
the previous day. A lost race re-reads and retries; a debit that would go
below the credit limit is refused before anything is written.

Other services compose movements into bigger transactions (an order charges
the customer and activates its numbers atomically; a day's call charges move
the day's charge record): ``also`` is a write built by the caller's store
module (store.ledger.ExtraWrites), called with the attempt's transaction
before it executes (store.ledger.write_movement builds and runs it); if one
of its conditions fails, its own ``failure`` error is raised and nothing is
written. A replayed idempotency key returns the first movement and does not
call ``also``.
"""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

from chalicelib import clock
from chalicelib.domain.money import ledger as rules
from chalicelib.domain.errors import ConcurrentUpdateError, DialtoneError, ValidationError
from chalicelib.domain.money.amounts import as_money
from chalicelib.store.money import ledger as store
# Guard: a rule the account must still meet at commit (numbers/sales.py builds one).
from chalicelib.store.money.ledger import Account, BalanceMovedError, DuplicateKeyError, ExtraWrites, Guard

ATTEMPTS = 12
MAX_KEY_LENGTH = 200


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
                  also: ExtraWrites | None = None, overdraft: bool = False,
                  guard: Guard | None = None) -> Posted:
    """One movement on one account, atomically with whatever ``also`` adds.
    ``overdraft``: the debit is recorded even below the credit limit (only
    for usage already delivered: domain.ledger.OVERDRAFT_ACTIVITIES).
    ``guard``: a rule the account must still meet when the movement commits."""
    return post_legs(tenant=tenant, legs=[Leg(account, activity, amount, description, overdraft=overdraft,
                                              guard=guard)],
                     reference=reference, idempotency_key=idempotency_key, also=also)


def post_legs(*, tenant: str, legs: Sequence[Leg], reference: str, idempotency_key: str,
              also: ExtraWrites | None = None,
              prior_states: Mapping[str, Mapping[str, Any]] | None = None) -> Posted:
    """Several accounts' movements as one transaction (a fund move is two legs).
    The idempotency claim sits on the first leg's account. ``prior_states``: the
    accounts' state items as the caller just read them (store.read_states,
    by account name), used by the first attempt instead of a read per leg."""
    if not legs or len({store.account_name(leg.account) for leg in legs}) != len(legs):
        raise ValidationError("a movement needs distinct accounts", field="account")
    for leg in legs:
        rules.check_movement(leg.activity, leg.amount, overdraft=leg.overdraft)
    key = _check_key(idempotency_key)
    fingerprint = _fingerprint(legs)
    claim_account = legs[0].account
    for attempt in range(ATTEMPTS):
        stamp = clock.now_iso()
        entries, states, writes = [], {}, []
        for leg in legs:
            given = prior_states.get(store.account_name(leg.account)) if prior_states and not attempt else None
            state = dict(given) if given is not None else store.read_state(tenant, leg.account)
            try:
                if leg.guard is not None:
                    leg.guard.check(state)
                entry, changes, closed = _plan(state, leg, stamp, reference=reference, key=key)
            except DialtoneError:
                # A retry of a movement that already happened replays it, whatever the account is now.
                if store.read_claim(tenant, claim_account, key) is not None:
                    return _replay(tenant, claim_account, key, fingerprint)
                raise
            writes.append(store.LegWrite(leg.account, expected_seq=int(state.get("ledgerSeq") or 0),
                                         changes=changes, entry=entry, checkpoints=closed, guard=leg.guard))
            entries.append(entry)
            states[entry["account"]] = {**state, **changes}
        try:
            store.write_movement(tenant, writes, claim_account=claim_account, key=key, also=also,
                                 claim={"fingerprint": fingerprint, "reference": reference, "at": stamp,
                                        "result": entries})
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

"""Balances and the append-only ledger.

Account state (balance, credit limit and the ledger cursor) lives on the item
that owns the account: the customer item (main table, ``T#<t>#CUSTOMER`` /
<id>) or the tenant's wallet item (``T#<t>#BALANCE`` / ``TENANT``). So the
billing API reads a customer's balance with the customer, and a credit limit
is one attribute, never a copy.

Ledger table, one partition per account ``T#<t>#ACCT#<id or TENANT>``:
  E#<at>#<seq>   an entry (seq: 12 digits, per account, no gaps; ``at`` never decreases)
  D#<yyyy-mm-dd> a day checkpoint: opening, closing, signed totals per category, count,
                 and the cumulative signed totals since the account's first movement
  M#<yyyy-mm>    a month record: opening, closing, signed totals per category
  K#<key>        an idempotency claim: the movement a key produced
A checkpoint for day X (month M) is written in the same transaction as the
account's first movement of a later day (month), from the running totals kept on the state item,
so checkpoints are exact and need no job. The day still open is on the state item.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

from chalicelib import settings
from chalicelib.domain.errors import AlreadyExistsError, ConcurrentUpdateError, NotFoundError
from chalicelib.domain.money.ledger import TENANT_ACCOUNT
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import Transaction, batch_get_tables, get, query_pages

Account = int | str  # a customer id, or TENANT_ACCOUNT for the tenant's own wallet
# Further writes a caller adds to a movement's transaction (an order's numbers,
# a day's charge record): built by the caller's own store module.
ExtraWrites = Callable[[Transaction], None]


class BalanceMovedError(ConcurrentUpdateError):
    """The account's state changed since it was read (another movement landed first)."""


class DuplicateKeyError(AlreadyExistsError):
    """The idempotency key was already used on this account."""


@dataclass(frozen=True)
class Guard:
    """A rule the account's state item must still meet when the movement
    commits (say, the customer is active): ``check`` raises the domain error
    on the state as read; ``condition`` is the same rule as a DynamoDB
    condition (``names``/``values`` its placeholders, which must not start
    with #a, :a, #seq or :expected) added to the state update, so a change
    between read and write cancels the transaction and the retry's read raises."""

    check: Callable[[Mapping[str, Any]], None]
    condition: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LegWrite:
    """What a movement writes on one account: the state as planned from the
    state read at ``expected_seq``, the new entry, and the day or month
    checkpoints the movement closes."""

    account: Account
    expected_seq: int
    changes: Mapping[str, Any]
    entry: Mapping[str, Any]
    checkpoints: Sequence[Mapping[str, Any]] = ()
    guard: Guard | None = None


def account_name(account: Account) -> str:
    return TENANT_ACCOUNT if account == TENANT_ACCOUNT else keys.pad(int(account))


def state_key(tenant: str, account: Account) -> dict[str, str]:
    if account == TENANT_ACCOUNT:
        return {"PK": keys.entity_pk(tenant, "BALANCE"), "SK": TENANT_ACCOUNT}
    return {"PK": keys.entity_pk(tenant, "CUSTOMER"), "SK": keys.pad(int(account))}


def ledger_pk(tenant: str, account: Account) -> str:
    return f"T#{tenant}#ACCT#{account_name(account)}"


def entry_sk(at: str, seq: int) -> str:
    return f"E#{at}#{seq:012d}"


def checkpoint_sk(day: str) -> str:
    return f"D#{day}"


def month_sk(month: str) -> str:
    return f"M#{month}"


def read_state(tenant: str, account: Account) -> dict[str, Any]:
    """The account's state item; a customer that does not exist is NotFound,
    the tenant wallet exists implicitly (zero until its first movement)."""
    item = get(settings.main_table(), state_key(tenant, account))
    if item is None:
        if account != TENANT_ACCOUNT:
            raise NotFoundError(f"account {account} not found", field="account")
        return {}
    return item


def read_states(tenant: str, accounts: Sequence[Account]) -> dict[str, dict[str, Any]]:
    """Several accounts' state items by account name, in BatchGets of 100
    (accounts without one are left out): a caller posting many accounts'
    movements reads them at once (``post_legs``'s ``states``)."""
    found: dict[str, dict[str, Any]] = {}
    wanted = [state_key(tenant, a) for a in accounts]
    for start in range(0, len(wanted), 100):
        for item in batch_get_tables({settings.main_table(): wanted[start:start + 100]})[settings.main_table()]:
            found[str(item["SK"])] = item
    return found


def write_movement(tenant: str, legs: Sequence[LegWrite], *, claim_account: Account, key: str,
                   claim: Mapping[str, Any], also: ExtraWrites | None = None) -> None:
    """One movement as one transaction: the idempotency claim ``key`` on
    ``claim_account`` (``claim``: what a replay returns), each leg's state
    update conditional on its sequence (and guard), its entry and closed
    checkpoints, and whatever ``also`` adds. Raises DuplicateKeyError (the key
    was used), BalanceMovedError (an account moved since it was read),
    ConcurrentUpdateError (a conflicting transaction in flight), or the
    failure of one of ``also``'s conditions; nothing is written then."""
    tx = Transaction()
    # The claim goes first: a replay is recognised before a (then irrelevant) lost race.
    add_claim(tx, tenant, claim_account, key, {
        **claim, "entries": [{"account": leg.entry["account"], "SK": entry_sk(leg.entry["at"], leg.entry["seq"])}
                             for leg in legs]})
    for leg in legs:
        add_state_update(tx, tenant, leg.account, expected_seq=leg.expected_seq, changes=leg.changes,
                         guard=leg.guard)
        add_entry(tx, tenant, leg.account, leg.entry)
        for checkpoint in leg.checkpoints:
            add_checkpoint(tx, tenant, leg.account, checkpoint)
    if also is not None:
        also(tx)
    tx.execute()


def add_state_update(tx: Transaction, tenant: str, account: Account, *, expected_seq: int,
                     changes: Mapping[str, Any], guard: Guard | None = None) -> None:
    """Set the new state if nobody moved the account since ``expected_seq`` was
    read and, with ``guard``, if the item still meets its condition."""
    names = {f"#a{n}": name for n, name in enumerate(changes)}
    values: dict[str, Any] = {f":a{n}": value for n, value in enumerate(changes.values())}
    expression = "SET " + ", ".join(f"#a{n} = :a{n}" for n in range(len(changes)))
    values[":expected"] = expected_seq
    names["#seq"] = "ledgerSeq"
    if expected_seq == 0:
        condition = "attribute_not_exists(#seq) OR #seq = :expected"
        if account != TENANT_ACCOUNT:
            condition = f"attribute_exists(PK) AND ({condition})"
    else:
        condition = "#seq = :expected"
    if guard is not None:
        condition = f"({condition}) AND ({guard.condition})"
        names.update(guard.names)
        values.update(guard.values)
    tx.update(settings.main_table(), state_key(tenant, account), expression, condition=condition,
              values=values, names=names,
              failure=BalanceMovedError(f"account {account} changed while a movement was written"))


def add_entry(tx: Transaction, tenant: str, account: Account, entry: Mapping[str, Any]) -> None:
    item = {"PK": ledger_pk(tenant, account), "SK": entry_sk(entry["at"], entry["seq"]), **entry}
    tx.put(settings.ledger_table(), item, condition="attribute_not_exists(PK)",
           failure=BalanceMovedError("the ledger position was taken"))


def add_checkpoint(tx: Transaction, tenant: str, account: Account, checkpoint: Mapping[str, Any]) -> None:
    """A closed day (``day``) or month (``month``)."""
    sk = checkpoint_sk(checkpoint["day"]) if "day" in checkpoint else month_sk(checkpoint["month"])
    item = {"PK": ledger_pk(tenant, account), "SK": sk, **checkpoint}
    tx.put(settings.ledger_table(), item, condition="attribute_not_exists(PK)",
           failure=BalanceMovedError("the day was closed by another movement"))


def add_claim(tx: Transaction, tenant: str, account: Account, key: str, record: Mapping[str, Any]) -> None:
    item = {"PK": ledger_pk(tenant, account), "SK": f"K#{key}", **record}
    tx.put(settings.ledger_table(), item, condition="attribute_not_exists(PK)",
           failure=DuplicateKeyError(f"idempotency key '{key}' was already used", field="idempotencyKey"))


def read_claim(tenant: str, account: Account, key: str) -> dict[str, Any] | None:
    return get(settings.ledger_table(), {"PK": ledger_pk(tenant, account), "SK": f"K#{key}"})


def checkpoints_down_from(tenant: str, account: Account, last_day: str, *, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """Day checkpoints on or before ``last_day``, newest first."""
    return query_pages(settings.ledger_table(), key_condition="PK = :pk AND SK BETWEEN :low AND :high",
                       values={":pk": ledger_pk(tenant, account), ":low": "D#", ":high": checkpoint_sk(last_day)},
                       forward=False, page_size=page_size, consistent=True)


STATE_ATTRIBUTES = ("PK", "balance", "ledgerDay", "ledgerCumTotals", "ledgerFirstDay")
# What a statement ending in the open day reads of the state item (one GetItem).
OPEN_STATE_ATTRIBUTES = STATE_ATTRIBUTES + ("ledgerMonth", "ledgerMonthOpening", "ledgerMonthTotals")
CHECKPOINT_ATTRIBUTES = ("day", "closing", "cumulative")


def state_and_checkpoints(tenant: str, account: Account, days: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The account's state item and the checkpoints of exactly ``days`` that
    exist, in one BatchGetItem (the two tables together)."""
    found = batch_get_tables({
        settings.main_table(): [state_key(tenant, account)],
        settings.ledger_table(): [{"PK": ledger_pk(tenant, account), "SK": checkpoint_sk(day)} for day in days],
    }, attributes={
        # Only the ledger cursor of the (large) customer item, and what a statement uses of a checkpoint.
        settings.main_table(): STATE_ATTRIBUTES, settings.ledger_table(): CHECKPOINT_ATTRIBUTES,
    })
    states = found[settings.main_table()]
    if not states and account != TENANT_ACCOUNT:
        raise NotFoundError(f"account {account} not found", field="account")
    return (states[0] if states else {}), {item["day"]: item for item in found[settings.ledger_table()]}


def statement_state(tenant: str, account: Account) -> dict[str, Any]:
    """What a statement needs of the account's state item (a consistent
    GetItem of a few attributes of the customer item)."""
    item = get(settings.main_table(), state_key(tenant, account), attributes=OPEN_STATE_ATTRIBUTES)
    if item is None:
        if account != TENANT_ACCOUNT:
            raise NotFoundError(f"account {account} not found", field="account")
        return {}
    return item


def start_checkpoint(tenant: str, account: Account, day: str) -> dict[str, Any] | None:
    """The checkpoint of exactly ``day``: what a statement uses of it."""
    return get(settings.ledger_table(), {"PK": ledger_pk(tenant, account), "SK": checkpoint_sk(day)},
               attributes=CHECKPOINT_ATTRIBUTES)


def get_month(tenant: str, account: Account, month: str) -> dict[str, Any] | None:
    """A closed month's record. Eventually consistent: month records never
    change once written, and one not visible yet only sends the caller to
    the day checkpoints (consistent reads)."""
    return get(settings.ledger_table(), {"PK": ledger_pk(tenant, account), "SK": month_sk(month)},
               consistent=False)


def latest_checkpoint(tenant: str, account: Account, day: str) -> dict[str, Any] | None:
    """The checkpoint of the last day on or before ``day`` that had movements."""
    for page in query_pages(settings.ledger_table(), key_condition="PK = :pk AND SK BETWEEN :low AND :high",
                            values={":pk": ledger_pk(tenant, account), ":low": "D#", ":high": checkpoint_sk(day)},
                            forward=False, page_size=1, consistent=True):
        return page[0] if page else None
    return None


def entries_between(tenant: str, account: Account, first_day: str, last_day: str, *,
                    page_size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Entries of the days [first_day, last_day], oldest first."""
    return query_pages(settings.ledger_table(), key_condition="PK = :pk AND SK BETWEEN :low AND :high",
                       values={":pk": ledger_pk(tenant, account), ":low": f"E#{first_day}",
                               ":high": f"E#{last_day}~"},
                       page_size=page_size, consistent=True)


def get_checkpoint(tenant: str, account: Account, day: str) -> dict[str, Any] | None:
    return get(settings.ledger_table(), {"PK": ledger_pk(tenant, account), "SK": checkpoint_sk(day)})


def set_credit_limit(tx: Transaction, tenant: str, credit_limit: Any) -> None:
    """The tenant wallet's credit limit (customers keep theirs on the customer item)."""
    tx.update(settings.main_table(), state_key(tenant, TENANT_ACCOUNT), "SET creditLimit = :cl",
              values={":cl": credit_limit})

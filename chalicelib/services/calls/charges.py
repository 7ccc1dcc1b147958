"""Posting call charges: what a day's rated calls cost each customer goes to
the ledger once (docs/cdrs.md, "Charges").

``post_call_charges`` posts a customer's call charges of a day through the
ledger (services/money/ledger.post_movement, activity "Call Charges"), in one
transaction with a charge record per customer and day moved by a
version-conditional write: each day is charged exactly once and a re-rate
posts only the difference. ``post_day_charges`` does it for every customer of
a closed day's shard group, skipping those whose record already holds the
amount, up to BATCH_CUSTOMERS customers per transaction (``post_batch``).
"""
from __future__ import annotations

import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Mapping

from chalicelib import settings
from chalicelib.domain.errors import ConcurrentUpdateError, DialtoneError, NotFoundError
from chalicelib.domain.money import ledger as ledger_rules
from chalicelib.domain.money.amounts import as_money, round_money
from chalicelib.observability import metrics
from chalicelib.services.money import ledger
from chalicelib.store import calls as store
from chalicelib.store.money import ledger as ledger_store

_log = logging.getLogger(__name__)
CHARGE_ATTEMPTS = 5
CHARGE_THREADS = 8
# A leg is at most four items (account state, entry, the closed day's and
# month's checkpoints) and its charge record one more; with the claim, 19
# customers stay within a transaction's 100 items.
BATCH_CUSTOMERS = 19


def post_day_charges(tenant: str, day: str, costs: dict[int, Decimal]) -> dict[str, str]:
    """Each customer's day total, skipping those whose charge record already
    holds it (one BatchGet per 100 customers, no write): a close run again,
    or a refresh of a day whose costs did not move, writes nothing. The
    others post in batches of up to BATCH_CUSTOMERS customers, one ledger
    movement with a leg per customer and their charge records in one
    transaction (``post_batch``); a batch refused as a whole (a vanished
    account, a record moved by a concurrent close) posts its customers one
    by one. Batches post in parallel (their items are disjoint), one at a
    time on the in-process test stage (moto does not serialise concurrent
    transactions)."""
    recorded = store.charges_of(tenant, sorted(costs), day)
    charged: dict[str, str] = {}
    pending = []
    for customer, amount in sorted(costs.items()):
        record = recorded.get(customer)
        if Decimal(str(record["total"])) == amount if record else amount == 0:
            charged[str(customer)] = "0"
        else:
            pending.append((customer, round_money(amount), record))

    def post(entry: tuple[int, Decimal, Any]) -> str:
        customer, amount, record = entry
        try:
            return str(post_call_charges(tenant=tenant, customer_id=customer, day=day, amount=amount,
                                         idempotency_key=f"call-charges#{customer}#{day}", record=record))
        except NotFoundError as error:
            # Call charges overdraw rather than fail (the ledger's overdraft rule), so
            # only a vanished account lands here. Nothing written: the next close
            # of the day (or a late file) tries again.
            _log.warning("call charges of customer %s on %s not posted: %s", customer, day, error.message)
            return f"refused: {error.message}"

    # The accounts' states in BatchGets (the batches' first attempts use them), not a GetItem per leg.
    states = ledger_store.read_states(tenant, [customer for customer, _, _ in pending]) if len(pending) > 1 else {}

    def post_many(batch: list[tuple[int, Decimal, Any]]) -> list[str]:
        if len(batch) > 1:
            try:
                return [str(d) for d in post_batch(tenant, day, batch, states=states)]
            except DialtoneError:
                pass  # one customer spoils the batch: each on its own, re-reading its record
        return [post(entry) for entry in batch]

    batches = [pending[start:start + BATCH_CUSTOMERS] for start in range(0, len(pending), BATCH_CUSTOMERS)]
    threads = 1 if settings.stage() == "test" else CHARGE_THREADS
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for batch, answers in zip(batches, pool.map(post_many, batches)):
            charged.update((str(customer), answer) for (customer, _, _), answer in zip(batch, answers))
    return charged


def post_batch(tenant: str, day: str, batch: list[tuple[int, Decimal, Any]], *,
               states: Mapping[str, Mapping[str, Any]] | None = None) -> list[Decimal]:
    """Several customers' call charges of ``day`` as one ledger movement (a
    leg per customer: the difference from what its charge record holds) and
    their charge records, in one transaction: all or none. (customer,
    amount, record as read) each, ``states`` the accounts' states as just
    read; returns the differences posted. The
    movement's idempotency key is made of the day and each customer's next
    record version, so a redelivered close replays it, and the
    version-conditional record writes refuse a batch whose records moved."""
    legs, writers, differences, versions = [], [], [], []
    for customer, amount, record in batch:
        posted = as_money(record["total"]) if record else as_money(0)
        difference = amount - posted
        version = int(record["version"]) + 1 if record else 1
        differences.append(difference)
        versions.append(f"{customer}.{version}")
        activity = ledger_rules.CALL_CHARGES_ACTIVITY if difference > 0 else ledger_rules.ADJUSTMENT
        legs.append(ledger.Leg(customer, activity, -difference,
                               f"Call charges {day}" + (" (re-rated)" if version > 1 else ""),
                               overdraft=activity == ledger_rules.CALL_CHARGES_ACTIVITY))
    key = f"call-charges#{day}#" + hashlib.sha256(",".join(versions).encode()).hexdigest()[:32]
    for (customer, amount, record), difference, named in zip(batch, differences, versions):
        entries: list[dict[str, Any]] = list(record.get("entries", [])) if record else []
        entries.append({"key": key, "amount": difference})
        writers.append(store.charge_record_writer(tenant, customer, day, total=amount,
                                                  version=int(named.split(".")[1]), entries=entries))

    def also(tx: Any) -> None:
        for write in writers:
            write(tx)

    ledger.post_legs(tenant=tenant, legs=legs, reference=f"call-charges:{day}", idempotency_key=key, also=also,
                     prior_states=states)
    for difference in differences:
        metrics.count("CallChargesPosted", Outcome="charge" if difference > 0 else "adjustment")
    return differences


_UNREAD: Any = object()


def post_call_charges(*, tenant: str, customer_id: int, day: str, amount: Decimal,
                      idempotency_key: str, record: Any = _UNREAD) -> Decimal:
    """Bring the customer's call charges of ``day`` to ``amount`` (the day as
    rated now): posts only the difference from what was posted before, as one
    ledger movement ("Call Charges" for more, "Adjustment" for a re-rate that
    lowers the day), in one transaction with the day's charge record. Calling
    it again with the same amount posts nothing. The calls were made: the
    charge is posted with the ledger's overdraft allowance for "Call Charges"
    and may take the balance below the customer's credit limit, which then
    blocks new spend (docs/money.md, "Usage below the credit limit").
    ``record``: the day's charge record as the caller just read it (None: there
    is none), saving the first read; a lost race reads it again."""
    amount = round_money(amount)
    for attempt in range(CHARGE_ATTEMPTS):
        if attempt or record is _UNREAD:
            record = store.get_charge(tenant, customer_id, day)
        posted = as_money(record["total"]) if record else as_money(0)
        difference = amount - posted
        if difference == 0:
            return difference
        version = int(record["version"]) + 1 if record else 1
        entries: list[dict[str, Any]] = list(record.get("entries", [])) if record else []
        # The entry key is the movement's idempotency key: one movement per
        # customer, day and version, never two.
        key = f"{idempotency_key}#v{version}"
        entries.append({"key": key, "amount": difference})

        activity = ledger_rules.CALL_CHARGES_ACTIVITY if difference > 0 else ledger_rules.ADJUSTMENT
        try:
            ledger.post_movement(tenant=tenant, account=customer_id, activity=activity, amount=-difference,
                                 reference=f"call-charges:{day}", idempotency_key=key,
                                 description=f"Call charges {day}" + (" (re-rated)" if version > 1 else ""),
                                 also=store.charge_record_writer(tenant, customer_id, day, total=amount,
                                                                 version=version, entries=entries),
                                 overdraft=activity == ledger_rules.CALL_CHARGES_ACTIVITY)
        except ConcurrentUpdateError:
            continue  # another close moved the record first: read it again
        metrics.count("CallChargesPosted", Outcome="charge" if difference > 0 else "adjustment")
        return difference
    raise ConcurrentUpdateError(f"call charges of customer {customer_id} on {day} kept changing")


def posted_call_charges(*, tenant: str, customer_id: int, day: str) -> dict[str, Any] | None:
    return store.get_charge(tenant, customer_id, day)

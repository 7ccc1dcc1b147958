"""Issue 3's figure: a balance statement over an account with 100,000 ledger entries.

Setup, on the runtime's DynamoDB Local: one customer whose ledger holds
ENTRIES entries over DAYS days (ending yesterday), bulk-loaded with
BatchWriteItem through the store's own key builders (entries, one checkpoint
per closed day, one record per closed month, the state item), then one real movement through
``services.ledger.post_movement`` today, which closes yesterday by the
service's own rules (it is conditional on the loaded ``ledgerSeq``). The load
is then checked: the sum of all 100,000 entries (read back) equals the
balance on the state item and the statement's closing balance.

Figures (median of REPEATS, in this process, warm client):
- requests to DynamoDB per statement, counted with a botocore ``before-send``
  hook on the store's client (target <= 3);
- statement time / time of one GetItem of a day checkpoint (target <= 1.5),
  for a closed calendar month (its month record: one GetItem) and for the
  whole period up to today (the state item: one GetItem). The detail also
  reports a period that is neither (15th to 14th, ending in the past: the
  general BatchGetItem of state and both boundary checkpoints) and the
  day-by-day method (one Query of every checkpoint of the period, used for
  accounts without cumulative totals) on the same data.
"""
from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable

ENTRIES = 100_000
DAYS = 200
REPEATS = 50
# Two months and a day: the period always holds one whole calendar month.
SMOKE = {"ENTRIES": 620, "DAYS": 62, "REPEATS": 2}
LOAD_THREADS = 8


def run(runtime: Any) -> list[dict[str, Any]]:
    with runtime.environment():
        return _run()


def _run() -> list[dict[str, Any]]:
    from chalicelib import settings
    from chalicelib.auth import api_key
    from chalicelib.domain.money import ledger as rules
    from chalicelib.domain.money.amounts import as_money
    from chalicelib.services.customers import accounts as customers
    from chalicelib.services.money import ledger, ledger_reads
    from chalicelib.services.identity import users
    from chalicelib.store.money import ledger as store
    from chalicelib.store.clients import client

    admin = users.create_tenant(name="Bench money")
    tenant = admin["tenant"]["id"]
    principal = api_key.authenticate(admin["user"]["api_key"], None)
    customer = customers.create_customer(principal=principal, fields={"name": "Busy", "creditLimit": "-1000000"})
    account = customer["id"]

    began = time.perf_counter()
    expected, load_requests = _load(tenant, account)
    load_seconds = time.perf_counter() - began
    today = date.today().isoformat()
    ledger.post_movement(tenant=tenant, account=account, activity=rules.CREDIT_CARD, amount=Decimal("1.00000"),
                         reference="bench:today", idempotency_key="bench:today")
    expected["closing"] += Decimal("1.00000")
    expected["payments"] += Decimal("1.00000")

    month = _closed_month(expected["first_day"], expected["last_day"])
    first, last = rules.month_bounds(month)
    # The load is a valid ledger: the entries (all read back) sum to the balance,
    # and both statement methods equal what the entries say, for the month too.
    total, count = as_money(0), 0
    before_month, in_month = as_money(0), rules.empty_totals()
    for page in store.entries_between(tenant, account, expected["first_day"], today):
        for e in page:
            amount = as_money(e["amount"])
            total += amount
            if e["at"][:10] < first:
                before_month += amount
            elif e["at"][:10] <= last:
                in_month[rules.category_of(e["activity"])] += amount
        count += len(page)
    balance, _ = ledger.balance_of(tenant=tenant, account=account)
    whole = ledger_reads.statement(tenant=tenant, account=account, first_day=expected["first_day"], last_day=today)
    month_from_entries = rules.Statement.from_totals(before_month, in_month)
    consistent = (count == ENTRIES + 1 and total == balance == whole.closing_balance == expected["closing"]
                  and whole.opening_balance == 0 and whole.payments == expected["payments"]
                  and whole.call_charges == expected["call_charges"]
                  and ledger_reads.statement(tenant=tenant, account=account, first_day=first, last_day=last)
                  == month_from_entries
                  == ledger_reads._statement_by_days(tenant=tenant, account=account, first_day=first, last_day=last)
                  and whole == ledger_reads._statement_by_days(tenant=tenant, account=account,
                                                         first_day=expected["first_day"], last_day=today))
    probe_day = expected["last_day"]
    ddb = client("dynamodb")
    counter = {"n": 0}

    def count_send(**_: Any) -> None:
        counter["n"] += 1

    def statement_of(a: str, b: str) -> Callable[[], Any]:
        return lambda: ledger_reads.statement(tenant=tenant, account=account, first_day=a, last_day=b)

    def checkpoint() -> Any:
        return store.get_checkpoint(tenant, account, probe_day)

    def by_days(a: str, b: str) -> Callable[[], Any]:
        # The day-by-day method (accounts without cumulative totals), for comparison.
        return lambda: ledger_reads._statement_by_days(tenant=tenant, account=account, first_day=a, last_day=b)

    odd_first = (date.fromisoformat(first) + timedelta(days=14)).isoformat()
    odd_last = (date.fromisoformat(last) + timedelta(days=14)).isoformat()
    if odd_last >= today:
        odd_first, odd_last = (date.fromisoformat(first) - timedelta(days=17)).isoformat(), \
            (date.fromisoformat(last) - timedelta(days=17)).isoformat()
    # The fast paths (month record, state item) agree with the general reads and the days.
    consistent = (consistent
                  and ledger_reads._statement_from_checkpoints(tenant, account, first, last) == month_from_entries
                  and ledger_reads._statement_from_checkpoints(tenant, account, expected["first_day"], today) == whole
                  and statement_of(odd_first, odd_last)()
                  == ledger_reads._statement_by_days(tenant=tenant, account=account, first_day=odd_first,
                                               last_day=odd_last))
    actions = {"baseline": checkpoint, "month": statement_of(first, last),
               "whole": statement_of(expected["first_day"], today), "odd": statement_of(odd_first, odd_last),
               "month_days": by_days(first, last), "whole_days": by_days(expected["first_day"], today)}
    ddb.meta.events.register("before-send.dynamodb", count_send)
    try:
        measured = _measure(actions, counter)
    finally:
        ddb.meta.events.unregister("before-send.dynamodb", count_send)
    baseline, base_requests = measured["baseline"]
    month_time, month_requests = measured["month"]
    whole_time, whole_requests = measured["whole"]
    odd_time, odd_requests = measured["odd"]
    month_days_time, month_days_requests = measured["month_days"]
    whole_days_time, whole_days_requests = measured["whole_days"]
    month_statement = statement_of(first, last)()
    setup = {"entries": ENTRIES + 1, "days": DAYS + 1, "load_seconds": round(load_seconds, 1),
             "load_requests": load_requests, "ledger_consistent": consistent,
             "checkpoint_getitem_ms": round(baseline * 1000, 3), "table": settings.ledger_table(),
             "other_period": {"period": f"{odd_first}..{odd_last}", "ms": round(odd_time * 1000, 3),
                              "requests": odd_requests, "ratio": round(odd_time / baseline, 2)},
             "by_days_method": {
                 "closed_month": {"ms": round(month_days_time * 1000, 3), "requests": month_days_requests,
                                  "ratio": round(month_days_time / baseline, 2)},
                 "200_days": {"ms": round(whole_days_time * 1000, 3), "requests": whole_days_requests,
                              "ratio": round(whole_days_time / baseline, 2)}}}
    results = []
    for name, period, seconds, requests in (
        ("money.statement_closed_month", f"{first}..{last}", month_time, month_requests),
        ("money.statement_200_days", f"{expected['first_day']}..{today}", whole_time, whole_requests),
    ):
        ratio = round(seconds / baseline, 2)
        results.append({"name": f"{name}.requests", "value": requests, "target": "<= 3",
                        "ok": requests <= 3 and consistent, "detail": {"period": period, **setup}})
        results.append({"name": f"{name}.time_vs_checkpoint_get", "value": ratio, "target": "<= 1.5",
                        "ok": ratio <= 1.5 and consistent,
                        "detail": {"period": period, "statement_ms": round(seconds * 1000, 3),
                                   "checkpoint_getitem_ms": round(baseline * 1000, 3),
                                   "closing": format(month_statement.closing_balance if "month" in name
                                                     else whole.closing_balance, "f")}})
    return results


def _measure(actions: dict[str, Callable[[], Any]], counter: dict[str, int]) -> dict[str, tuple[float, int]]:
    """Median seconds of each action and the DynamoDB requests of one call.
    The actions take turns within each repeat, so the machine's noise (other
    processes, DynamoDB Local's JIT) falls on all of them alike."""
    for action in actions.values():
        action()  # warm: connection, code paths
    times: dict[str, list[float]] = {name: [] for name in actions}
    requests: dict[str, set[int]] = {name: set() for name in actions}
    for _ in range(REPEATS):
        for name, action in actions.items():
            counter["n"] = 0
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
            requests[name].add(counter["n"])
    return {name: (statistics.median(times[name]), max(requests[name])) for name in actions}


def _closed_month(first_day: str, last_day: str) -> str:
    """The last calendar month that lies wholly inside [first_day, last_day]."""
    end = date.fromisoformat(last_day)
    month_end = end.replace(day=1) - timedelta(days=1)
    if (end + timedelta(days=1)).day == 1:
        month_end = end
    month = month_end.isoformat()[:7]
    assert f"{month}-01" >= first_day, "the loaded period holds no whole month"
    return month


def _load(tenant: str, account: int) -> tuple[dict[str, Any], int]:
    """ENTRIES entries over DAYS days ending yesterday, the checkpoints of every
    day but the last, and the state item with the last day still open, exactly
    as ``services.ledger`` would have left them. Returns the expected figures."""
    from chalicelib import settings
    from chalicelib.domain.money import ledger as rules
    from chalicelib.domain.money.amounts import as_money
    from chalicelib.store.money import ledger as store
    from chalicelib.store.dynamo.table import Transaction, batch_put

    per_day = ENTRIES // DAYS
    first = date.today() - timedelta(days=DAYS)
    pk = store.ledger_pk(tenant, account)
    name = store.account_name(account)
    balance, seq = as_money(0), 0
    items: list[dict[str, Any]] = []
    payments, calls = as_money(0), as_money(0)
    credit_limit = as_money("-1000000")
    day_opening, day_totals, cumulative = balance, rules.empty_totals(), rules.empty_totals()
    month_opening, month_totals, month = balance, rules.empty_totals(), first.isoformat()[:7]
    for d in range(DAYS):
        day = (first + timedelta(days=d)).isoformat()
        if day[:7] != month:  # the first movement of a new month closes the old one
            items.append({"PK": pk, "SK": store.month_sk(month), "month": month, "opening": month_opening,
                          "closing": balance, "totals": month_totals})
            month_opening, month_totals, month = balance, rules.empty_totals(), day[:7]
        day_opening, day_totals = balance, rules.empty_totals()
        for n in range(per_day):
            seq += 1
            if seq % 50 == 0:
                activity, amount = rules.CREDIT_CARD, Decimal("10.00000")
                payments += amount
            else:
                activity, amount = rules.CALL_CHARGES_ACTIVITY, Decimal("-0.12345")
                calls -= amount
            balance += amount
            day_totals = rules.add_to_totals(day_totals, activity, amount)
            month_totals = rules.add_to_totals(month_totals, activity, amount)
            cumulative = rules.add_to_totals(cumulative, activity, amount)
            at = f"{day}T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000000Z"
            items.append({"PK": pk, "SK": store.entry_sk(at, seq), "account": name, "seq": seq, "at": at,
                          "activity": activity, "amount": amount, "balanceAfter": balance,
                          "creditLimit": credit_limit, "reference": f"bench:{seq}"})
        if d < DAYS - 1:
            items.append({"PK": pk, "SK": store.checkpoint_sk(day), "day": day, "opening": day_opening,
                          "closing": balance, "totals": day_totals, "count": per_day, "lastSeq": seq,
                          "cumulative": cumulative})
    last_day = (first + timedelta(days=DAYS - 1)).isoformat()
    chunks = [items[i:i + 1000] for i in range(0, len(items), 1000)]
    table = settings.ledger_table()
    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        requests = sum(pool.map(lambda chunk: batch_put(table, chunk), chunks))
    tx = Transaction()
    store.add_state_update(tx, tenant, account, expected_seq=0, changes={
        "balance": balance, "ledgerSeq": seq, "ledgerLastAt": items[-1]["at"], "ledgerDay": last_day,
        "ledgerDayOpening": day_opening, "ledgerDayTotals": day_totals, "ledgerDayCount": per_day,
        "ledgerCumTotals": cumulative, "creditLimit": credit_limit, "ledgerFirstDay": first.isoformat(),
        "ledgerMonth": month, "ledgerMonthOpening": month_opening, "ledgerMonthTotals": month_totals,
    })
    tx.execute()
    return {"first_day": first.isoformat(), "last_day": last_day, "closing": balance, "payments": payments,
            "call_charges": calls}, requests + 1

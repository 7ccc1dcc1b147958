"""Many clients moving funds and paying at once, over real HTTP against
DynamoDB Local (moto does not serialise concurrent transactions). Checks: no
balance below its credit limit, every balance equals its ledger sum, and each
balance equals what the accepted requests say it must be (no lost update)."""
from __future__ import annotations

import random
import uuid
from datetime import date
from decimal import Decimal

import requests

from tests.support.harness.tenants import create_tenant
from tests.support.harness.concurrency import run_concurrently

THREADS = 16
STEPS = 12


def test_concurrent_fund_moves_and_payments(runtime):
    from chalicelib.domain.money import ledger as rules
    from chalicelib.domain.money.ledger import TENANT_ACCOUNT
    from chalicelib.services.customers import accounts as customers
    from chalicelib.services.identity import users
    from chalicelib.services.money import ledger
    from tests.support.worlds.money import admin, ledger_sum

    made = create_tenant(runtime, "Money Race")
    t, key = made["tenant"]["id"], made["user"]["api_key"]
    with runtime.environment():
        # The partner API answers only callers whose address is on the user's allow-list.
        users.set_allowlist(tenant=t, user_id=made["user"]["id"], ips=["127.0.0.1/32"])
        principal = admin(made)
        accounts = [customers.create_customer(principal=principal, fields={"name": f"C{n}", "creditLimit": "-5"})
                    for n in range(4)]
        ledger.post_movement(tenant=t, account=TENANT_ACCOUNT, activity=rules.BANK_TRANSFER, amount=Decimal("60"),
                             reference="seed", idempotency_key="seed")
    limits = {TENANT_ACCOUNT: Decimal("0"), **{c["id"]: Decimal("-5") for c in accounts}}
    year = str(date.today().year + 1)

    def work(n: int) -> list[tuple[str, int, Decimal, int]]:
        rng = random.Random(n)
        done = []
        with requests.Session() as s:
            for _ in range(STEPS):
                customer = rng.choice(accounts)
                if rng.random() < 0.7:
                    amount = Decimal(rng.choice(["7.5", "3.33333", "-2.5", "-4", "11"]))
                    r = s.put(f"{runtime.base_url}/partner/api/v1/funds", headers={"token": key},
                              files={"account_number": (None, customer["accountNumber"]),
                                     "amount": (None, str(amount))})
                    done.append(("move", customer["id"], amount, r.status_code))
                else:
                    r = s.post(f"{runtime.base_url}/carrier/make_payment",
                               headers={"Idempotency-Key": uuid.uuid4().hex},
                               data={"token": key, "accountno": customer["accountNumber"], "amount": "2",
                                     "firstname": "A", "lastname": "B", "cardnumber": "4242424242424242",
                                     "expmonth": "12", "expyear": year, "cvv": "123"})
                    done.append(("pay", customer["id"], Decimal("2"), r.status_code))
        return done

    results, peak = run_concurrently(THREADS, work)
    assert peak > 1, "the clients never overlapped"
    outcomes = [o for batch in results for o in batch]
    assert {status for *_, status in outcomes} <= {200, 402, 409}, outcomes
    expected = {a: Decimal("0") for a in limits}
    expected[TENANT_ACCOUNT] = Decimal("60")
    for kind, customer, amount, status in outcomes:
        if status != 200:
            continue
        expected[customer] += amount
        if kind == "move":
            expected[TENANT_ACCOUNT] -= amount
    refused = sum(1 for *_, status in outcomes if status == 402)
    assert refused > 0, "the race never reached a credit limit: the test proves too little"
    with runtime.environment():
        for account, limit in limits.items():
            balance, _ = ledger.balance_of(tenant=t, account=account)
            assert balance >= limit
            assert balance == ledger_sum(t, account) == expected[account], account

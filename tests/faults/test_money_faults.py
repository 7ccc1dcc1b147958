"""Fund moves (partner API) and card payments (carrier API, then the
reconciliation job) with a fault at each AWS call they make: each request
answers cleanly or succeeds, the client's retry with the same Idempotency-Key
converges, and afterwards every balance equals its ledger sum, each move
moved once and each payment the gateway charged is credited exactly once
(one it never charged, never)."""
from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from chalicelib import clock
from tests.support.surfaces.carrier import landlines, make_shop
from tests.support.injection.fault_sweep import Flow, sweep
from tests.support.injection.faults import Faults
from tests.support.worlds.money import assert_balance_is_ledger_sum, ledger_entries

PARTNER_SEED = Decimal("100000")


class FundMove(Flow):
    """PUT /partner/api/v1/funds with an Idempotency-Key, retried by the client until it is answered."""
    name = "fund move (partner API)"

    def __init__(self, client: Any) -> None:
        from chalicelib.domain.money import ledger as rules
        from chalicelib.domain.money.ledger import TENANT_ACCOUNT
        from chalicelib.services.identity import users
        from chalicelib.services.money import ledger

        self.client = client
        self.shop = make_shop(landlines("206300", 1), customers=1)
        from chalicelib.auth import api_key

        admin = api_key.authenticate(self.shop.admin_key, "127.0.0.1")
        # The partner API answers only callers whose address is on the user's allow-list.
        users.set_allowlist(tenant=self.shop.tenant, user_id=admin.user_id, ips=["127.0.0.1/32"])
        ledger.post_movement(tenant=self.shop.tenant, account=TENANT_ACCOUNT, activity=rules.BANK_TRANSFER,
                             amount=PARTNER_SEED, reference="seed", idempotency_key="seed")
        self.moved = Decimal("0")

    def prepare(self) -> str:
        return uuid.uuid4().hex

    def _put(self, key: str) -> int:
        response = self.client.put("/partner/api/v1/funds", body=urlencode(
            {"account_number": self.shop.accounts[0], "amount": "3.5"}), headers={
            "token": self.shop.admin_key, "Idempotency-Key": key,
            "Content-Type": "application/x-www-form-urlencoded"})
        return int(response.status_code)

    def act(self, key: str) -> int:
        return self._put(key)

    def recover(self, key: str) -> None:
        assert self._put(key) == 200, "the client's retry did not converge"
        self.moved += Decimal("3.5")

    def check(self) -> None:
        from chalicelib.domain.money.ledger import TENANT_ACCOUNT

        customer = assert_balance_is_ledger_sum(self.shop.tenant, self.shop.customer_ids[0])
        wallet = assert_balance_is_ledger_sum(self.shop.tenant, TENANT_ACCOUNT)
        assert customer == self.moved and wallet == PARTNER_SEED - self.moved, (customer, wallet, self.moved)


class CardPayment(Flow):
    """POST /carrier/make_payment with an Idempotency-Key; the client retries
    it; the reconciliation job runs once the pending time has passed."""
    name = "card payment + reconciliation"

    def __init__(self, client: Any) -> None:
        self.client = client
        self.shop = make_shop(landlines("206301", 1), customers=1)
        self.keys: list[str] = []

    def prepare(self) -> str:
        key = uuid.uuid4().hex
        self.keys.append(key)
        return key

    def _pay(self, key: str) -> int:
        body = {"token": self.shop.keys[self.shop.accounts[0]], "accountno": self.shop.accounts[0], "amount": "2",
                "firstname": "A", "lastname": "B", "cardnumber": "4242424242424242", "expmonth": "12",
                "expyear": str(date.today().year + 1), "cvv": "123"}
        response = self.client.post("/carrier/make_payment", body=json.dumps(body), headers={
            "Content-Type": "application/json", "Idempotency-Key": key})
        return int(response.status_code)

    def act(self, key: str) -> int:
        return self._pay(key)

    def recover(self, key: str) -> None:
        from chalicelib.services.money import payments

        # 202: the outcome is not known yet (the gateway or the store did not answer); reconciliation settles it
        assert self._pay(key) in (200, 202), "the client's retry did not converge"
        with clock.frozen(clock.now() + timedelta(minutes=30)):
            payments.reconcile(tenant=self.shop.tenant)

    def check(self) -> None:
        from chalicelib.store.money import sandbox_charges
        from chalicelib.services.money import payments
        from chalicelib.store.dynamo import entities
        from chalicelib.store.dynamo.schema import PAYMENT

        tenant, customer = self.shop.tenant, self.shop.customer_ids[0]
        balance = assert_balance_is_ledger_sum(tenant, customer)
        credited: dict[str, int] = {}
        for entry in ledger_entries(tenant, customer):
            credited[entry["reference"]] = credited.get(entry["reference"], 0) + 1
        charged = Decimal("0")
        for payment in entities.every(PAYMENT, tenant, page_size=200):
            reference = payments.payment_reference(tenant, payment)
            charge = sandbox_charges.get_charge(reference)
            if charge is not None and charge["outcome"] == "approved":
                assert payment["status"] == "approved", payment
                assert credited.get(reference) == 1, (reference, credited.get(reference))
                charged += Decimal(str(charge["amount"]))
            else:
                assert payment["status"] != "approved" and reference not in credited, payment
                assert payment["status"] in ("failed", "declined"), payment  # settled by now
        assert balance == charged
        # one payment per Idempotency-Key, never two
        assert len(list(entities.every(PAYMENT, tenant, page_size=200))) == len(self.keys)


def test_fund_moves_survive_a_fault_at_each_aws_call(client: Any) -> None:
    with Faults() as faults:
        coverage = sweep(faults, FundMove(client))
    assert coverage.calls and coverage.injected == coverage.scenarios


def test_card_payments_survive_a_fault_at_each_aws_call(client: Any) -> None:
    with Faults() as faults:
        coverage = sweep(faults, CardPayment(client), offset=3)
    assert coverage.calls and coverage.injected == coverage.scenarios

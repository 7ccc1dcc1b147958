"""Stateful property test: random payments, fund moves, order charges and
refunds; after every step each balance equals its ledger sum, no balance is
below its credit limit, the model agrees, and fund moves conserve the total."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chalicelib.domain.money import ledger as rules
from chalicelib.domain.errors import InsufficientFundsError
from chalicelib.domain.money.ledger import TENANT_ACCOUNT
from chalicelib.services.money import ledger
from chalicelib.services.identity import users
from tests.support.worlds.money import admin, ledger_sum, new_customer

amounts = st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("500"), places=5)
LIMITS = ["0", "-10", "-55.5"]


class Ledger(RuleBasedStateMachine):
    @initialize(limits=st.lists(st.sampled_from(LIMITS), min_size=1, max_size=3))
    def setup(self, limits):
        made = users.create_tenant(name="Prop")
        self.tenant = made["tenant"]["id"]
        principal = admin(made)
        self.customers = [new_customer(principal, credit_limit=limit)["id"] for limit in limits]
        self.limits = {c: Decimal(limit) for c, limit in zip(self.customers, limits)}
        self.limits[TENANT_ACCOUNT] = Decimal("0")
        self.model = {a: Decimal("0") for a in self.limits}
        self.external = Decimal("0")  # money that came in or left through non-transfer movements
        self.keys = 0
        self.last = None

    def _key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def _post(self, account, activity, amount):
        try:
            ledger.post_movement(tenant=self.tenant, account=account, activity=activity, amount=amount,
                                 reference="prop", idempotency_key=self._key())
        except InsufficientFundsError:
            assert self.model[account] + amount < self.limits[account]
            return
        assert self.model[account] + amount >= self.limits[account] or amount > 0
        self.model[account] += amount
        self.external += amount
        self.last = (account, activity, amount, f"k{self.keys}")

    @rule(data=st.data(), amount=amounts)
    def payment(self, data, amount):
        account = data.draw(st.sampled_from(self.customers + [TENANT_ACCOUNT]))
        self._post(account, rules.CREDIT_CARD if account != TENANT_ACCOUNT else rules.BANK_TRANSFER, amount)

    @rule(data=st.data(), amount=amounts)
    def order_charge(self, data, amount):
        self._post(data.draw(st.sampled_from(self.customers)), rules.ORDER_NEW_DIDS, -amount)

    @rule(data=st.data(), amount=amounts)
    def refund(self, data, amount):
        self._post(data.draw(st.sampled_from(self.customers)), rules.PAYMENT_REFUND, -amount)

    @rule(data=st.data(), amount=amounts, back=st.booleans())
    def fund_move(self, data, amount, back):
        customer = data.draw(st.sampled_from(self.customers))
        signed = -amount if back else amount
        debited = customer if back else TENANT_ACCOUNT
        try:
            ledger.transfer_funds(tenant=self.tenant, customer_id=customer, amount=signed, description="prop",
                                  idempotency_key=self._key())
        except InsufficientFundsError:
            assert self.model[debited] - amount < self.limits[debited]
            return
        self.model[customer] += signed
        self.model[TENANT_ACCOUNT] -= signed

    @precondition(lambda self: getattr(self, "last", None) is not None)
    @rule()
    def replay_last_movement(self):
        # A retried request with the same Idempotency-Key changes nothing.
        account, activity, amount, key = self.last
        again = ledger.post_movement(tenant=self.tenant, account=account, activity=activity, amount=amount,
                                     reference="prop", idempotency_key=key)
        assert again.replayed

    @invariant()
    def balances_equal_ledger_sums_and_model(self):
        if not hasattr(self, "tenant"):
            return
        total = Decimal("0")
        for account, expected in self.model.items():
            balance, limit = ledger.balance_of(tenant=self.tenant, account=account)
            assert balance == expected == ledger_sum(self.tenant, account)
            assert limit == self.limits[account]
            total += balance
        # Fund moves neither create nor destroy money.
        assert total == self.external


Ledger.TestCase.settings = settings(max_examples=8, stateful_step_count=15, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.usefixtures("aws")
class TestLedgerProperties(Ledger.TestCase):
    pass

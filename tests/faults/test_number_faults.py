"""Number reservation and sale (carrier API) and order processing (the order
worker) with a fault at each AWS call: each request answers cleanly or
succeeds, the client's retry with the same Idempotency-Key, SQS's redelivery
and the reservation sweeper converge, and afterwards no number has two
owners, every order is charged once and every balance equals its ledger sum."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.support.injection.fault_sweep import Flow, sweep
from tests.support.injection.faults import Faults
from tests.support.injection.number_faults import Shop


@pytest.fixture()
def lambdas(aws: None) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client


class NumberSale(Flow):
    """bulkreserve, gen_order, process_order: the fault lands in whichever request makes the call."""
    name = "number reservation and sale (carrier API)"

    def __init__(self, shop: Shop) -> None:
        self.shop, self.n = shop, 0

    def prepare(self) -> dict[str, Any]:
        self.n += 1
        return self.shop.new_sale(self.n)

    def act(self, ctx: dict[str, Any]) -> int | None:
        return self.shop.sell(ctx)

    def recover(self, ctx: dict[str, Any]) -> None:
        self.shop.retry(ctx)
        bodies = self.shop.deliver()
        assert self.shop.run_worker(bodies) == {"batchItemFailures": []}
        # a reservation whose answer was lost holds its numbers until the sweeper releases them
        self.shop.sweep_expired()

    def check(self) -> None:
        self.shop.check(settled=True)


class OrderWorker(Flow):
    """The order worker handling one queued order (charge, activate, complete)."""
    name = "order processing (order worker)"

    def __init__(self, shop: Shop) -> None:
        self.shop, self.n = shop, 0

    def prepare(self) -> list[str]:
        self.n += 1
        ctx = self.shop.new_sale(self.n)
        assert self.shop.sell(ctx) is None
        bodies = self.shop.deliver()
        assert len(bodies) == 1
        return bodies

    def act(self, bodies: list[str]) -> None:
        answer = self.shop.run_worker(bodies)
        if answer["batchItemFailures"]:
            self.shop.check(settled=False)  # even half-way, nothing is doubled or owned twice

    def recover(self, bodies: list[str]) -> None:
        # SQS delivers the message again (and, at least once, twice)
        assert self.shop.run_worker(bodies * 2) == {"batchItemFailures": []}

    def check(self) -> None:
        self.shop.check(settled=True)


def test_number_sales_survive_a_fault_at_each_aws_call(client: Any, lambdas: Any) -> None:
    shop = Shop(client, lambdas)
    with Faults() as faults:
        coverage = sweep(faults, NumberSale(shop))
    assert coverage.calls and coverage.injected == coverage.scenarios


def test_the_order_worker_survives_a_fault_at_each_aws_call(client: Any, lambdas: Any) -> None:
    shop = Shop(client, lambdas)
    with Faults() as faults:
        coverage = sweep(faults, OrderWorker(shop), offset=2)
    assert coverage.calls and coverage.injected == coverage.scenarios

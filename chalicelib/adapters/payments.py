"""Payment gateways: one interface, chosen per stage by ``PAYMENT_GATEWAY``.

``sandbox`` (default) behaves like a real processor: it checks Luhn and expiry,
approves 4242 4242 4242 4242, declines 4000 0000 0000 0002, and for
4000 0000 0000 0119 charges the card but times out, so the caller does not
know the outcome until it asks again (``lookup``). A real gateway plugs in as
``PAYMENT_GATEWAY=package.module:ClassName``: a class with the same two methods.
Card details are passed through, never stored or logged by Dialtone.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from chalicelib import clock
from chalicelib.domain.money.cards import Card, luhn_ok
from chalicelib.store.money import sandbox_charges

APPROVED, DECLINED, UNKNOWN = "approved", "declined", "unknown"


@dataclass(frozen=True)
class GatewayResult:
    outcome: str  # approved | declined | unknown
    reference: str | None = None  # the gateway's own id of the charge
    message: str = ""


class GatewayTimeout(Exception):
    """The gateway did not answer in time: the charge may or may not exist."""


class PaymentGateway(Protocol):
    def charge(self, *, amount: Decimal, currency: str, card: Card, reference: str) -> GatewayResult:
        """Charge once per ``reference`` (gateways deduplicate on it); may raise GatewayTimeout."""

    def lookup(self, *, reference: str) -> GatewayResult:
        """What became of the charge with ``reference``: unknown if the gateway has none."""


APPROVE_CARD, DECLINE_CARD, TIMEOUT_CARD = "4242424242424242", "4000000000000002", "4000000000000119"


class SandboxGateway:
    """The sandbox keeps its side of each charge in the main table
    (``SANDBOXPAY`` / <reference>), as a real processor keeps its own records."""

    def charge(self, *, amount: Decimal, currency: str, card: Card, reference: str) -> GatewayResult:
        done = sandbox_charges.get_charge(reference)
        if done is not None:
            return GatewayResult(done["outcome"], done.get("gatewayRef"), "duplicate reference")
        if not luhn_ok(card.number) or (card.exp_year, card.exp_month) < (clock.today().year, clock.today().month):
            return self._record(reference, DECLINED, amount, "invalid card")
        if card.number == DECLINE_CARD:
            return self._record(reference, DECLINED, amount, "card declined")
        if card.number == TIMEOUT_CARD:
            self._record(reference, APPROVED, amount, "approved after a timeout")
            raise GatewayTimeout("sandbox: the processor did not answer in time")
        if card.number == APPROVE_CARD:
            return self._record(reference, APPROVED, amount, "approved")
        return self._record(reference, DECLINED, amount, "sandbox approves only 4242424242424242")

    def lookup(self, *, reference: str) -> GatewayResult:
        done = sandbox_charges.get_charge(reference)
        return GatewayResult(done["outcome"], done.get("gatewayRef")) if done else GatewayResult(UNKNOWN)

    @staticmethod
    def _record(reference: str, outcome: str, amount: Decimal, message: str) -> GatewayResult:
        gateway_ref = f"sbx_{reference}"
        sandbox_charges.put_charge(reference, {"outcome": outcome, "gatewayRef": gateway_ref, "amount": amount})
        return GatewayResult(outcome, gateway_ref, message)


def gateway() -> PaymentGateway:
    name = os.environ.get("PAYMENT_GATEWAY", "sandbox")
    if name == "sandbox":
        return SandboxGateway()
    module, _, cls = name.partition(":")
    return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]

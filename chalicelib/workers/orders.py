"""order_worker: number orders queued by the carrier API's process_order, one
message per order: charge the customer and activate the numbers.

Processing is idempotent on the order id (services.numbers.orders.fulfil_order),
so a message delivered twice, or redelivered after the worker died half-way,
charges and activates once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.lazy import lazy
from chalicelib.workers.batch import BatchResponse, each_message

if TYPE_CHECKING:
    from chalicelib.services.numbers import orders
else:
    orders = lazy("chalicelib.services.numbers.orders")


def handle(event: Any) -> BatchResponse:
    return each_message(event, process, what="order")


def process(message: Mapping[str, Any]) -> None:
    """``{"tenant", "orderId"}``."""
    orders.fulfil_order(tenant=str(message["tenant"]), order_id=int(message["orderId"]))

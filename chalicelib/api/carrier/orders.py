"""Carrier API, number orders: gen_order, process_order, get_new_orders."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.carrier.dialect import Call, endpoint, ok
from chalicelib.api.carrier.views import order_view
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.numbers import orders
else:
    orders = lazy("chalicelib.services.numbers.orders")

@endpoint("gen_order", idempotent=True)
def gen_order(call: Call) -> Response:
    # With reserveId exactly that cart; without it the customer's Order Cart (the one its reservations joined).
    order = orders.generate_order(principal=call.principal, customer=call.customer,
                                  reserve_id=call.get("reserveId"), trunk_id=call.require("trunk_id"))
    view = order_view(order)
    # "status" is the envelope's "200"; the order's own state is orderStatus (code) and orderState (name).
    order_status, order_state = view.pop("status"), view.pop("state")
    return ok(success="Order Generated successfully.", orderId=view.pop("orderno"),
              reserveId=str(order["reserveId"]), orderStatus=order_status, orderState=order_state,
              **{k: v for k, v in view.items() if k not in ("accountno", "history")})


@endpoint("process_order", idempotent=True)
def process_order(call: Call) -> Response:
    order = orders.queue_order(principal=call.principal, customer=call.customer, order_id=call.require("orderId"))
    # Charging and activation run on the order worker (SQS); get_new_orders shows the outcome.
    return ok(success="Order Processed Successfully.", orderId=str(order["id"]))


@endpoint("get_new_orders")
def get_new_orders(call: Call) -> Response:
    if call.get("orderId") is not None:
        found = [orders.get_order(principal=call.principal, customer=call.customer, order_id=call.get("orderId"))]
    else:
        found = orders.list_orders(principal=call.principal, customer=call.customer)
    return ok(Orders=[order_view(o) for o in found])

"""Carrier API, number orders: gen_order, process_order, get_new_orders."""
from __future__ import annotations

from typing import Any, Mapping

from chalice import Response

from chalicelib.api.carrier.dialect import Call, endpoint, ok
from chalicelib.lazy import lazy

orders = lazy("chalicelib.services.numbers.orders")

CATEGORY_NAMES = {"landline": "Landline", "tollfree": "TollFree", "mixed": "Mixed"}


def _date(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


def order_view(order: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "orderno": str(order["id"]), "accountno": order["accountNumber"], "date": _date(order["createdAt"]),
        "amount": str(order["amount"]), "per_order_cost": str(order["perOrderCost"]), "taxes": str(order["taxes"]),
        "other_charges": str(order["otherCharges"]), "discount": str(order["discount"]),
        "tg_id": str(order.get("trunkId") or ""), "orderType": order["orderType"],
        "didCategory": CATEGORY_NAMES.get(order["category"], order["category"]), "didType": order["didType"],
        "sessions": str(order.get("sessions", 0)), "status": orders.STATUS_CODES[order["status"]],
        "state": order["status"], "numbers": list(order["numbers"]),
        "history": [{"status": h["status"], "date": _date(h["at"]), **({"note": h["note"]} if "note" in h else {})}
                    for h in order.get("history", [])],
    }


@endpoint("gen_order", idempotent=True)
def gen_order(call: Call) -> Response:
    order = orders.generate_order(principal=call.principal, customer=call.customer,
                                  reserve_id=call.require("reserveId"), trunk_id=call.require("trunk_id"))
    view = order_view(order)
    return ok(success="Order Generated successfully.", orderId=view.pop("orderno"),
              **{k: v for k, v in view.items() if k not in ("accountno", "history", "state")})


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

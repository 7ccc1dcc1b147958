"""Carrier API, porting: check_lnp, generate_lnp_order, get_lnp_orders."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalice import Response

from chalicelib.api.carrier import views
from chalicelib.api.carrier.dialect import Call, endpoint, ok
from chalicelib.api.carrier.errors import InvalidParameter
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain.numbers import inventory as number_rules
    from chalicelib.domain.numbers import porting as rules
    from chalicelib.services.numbers import porting
else:
    number_rules = lazy("chalicelib.domain.numbers.inventory")
    rules = lazy("chalicelib.domain.numbers.porting")
    porting = lazy("chalicelib.services.numbers.porting")


def _numbers(call: Call) -> list[str]:
    return number_rules.parse_numbers(call.require("numbers"), field="numbers", limit=rules.MAX_PORT_NUMBERS)


@endpoint("check_lnp")
def check_lnp(call: Call) -> Response:
    verdict = porting.check(principal=call.principal, numbers=_numbers(call))
    return ok(accepted=[r["number"] for r in verdict["accepted"]], rejected=list(verdict["rejected"]),
              reasons=verdict["rejected"])


@endpoint("generate_lnp_order", idempotent=True)
def generate_lnp_order(call: Call) -> Response:
    for name in ("loa_doc", "carrier_doc"):
        if name not in call.files:
            raise InvalidParameter(name)
    order = porting.create_port_order(
        principal=call.principal, customer=call.customer, numbers=_numbers(call),
        category=call.require("category"), subscriber_type=call.require("subscriberType").strip().lower(),
        authorizing_person=call.require("loaAuthorizingPerson"), loa=call.files["loa_doc"],
        carrier_doc=call.files["carrier_doc"], requested_foc=call.get("requestedFocDate"),
        details={k: v for k, v in call.params.items() if k in porting.SUBSCRIBER_FIELDS})
    view = port_order_view(call, order)
    return ok(success="Order Generated Successfully.", orderNo=view["orderno"], date=view["date"],
              amount="0.00", per_order_cost="0.00", taxes="0.00", other_charges="0.00", discount="0.00",
              tg_id="", orderType="Portin", didCategory=view["didCategory"], didType="", sessions="0",
              orderStatus=view["status"], orderState=view["state"], requestedFocDate=view["requestedFocDate"], acceptedTns=view["numbers"],
              rejectedTns=list(order.get("rejected", {})))


def port_order_view(call: Call, order: Mapping[str, Any]) -> dict[str, Any]:
    # The documents as short-lived links (presigned S3 URLs).
    tenant = call.principal.tenant_id
    return views.port_order_view(
        order, loa_url=porting.document_url(tenant=tenant, key=order["loaKey"], filename=f"loa-{order['id']}.zip"),
        carrier_doc_url=porting.document_url(tenant=tenant, key=order["carrierDocKey"],
                                             filename=f"carrier-doc-{order['id']}.zip"))


@endpoint("get_lnp_orders")
def get_lnp_orders(call: Call) -> Response:
    found = porting.list_port_orders(principal=call.principal, customer=call.customer, order_id=call.get("orderId"))
    return ok(Orders=[port_order_view(call, o) for o in found])

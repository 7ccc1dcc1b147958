"""Numbers: search available DIDs and toll-free numbers, reserve and order
them for a customer (the carrier API's carts and orders: a cart, an order on
an origination trunk, the order worker), and see the customer's numbers."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.api.portal.customers import own_or_chosen
from chalicelib.api.portal.dialect import FORMS, Visit, bp, serve
from chalicelib.domain.errors import ValidationError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.numbers import inventory, orders, trunks
    from chalicelib.services.numbers import reservations
else:
    inventory = lazy("chalicelib.services.numbers.inventory")
    reservations = lazy("chalicelib.services.numbers.reservations")
    orders = lazy("chalicelib.services.numbers.orders")
    trunks = lazy("chalicelib.services.numbers.trunks")

SEARCH_LIMIT = 50


@bp.route("/numbers", methods=["GET"])
def numbers_page() -> Response:
    def handle(visit: Visit) -> Response:
        me, params = visit.me, visit.query
        customer = own_or_chosen(visit, params.get("customer"))
        category = params.get("category") or "landline"
        found: list[dict[str, Any]] = []
        searched = "category" in params
        states = inventory.available_states(principal=me)
        # A landline search needs a state or an NPANXX: the first state with stock when neither is given.
        state = params.get("state") or (states[0] if states and not params.get("npanxx") else None)
        if searched:
            criteria = inventory.resolve_criteria(tenant=me.tenant_id, category=category,
                                                  state=state if category == "landline" else None,
                                                  npanxx=params.get("npanxx") or None,
                                                  tfn_prefix=params.get("prefix") or None)
            found = inventory.search(principal=me, criteria=criteria, limit=SEARCH_LIMIT)
        context: dict[str, Any] = {}
        if customer is not None:
            context = {"owned": inventory.owned_numbers(principal=me, customer=customer),
                       "trunk_list": trunks.list_trunks(principal=me, customer=customer, direction="origination"),
                       "order_list": list(reversed(orders.list_orders(principal=me, customer=customer)))[:10]}
        return visit.render("numbers.html", title="Numbers", customer=customer, params=params, category=category,
                            states=states, state=state, found=found, searched=searched,
                            notice=params.get("done"), **context)
    return serve(handle)


@bp.route("/numbers/order", methods=["POST"], content_types=FORMS)
def order_numbers() -> Response:
    def handle(visit: Visit) -> Response:
        me, form = visit.me, visit.form
        customer = own_or_chosen(visit, form.get("customer"))
        if customer is None:
            raise ValidationError("choose the customer the numbers are for", field="customer")
        chosen = [n for n in form.get("numbers", "").split(",") if n.strip()] + \
                 [name[len("n_"):] for name, value in form.items() if name.startswith("n_") and value]
        if not chosen:
            raise ValidationError("tick the numbers to order", field="numbers")
        cart = reservations.reserve_numbers(principal=me, customer=customer, numbers=sorted(set(chosen)))
        try:
            order = orders.generate_order(principal=me, customer=customer, reserve_id=cart["reserveId"],
                                          trunk_id=form.get("trunk"))
        except Exception:
            # Numbers never sit in a cart nobody can see: give them back at once.
            reservations.remove_reserved(principal=me, customer=customer, reserve_id=cart["reserveId"], numbers=None)
            raise
        orders.queue_order(principal=me, customer=customer, order_id=order["id"])
        return visit.redirect("/numbers", customer=customer["id"],
                              done=f"order {order['id']} placed for {', '.join(order['numbers'])}")
    return serve(handle)

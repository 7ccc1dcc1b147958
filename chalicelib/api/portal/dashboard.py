"""The main menu: balance, credit limit, recent payments and charges (the
customer's own account for a customer user, the partner's wallet for staff)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.portal.dialect import Visit, bp, serve
from chalicelib.api.portal.views import entry_view
from chalicelib.domain import identity
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.customers import accounts
    from chalicelib.services.money import statements
else:
    accounts = lazy("chalicelib.services.customers.accounts")
    statements = lazy("chalicelib.services.money.statements")


@bp.route("/dashboard", methods=["GET"])
def dashboard() -> Response:
    def handle(visit: Visit) -> Response:
        me = visit.me
        customer = None
        if me.customer_access == identity.ACCESS_CUSTOMER and me.customer_id is not None:
            customer = accounts.get_customer(principal=me, customer_id=me.customer_id)
        overview = None
        if customer is not None or me.customer_access == identity.ACCESS_ALL:
            overview = statements.account_overview(principal=me, customer=customer)
        return visit.render(
            "dashboard.html", title="Main menu", customer=customer, overview=overview,
            payments=[entry_view(e) for e in (overview or {}).get("payments", [])],
            charges=[entry_view(e) for e in (overview or {}).get("charges", [])])
    return serve(handle)

"""The main menu: balance, credit limit, recent payments and charges: the
customer's own account for a customer user, the partner's wallet for staff
with access to all customers, and for staff limited to some customers
(account managers, commission holders) those customers' balances, totals and
latest movements."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
        if me.customer_access in (identity.ACCESS_MANAGER, identity.ACCESS_COMMISSION):
            managed = statements.managed_overview(principal=me)
            return visit.render(
                "dashboard.html", title="Main menu", customer=None, overview=managed, managed=managed,
                payments=[_with_customer(e) for e in managed["payments"]],
                charges=[_with_customer(e) for e in managed["charges"]])
        overview = None
        if customer is not None or me.customer_access == identity.ACCESS_ALL:
            overview = statements.account_overview(principal=me, customer=customer)
        return visit.render(
            "dashboard.html", title="Main menu", customer=customer, overview=overview, managed=None,
            payments=[entry_view(e) for e in (overview or {}).get("payments", [])],
            charges=[entry_view(e) for e in (overview or {}).get("charges", [])])
    return serve(handle)


def _with_customer(entry: dict[str, Any]) -> dict[str, Any]:
    customer = entry["customer"]
    return {**entry_view(entry), "customerId": customer["id"], "customerName": customer.get("name"),
            "accountNumber": customer.get("accountNumber")}

"""Customers (staff): search and list, and one customer's page with contact,
numbers, services, notes, a balance statement for a chosen period and the
partner API request URL of that query, ready to copy (seed 001)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalice import Response

from chalicelib.api.portal.dialect import Visit, bp, serve
from chalicelib.api.portal.views import statement_rows
from chalicelib.domain import identity
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy
from chalicelib.store.dynamo.entities import Page

if TYPE_CHECKING:
    from chalicelib.services.customers import accounts, items
    from chalicelib.services.money import statements
    from chalicelib.services.numbers import inventory
else:
    accounts = lazy("chalicelib.services.customers.accounts")
    items = lazy("chalicelib.services.customers.items")
    statements = lazy("chalicelib.services.money.statements")
    inventory = lazy("chalicelib.services.numbers.inventory")

LIST_LIMIT = 200


def customer_from_path(principal: Principal, customer_id: str) -> dict[str, Any]:
    """The customer a URL names, within the user's scope; another tenant's id,
    or a customer outside the scope, is not found (the two look alike)."""
    if not customer_id.isdigit() or len(customer_id) > 12:
        raise NotFoundError(f"customer {customer_id} not found")
    return accounts.get_customer(principal=principal, customer_id=int(customer_id))


def own_or_chosen(visit: Visit, chosen: str | None) -> dict[str, Any] | None:
    """A customer user's own customer, or the customer a staff user chose (None: none chosen)."""
    me = visit.me
    if me.customer_access == identity.ACCESS_CUSTOMER and me.customer_id is not None:
        return accounts.get_customer(principal=me, customer_id=me.customer_id)
    return customer_from_path(me, chosen) if chosen else None


def _matches(customer: Mapping[str, Any], text: str) -> bool:
    wanted = text.lower()
    return any(wanted in str(customer.get(f) or "").lower()
               for f in ("name", "accountNumber", "email", "contactName", "phone"))


@bp.route("/customers", methods=["GET"])
def customer_list() -> Response:
    def handle(visit: Visit) -> Response:
        me = visit.me
        if me.customer_access == identity.ACCESS_CUSTOMER and me.customer_id is not None:
            return visit.redirect(f"/customers/{me.customer_id}")
        text = (visit.query.get("q") or "").strip()[:100]
        page = Page(limit=LIST_LIMIT, where=(lambda c: _matches(c, text)) if text else None)
        found = accounts.list_customers(principal=me, page=page)
        return visit.render("customers.html", title="Customers", customers=found, q=text,
                            more=len(found) >= LIST_LIMIT)
    return serve(handle)


@bp.route("/customers/{customer_id}", methods=["GET"])
def customer_page(customer_id: str) -> Response:
    def handle(visit: Visit) -> Response:
        me = visit.me
        customer = customer_from_path(me, customer_id)
        params = visit.query
        first, last = statements.period(params.get("from"), params.get("to"), names=("from", "to"))
        statement = statements.customer_statement(principal=me, account_number=customer["accountNumber"],
                                                  first_day=first, last_day=last)
        services, notes = (items.list_items(principal=me, resource=resource, page=_all(), customer_id=customer["id"])
                           for resource in (items.SERVICES, items.NOTES))
        balance_url = (f"{visit.api_root}/partner/api/v1/customers/{customer['accountNumber']}/balance"
                       f"?initial_date={first}&final_date={last}")
        return visit.render(
            "customer.html", title=customer["name"], customer=customer, first=first, last=last,
            statement=statement_rows(statement), balance_url=balance_url,
            numbers=inventory.owned_numbers(principal=me, customer=customer), services=services, notes=notes)
    return serve(handle)


def _all() -> Any:
    return Page(limit=100)

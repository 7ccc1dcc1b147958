"""Inventory numbers a customer owns, for billing API tests and benches: import
them (the inventory's import), reserve them for the customer (a cart) and
activate them the way the order worker does; then set their status through
the inventory's own update. No second kind of number."""
from __future__ import annotations

import io
from typing import Any, Mapping, Sequence

from chalicelib.domain.identity import Principal


def import_landlines(tenant: str, numbers: Sequence[str], *, state: str = "WA") -> dict[str, Any]:
    from chalicelib.services.numbers import inventory
    from tests.support.surfaces.carrier import inventory_csv

    rows = [(n, "landline", state, "SEATTLE", "SEATTLE", "1.25", "0.50") for n in numbers]
    return inventory.import_numbers(tenant=tenant, lines=io.StringIO(inventory_csv(rows)))


def own(principal: Principal, customer: Mapping[str, Any] | int, numbers: Sequence[str],
        status: str = "active", *, imported: bool = False, trunk_id: int | None = None) -> list[dict[str, Any]]:
    """Make ``numbers`` the customer's (importing them first unless ``imported``),
    with ``status`` (active, inactive or cancelled), ordered on ``trunk_id``;
    returns the number items."""
    from chalicelib.services.customers import accounts as customer_service
    from chalicelib.services.numbers import inventory
    from chalicelib.services.numbers import reservations
    from chalicelib.services.numbers import orders
    from chalicelib.store.numbers import inventory as store

    tenant = principal.tenant_id
    if isinstance(customer, int):
        customer = customer_service.get_customer(principal=principal, customer_id=customer)
    if not imported:
        import_landlines(tenant, numbers)
    cart = reservations.reserve_numbers(principal=principal, customer=customer, numbers=list(numbers))
    # The order worker's activation (services/numbers/orders.py), for a stand-in order.
    orders._activate(tenant, {"id": 0, "reserveId": cart["reserveId"], "customerId": customer["id"],
                              "numbers": list(numbers), "trunkId": trunk_id})
    if status != "active":
        inventory.update_numbers(principal=principal, customer=customer, numbers=list(numbers), status=status)
    return [store.get_number(tenant, n) for n in numbers]

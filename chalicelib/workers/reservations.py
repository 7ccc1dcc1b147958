"""reservation_sweeper: expired reservations (carts) go back to availability
without anyone acting, for every tenant."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.numbers import reservations
    from chalicelib.store.identity import users as identity
else:
    reservations = lazy("chalicelib.services.numbers.reservations")
    identity = lazy("chalicelib.store.identity.users")


def sweep() -> dict[str, Any]:
    tenants = [t["id"] for t in identity.list_tenants()]
    return {"released": reservations.sweep_all(tenants=tenants)}

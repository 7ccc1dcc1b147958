"""The ``statistics`` section: cdrs and sources (read-only)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.tracking import views
from chalicelib.api.tracking.dialect import Call, ok, resource
from chalicelib.domain import tracking as rules
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.tracking import calls
else:
    calls = lazy("chalicelib.services.tracking.calls")


def _filters(call: Call) -> tuple[int | None, int | None]:
    customer, source = call.param("customer_id"), call.param("source_id")
    return (rules.entity_id(customer, "customer_id") if customer else None,
            rules.entity_id(source, "source_id") if source else None)


def cdrs(call: Call) -> Response:
    customer_id, source_id = _filters(call)
    paging = rules.paging(call.params)
    found, total = calls.list_cdrs(principal=call.principal, customer_id=customer_id, source_id=source_id,
                                   params=call.params, paging=paging)
    return ok(call, "cdrs", "cdr", [views.cdr_view(c) for c in found], paging=paging.envelope(total))


def sources(call: Call) -> Response:
    customer_id, source_id = _filters(call)
    paging = rules.paging(call.params)
    found, total = calls.source_statistics(principal=call.principal, customer_id=customer_id, source_id=source_id,
                                           params=call.params, paging=paging)
    return ok(call, "sources", "source", [views.source_stats_view(r) for r in found], paging=paging.envelope(total))


resource("statistics/cdrs", GET=cdrs)
resource("statistics/sources", GET=sources)

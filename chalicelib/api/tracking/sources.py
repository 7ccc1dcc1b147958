"""The ``sources`` section. Two ways to reach a source, both for every
method: ``/customers/1/sources/2`` and ``/customers/sources?customer_id=1&source_id=2``
(also ``/sources?customer_id=1`` and ``/sources/2``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.tracking import views
from chalicelib.api.tracking.dialect import Call, ok, resource
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.tracking import fields, pools, sources
else:
    fields = lazy("chalicelib.services.tracking.fields")
    pools = lazy("chalicelib.services.tracking.pools")
    sources = lazy("chalicelib.services.tracking.sources")

PLURAL, SINGULAR = "sources", "source"


def _one(call: Call, record: dict) -> Response:
    return ok(call, PLURAL, SINGULAR, [views.source_view(record, fields.definitions(call.principal.tenant_id))])


def read(call: Call) -> Response:
    customer_id, source_id = call.scoped_id("source_id")
    if source_id is not None:
        return _one(call, sources.get_source(principal=call.principal, source_id=source_id, customer_id=customer_id))
    paging = rules.paging(call.params)
    found, total = sources.list_sources(principal=call.principal, customer_id=customer_id, paging=paging)
    defined = fields.definitions(call.principal.tenant_id)
    return ok(call, PLURAL, SINGULAR, [views.source_view(s, defined) for s in found], paging=paging.envelope(total))


def create(call: Call) -> Response:
    customer_id, source_id = call.scoped_id("source_id")
    if source_id is not None:
        raise ValidationError("POST creates a source; PUT updates one", field="source_id")
    if customer_id is None:
        raise ValidationError("customer_id is required", field="customer_id")
    given = {k: v for k, v in call.params.items() if k != "customer_id"}
    return _one(call, sources.create_source(principal=call.principal, customer_id=customer_id, given=given))


def update(call: Call) -> Response:
    customer_id, source_id = call.scoped_required_id("source_id")
    given = {k: v for k, v in call.params.items() if k not in ("customer_id", "source_id")}
    return _one(call, sources.update_source(principal=call.principal, source_id=source_id, customer_id=customer_id,
                                            given=given))


def delete(call: Call) -> Response:
    customer_id, source_id = call.scoped_required_id("source_id")
    return _one(call, sources.delete_source(principal=call.principal, source_id=source_id, customer_id=customer_id))


def session_number(call: Call) -> Response:
    customer_id, source_id = call.scoped_required_id("source_id")
    source, number, until = pools.number_for_session(principal=call.principal, source_id=source_id,
                                                     customer_id=customer_id, session=call.param("session"))
    return ok(call, "numbers", "number", [views.number_view(source, number, call.param("session") or "", until)])


def add_pool_numbers(call: Call) -> Response:
    customer_id, source_id = call.scoped_required_id("source_id")
    record = pools.add_pool_numbers(principal=call.principal, source_id=source_id, customer_id=customer_id,
                                    given={k: v for k, v in call.params.items()
                                           if k not in ("customer_id", "source_id")})
    return _one(call, record)


for _base in ("sources", "customers/sources", "customers/{customer_id}/sources"):
    resource(_base, GET=read, POST=create, PUT=update, DELETE=delete)
    resource(_base + "/{source_id}", GET=read, PUT=update, DELETE=delete)
    resource(_base + "/{source_id}/number", GET=session_number, POST=add_pool_numbers)
resource("customers/sources/number", GET=session_number, POST=add_pool_numbers)
resource("sources/number", GET=session_number, POST=add_pool_numbers)

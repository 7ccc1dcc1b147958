"""The ``customers`` section: list, one, create, update, drop."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.tracking import views
from chalicelib.api.tracking.dialect import Call, ok, resource
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.tracking import customers, fields
else:
    customers = lazy("chalicelib.services.tracking.customers")
    fields = lazy("chalicelib.services.tracking.fields")

PLURAL, SINGULAR = "customers", "customer"
WRITE_FIELDS = ("customer_id",)


def _one(call: Call, record: dict) -> Response:
    defined = fields.definitions(call.principal.tenant_id)
    return ok(call, PLURAL, SINGULAR, [views.customer_view(record, defined)])


def _customer_id(call: Call) -> int:
    return rules.entity_id(call.params.get("customer_id"), "customer_id")


def list_or_one(call: Call) -> Response:
    if call.param("customer_id"):
        return get_one(call)
    paging = rules.paging(call.params)
    found, total = customers.list_customers(principal=call.principal, paging=paging)
    defined = fields.definitions(call.principal.tenant_id)
    return ok(call, PLURAL, SINGULAR, [views.customer_view(c, defined) for c in found],
              paging=paging.envelope(total))


def get_one(call: Call) -> Response:
    return _one(call, customers.get_customer(principal=call.principal, customer_id=_customer_id(call)))


def create(call: Call) -> Response:
    if call.path.get("customer_id"):
        from chalicelib.api.tracking.errors import MethodNotAllowedError

        raise MethodNotAllowedError("POST creates at /customers; PUT updates /customers/{id}",
                                    allow=["GET", "PUT", "DELETE"])
    if call.param("customer_id"):
        # As sources and greetings answer: POST never updates (nor silently
        # creates another customer for a client that meant to update one).
        raise ValidationError("POST creates a customer; PUT updates one", field="customer_id")
    given = {k: v for k, v in call.params.items() if k != "customer_id"}
    return _one(call, customers.create_customer(principal=call.principal, given=given))


def update(call: Call) -> Response:
    given = {k: v for k, v in call.params.items() if k != "customer_id"}
    return _one(call, customers.update_customer(principal=call.principal, customer_id=_customer_id(call),
                                                given=given))


def drop(call: Call) -> Response:
    return _one(call, customers.drop_customer(principal=call.principal, customer_id=_customer_id(call)))


resource("customers", GET=list_or_one, POST=create, PUT=update, DELETE=drop)
resource("customers/{customer_id}", GET=get_one, PUT=update, DELETE=drop)

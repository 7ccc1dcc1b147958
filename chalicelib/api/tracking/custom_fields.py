"""The ``custom_fields`` section: the definitions, read-only ("defined by the
partner and Freespee at delivery": staff define them with the admin CLI's
``define-custom-field``). Writing is 405."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.tracking import views
from chalicelib.api.tracking.dialect import Call, ok, resource
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import ValidationError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.tracking import fields
else:
    fields = lazy("chalicelib.services.tracking.fields")


def read(call: Call) -> Response:
    entity = call.param("entity")
    if entity is not None and entity not in rules.ENTITIES:
        raise ValidationError(f"entity must be one of {', '.join(rules.ENTITIES)}", field="entity")
    paging = rules.paging(call.params)
    found = [d for d in fields.list_definitions(principal=call.principal) if entity in (None, d.entity)]
    return ok(call, "custom_fields", "custom_field",
              [views.custom_field_view(d) for d in found[paging.offset:paging.offset + paging.pagesize]],
              paging=paging.envelope(len(found)))


resource("custom_fields", GET=read)

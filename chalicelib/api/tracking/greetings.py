"""The ``voicemail_greetings`` sub-resource of customers, both ways:
``/customers/1/voicemail_greetings/2`` and
``/customers/voicemail_greetings?customer_id=1&vm_greeting_id=2``.
Upload: ``audio`` as a base64 form (or JSON) field, or as a multipart file."""
from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.tracking import views
from chalicelib.api.tracking.dialect import Call, ok, resource
from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import FileTooLargeError, ValidationError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.tracking import greetings
else:
    greetings = lazy("chalicelib.services.tracking.greetings")

PLURAL, SINGULAR = "voicemail_greetings", "voicemail_greeting"


def _one(call: Call, record: dict, *, url: bool = True) -> Response:
    link = greetings.audio_url(principal=call.principal, record=record) if url else None
    return ok(call, PLURAL, SINGULAR, [views.greeting_view(record, link)])


def read(call: Call) -> Response:
    customer_id, greeting_id = call.scoped_id("vm_greeting_id")
    if greeting_id is not None:
        return _one(call, greetings.get_greeting(principal=call.principal, greeting_id=greeting_id,
                                                 customer_id=customer_id))
    paging = rules.paging(call.params)
    found, total = greetings.list_greetings(principal=call.principal, customer_id=customer_id, paging=paging)
    return ok(call, PLURAL, SINGULAR,
              [views.greeting_view(g, greetings.audio_url(principal=call.principal, record=g)) for g in found],
              paging=paging.envelope(total))


def _audio(call: Call) -> bytes:
    if "audio" in call.files:
        data = bytes(call.files["audio"].content)
    else:
        text = call.params.get("audio") or ""
        if not text:
            raise ValidationError("audio is required (base64 field or multipart file)", field="audio")
        if len(text) > (rules.MAX_GREETING_BYTES * 4) // 3 + 8:
            raise FileTooLargeError(f"a greeting is at most {rules.MAX_GREETING_BYTES} bytes", field="audio")
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("audio is not valid base64", field="audio") from None
    return data


def create(call: Call) -> Response:
    customer_id, greeting_id = call.scoped_id("vm_greeting_id")
    if greeting_id is not None:
        raise ValidationError("POST uploads a new greeting; PUT updates one", field="vm_greeting_id")
    if customer_id is None:
        raise ValidationError("customer_id is required", field="customer_id")
    given = {k: v for k, v in call.params.items() if k not in ("customer_id", "audio")}
    return _one(call, greetings.upload(principal=call.principal, customer_id=customer_id, given=given,
                                       audio=_audio(call)))


def update(call: Call) -> Response:
    customer_id, greeting_id = call.scoped_required_id("vm_greeting_id")
    given = {k: v for k, v in call.params.items() if k not in ("customer_id", "vm_greeting_id")}
    return _one(call, greetings.update(principal=call.principal, greeting_id=greeting_id, customer_id=customer_id,
                                       given=given))


def delete(call: Call) -> Response:
    customer_id, greeting_id = call.scoped_required_id("vm_greeting_id")
    return _one(call, greetings.delete(principal=call.principal, greeting_id=greeting_id, customer_id=customer_id),
                url=False)


for _base in ("customers/voicemail_greetings", "customers/{customer_id}/voicemail_greetings"):
    resource(_base, GET=read, POST=create, PUT=update, DELETE=delete)
    resource(_base + "/{vm_greeting_id}", GET=read, PUT=update, DELETE=delete)

"""Voicemail greetings of a customer: audio (WAV or MP3, recognised by its
content, at most MAX_GREETING_BYTES) in S3 under the tenant, metadata as an
entity. An upload is checked whole before anything is written; the object
is put in place with the pending tag, then the record, which records the
object's settling (store/pending_files.py): a refused upload leaves
nothing in S3, a crash at any point leaves either a tagged object nothing
names (the bucket's lifecycle rule expires it) or a greeting whose audio the
settle_pending_files schedule marks recorded. DELETE removes both the same way."""
from __future__ import annotations

import secrets
from typing import Any, Mapping

from chalicelib.domain import tracking as rules
from chalicelib.domain.errors import DialtoneError, FileTooLargeError, NotFoundError, UnknownFieldError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.services.tracking import customers
from chalicelib.store.tracking import greetings as store


def _name(value: Any) -> str:
    text = str(value or "").strip()
    if not text or len(text) > rules.NAME_MAX:
        raise ValidationError(f"name must be 1-{rules.NAME_MAX} characters", field="name")
    return text


def _active(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no"):
        return False
    raise ValidationError("active must be 1 or 0", field="active")


def check_audio(data: bytes) -> str:
    if len(data) > rules.MAX_GREETING_BYTES:
        raise FileTooLargeError(f"a greeting is at most {rules.MAX_GREETING_BYTES} bytes", field="audio")
    kind = rules.audio_kind(data)
    if not data or kind is None:
        raise ValidationError("audio must be a WAV or MP3 file", field="audio")
    return kind


def upload(*, principal: Principal, customer_id: int, given: Mapping[str, Any], audio: bytes) -> dict[str, Any]:
    principal.require_write()
    for field in given:
        if field not in ("name", "active", "customer_id", "audio"):
            raise UnknownFieldError(f"unknown field '{field}'", field=field)
    name = _name(given.get("name"))
    active = _active(given.get("active", "1"))
    kind = check_audio(audio)
    customer = customers.get_customer(principal=principal, customer_id=customer_id)
    tenant = principal.tenant_id
    greeting_id = store.allocate_id(tenant)
    key = store.greeting_object_key(customer["id"], greeting_id, secrets.token_hex(8), kind)
    store.put_audio(tenant, key, audio, rules.AUDIO_TYPES[kind])
    try:
        record = store.create_greeting(tenant, {"customerId": customer["id"], "name": name, "active": active,
                                                "contentType": rules.AUDIO_TYPES[kind], "size": len(audio),
                                                "objectKey": key}, entity_id=greeting_id)
    except DialtoneError:
        store.discard_audio(tenant, key)  # refused: nothing names it
        raise
    # (Any other failure may follow a commit: the tagged audio stays, marked
    # recorded by the schedule if the greeting was written, else expired by the lifecycle.)
    store.settle_audio(tenant, key)
    audit.touch("greeting", greeting_id)
    return record


def get_greeting(*, principal: Principal, greeting_id: int, customer_id: int | None) -> dict[str, Any]:
    principal.require_read()
    return customers.owned_record(
        principal=principal, record=store.get_greeting(principal.tenant_id, greeting_id), customer_id=customer_id,
        not_found=NotFoundError(f"voicemail greeting {greeting_id} not found", field="vm_greeting_id"))


def list_greetings(*, principal: Principal, customer_id: int | None, paging: rules.Paging
                   ) -> tuple[list[dict[str, Any]], int]:
    principal.require_read()
    ids = customers.customer_ids_in_scope(principal=principal, customer_id=customer_id)
    found = store.greetings_of(principal.tenant_id, ids)
    return found[paging.offset:paging.offset + paging.pagesize], len(found)


def update(*, principal: Principal, greeting_id: int, customer_id: int | None, given: Mapping[str, Any]) -> dict[str, Any]:
    principal.require_write()
    for field in given:
        if field not in ("name", "active"):
            raise UnknownFieldError(f"unknown field '{field}' (replace the audio by uploading a new greeting)",
                                    field=field)
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = _name(given["name"])
    if "active" in given:
        changes["active"] = _active(given["active"])
    current = get_greeting(principal=principal, greeting_id=greeting_id, customer_id=customer_id)
    return store.update_greeting(principal.tenant_id, current, changes) if changes else current


def delete(*, principal: Principal, greeting_id: int, customer_id: int | None) -> dict[str, Any]:
    principal.require_write()
    current = get_greeting(principal=principal, greeting_id=greeting_id, customer_id=customer_id)
    # Its audio may still be unsettled (a crashed upload): settle it now, so
    # no settle of it can run after its deletion.
    store.settle_audio_if_pending(principal.tenant_id, current["objectKey"])
    store.delete_greeting(principal.tenant_id, current)
    store.settle_audio(principal.tenant_id, current["objectKey"], deleted=True)
    return current


def audio_url(*, principal: Principal, record: Mapping[str, Any]) -> str:
    return store.audio_url(principal.tenant_id, record["objectKey"])

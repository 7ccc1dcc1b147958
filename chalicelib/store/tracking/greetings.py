"""Voicemail greetings: a generic entity (entities.py, parent CUSTOMER) and
its audio in S3 (tenants/T/greetings/<customerId>/<id>-<random>.<wav|mp3>),
put with the pending tag and settled with the greeting's commit
(store/pending_files.py)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib.store import blobs, pending_files
from chalicelib.store.dynamo import entities, keys, schema
from chalicelib.store.dynamo.table import Transaction
from chalicelib.store.tracking.keys import table

GREETING = schema.TRACKING_GREETING


def allocate_id(tenant: str) -> int:
    return entities.allocate_ids(tenant, GREETING.kind)[0]


def greeting_object_key(customer_id: int, greeting_id: int, token: str, extension: str) -> str:
    return f"greetings/{customer_id}/{greeting_id}-{token}.{extension}"


def create_greeting(tenant: str, fields: Mapping[str, Any], *, entity_id: int) -> dict[str, Any]:
    """The greeting, and in the same transaction the settling of its audio
    (``objectKey``, put with the pending tag by put_audio): store/pending_files.py."""
    also = pending_files.add(Transaction(), tenant, fields["objectKey"], tagged=True)
    return entities.create(GREETING, tenant, fields, entity_id=entity_id, also=also)


def get_greeting(tenant: str, greeting_id: int) -> dict[str, Any] | None:
    return entities.get_one(GREETING, tenant, greeting_id)


def greetings_of(tenant: str, customer_ids: Iterable[int]) -> list[dict[str, Any]]:
    grouped = entities.children_of(GREETING, tenant, list(customer_ids))
    return sorted((g for items in grouped.values() for g in items), key=lambda g: g["id"])


def update_greeting(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    return entities.update(GREETING, tenant, current, changes)


def delete_greeting(tenant: str, current: Mapping[str, Any]) -> None:
    """The greeting goes, and in the same transaction the deletion of its
    audio is recorded, so a crash before ``settle_audio`` leaves no object
    without its greeting (store/pending_files.py)."""
    tx = Transaction()
    tx.delete(table(), {"PK": keys.entity_pk(tenant, GREETING.kind), "SK": keys.pad(current["id"])},
              condition="#v = :v", names={"#v": "version"}, values={":v": current["version"]})
    pending_files.add(tx, tenant, current["objectKey"], drop=[current["objectKey"]], promote=False)
    tx.execute()


def put_audio(tenant: str, key: str, data: bytes, content_type: str) -> None:
    """In place with the pending tag (the lifecycle rule expires it) until the
    greeting that names it is committed (settle_audio)."""
    blobs.put(tenant, key, data, content_type=content_type, tagged=True)


def discard_audio(tenant: str, key: str) -> None:
    """The audio (still tagged pending) of a greeting that was refused."""
    blobs.delete(tenant, key)


def settle_audio(tenant: str, key: str, *, deleted: bool = False) -> None:
    """After the commit of create_greeting (mark the audio recorded) or of
    delete_greeting (``deleted``: delete it); left to the schedule on failure."""
    if deleted:
        pending_files.settle_or_leave(tenant, key, drop=[key], promote=False)
    else:
        pending_files.settle_or_leave(tenant, key, tagged=True)


def settle_audio_if_pending(tenant: str, key: str) -> None:
    """Settle the audio if a crashed upload left it pending (before its deletion)."""
    pending_files.settle_if_pending(tenant, key)


def audio_url(tenant: str, key: str) -> str:
    return blobs.presigned_download(tenant, key)

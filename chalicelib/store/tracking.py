"""Storage of the call-tracking surface (issue 12): the only module that knows
the attribute names of its items. Keys (main table), tenant T:

  DIGESTNC#<sha256(nonce)[:32]> / <nc>     a used (nonce, nc) pair; TTL expiresAt
  T#T#CUSTOMFIELD / <entity>#<slot:03d>    a custom-field definition (admin CLI)
  T#T#TRKSOURCE / <id>                     a source (generic entity, entities.py):
      GSI1 ByParent T#T#CUSTOMER>TRKSOURCE / <customerId>#<id>   a customer's sources
      GSI3 ByRef1  T#T#TRKSOURCE#NUMBER#<number> / <id>         the sources that held a number
  T#T#TRKLIVE / <number>                   the active source holding a number (one at a time)
  T#T#TRKCUSTOMER / <customerId>           activeSources: the customer's active sources, kept by
                                           the sources' own transactions; a drop is conditional on 0
  T#T#TRKSALE#<customerId> / <number>      a number sold for a source (or a pool) whose transaction
                                           has not committed yet: criteria; a retry takes it first
  T#T#TRKHOLD#<number> / <from>#<sourceId> a number's holding periods: from, until, source
  T#T#TRKGREETING / <id>                   a voicemail greeting (generic entity, parent CUSTOMER)
  T#T#TRKPOOL#<sourceId> / <number>        a pool number: lastHandedAt, session, sessionUntil
  T#T#TRKSESSION#<sourceId> / <session>    a live session's number and its end
S3 under tenants/T/: greetings/<customerId>/<id>-<random>.<wav|mp3>
Calls are read from the CDR pipeline's part objects (store/cdrs.py): per day
and shard, in key order (= ingestion order), first row of a call id wins.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any, Iterable, Mapping

from chalicelib import clock, settings
from chalicelib.store.dynamo import entities, keys
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import Transaction, ddb, get, query_pages
from chalicelib.store.dynamo import schema

SOURCE = schema.TRACKING_SOURCE
GREETING = schema.TRACKING_GREETING


def _table() -> str:
    return settings.main_table()


# ---------------------------------------------------------------- Digest

def digest_user(username: str) -> tuple[str, dict[str, Any]] | None:
    """(tenant, user) by username (unique across tenants). An unknown name
    reads a second (absent) item, so it costs what a known one does."""
    from chalicelib.store.dynamo.schema import USER

    owner = entities.find_id_by_unique(USER, None, "username", username)
    if owner is None:
        get(_table(), {"PK": "U#USER#username#absent", "SK": "-"})
        return None
    user = entities.get_one(USER, owner[0], owner[1])
    return (owner[0], user) if user else None


def claim_nonce_count(nonce: str, nc: str, *, expires_at: int) -> bool:
    """Record (nonce, nc) as used; False when it already was (a replay), also
    when the first use came through another function instance."""
    key = {"PK": "DIGESTNC#" + hashlib.sha256(nonce.encode()).hexdigest()[:32], "SK": nc.lower()}
    try:
        ddb().put_item(TableName=_table(), Item=to_item({**key, "expiresAt": expires_at}),
                       ConditionExpression="attribute_not_exists(PK)")
    except ddb().exceptions.ConditionalCheckFailedException:
        return False
    return True


# ---------------------------------------------------------------- custom fields

def _field_key(tenant: str, entity: str, slot: int) -> dict[str, str]:
    return {"PK": f"T#{tenant}#CUSTOMFIELD", "SK": f"{entity}#{slot:03d}"}


def put_definition(tenant: str, *, entity: str, slot: int, name: str, kind: str, values: list[str]) -> dict[str, Any]:
    record = {"entity": entity, "slot": slot, "name": name, "type": kind, "values": values,
              "updatedAt": clock.now_iso()}
    ddb().put_item(TableName=_table(), Item=to_item({**_field_key(tenant, entity, slot), **record}))
    return record


def definitions(tenant: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk", values={":pk": f"T#{tenant}#CUSTOMFIELD"}):
        found.extend({k: v for k, v in item.items() if k not in ("PK", "SK")} for item in page)
    return found


# ---------------------------------------------------------------- sources and numbers

def _live_key(tenant: str, number: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#TRKLIVE", "SK": number}


def _hold_pk(tenant: str, number: str) -> str:
    return f"T#{tenant}#TRKHOLD#{number}"


def add_holding(tx: Transaction, tenant: str, *, number: str, source_id: int, customer_id: int, since: str,
                failure: Any) -> None:
    """The source starts holding ``number``: the live claim (refused while
    another active source holds it) and the start of a holding period."""
    tx.put(_table(), {**_live_key(tenant, number), "sourceId": source_id, "customerId": customer_id,
                      "since": since}, condition="attribute_not_exists(PK)", failure=failure)
    tx.put(_table(), {"PK": _hold_pk(tenant, number), "SK": f"{since}#{keys.pad(source_id)}",
                      "sourceId": source_id, "customerId": customer_id, "from": since})


def _guard_key(tenant: str, customer_id: int) -> dict[str, str]:
    return {"PK": f"T#{tenant}#TRKCUSTOMER", "SK": keys.pad(customer_id)}


def customer_not_in_status(tx: Transaction, tenant: str, customer_id: int, *, status: int, failure: Any) -> None:
    """The write goes through only while the customer exists and is not in
    ``status`` (Ex-Customer): read by the transaction, not before it."""
    tx.check(_table(), {"PK": keys.entity_pk(tenant, schema.CUSTOMER.kind), "SK": keys.pad(customer_id)},
             "attribute_exists(PK) AND (attribute_not_exists(#st) OR #st <> :st)",
             names={"#st": "status"}, values={":st": status}, failure=failure)


def count_active_sources(tx: Transaction, tenant: str, customer_id: int, delta: int) -> None:
    tx.update(_table(), _guard_key(tenant, customer_id), "ADD activeSources :d", values={":d": delta})


def no_active_sources(tx: Transaction, tenant: str, customer_id: int, *, failure: Any) -> None:
    """The write (a drop) goes through only while no source of the customer
    is active. Sources made before the count existed are not in it: the
    caller checks those by listing first (no race can create them now)."""
    tx.check(_table(), _guard_key(tenant, customer_id),
             "attribute_not_exists(activeSources) OR activeSources <= :zero", values={":zero": 0}, failure=failure)


def _sale_key(tenant: str, customer_id: int, number: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#TRKSALE#{customer_id}", "SK": number}


def record_pending_sale(tenant: str, customer_id: int, number: str, *, criteria: str) -> None:
    """Before ``number`` is sold for a source of the customer: if the source's
    transaction then fails (or the process dies), a retry finds it here."""
    ddb().put_item(TableName=_table(), Item=to_item({**_sale_key(tenant, customer_id, number), "criteria": criteria,
                                                     "at": clock.now_iso()}))


def pending_sales(tenant: str, customer_id: int, *, criteria: str) -> list[str]:
    """Numbers sold for ``criteria`` whose source never committed, oldest first."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk",
                            values={":pk": f"T#{tenant}#TRKSALE#{customer_id}"}, consistent=True):
        found.extend(page)
    return [i["SK"] for i in sorted(found, key=lambda i: str(i.get("at"))) if i.get("criteria") == criteria]


def settle_pending_sale(tx: Transaction, tenant: str, customer_id: int, number: str) -> None:
    """In the transaction that makes the number held: the sale is complete."""
    tx.delete(_table(), _sale_key(tenant, customer_id, number))


def drop_pending_sale(tenant: str, customer_id: int, number: str) -> None:
    """A recorded sale whose number is no longer the customer's to take."""
    ddb().delete_item(TableName=_table(), Key=to_item(_sale_key(tenant, customer_id, number)))


def end_holding(tx: Transaction, tenant: str, *, number: str, source_id: int, since: str, until: str) -> None:
    tx.delete(_table(), _live_key(tenant, number), condition="sourceId = :s", values={":s": source_id})
    tx.update(_table(), {"PK": _hold_pk(tenant, number), "SK": f"{since}#{keys.pad(source_id)}"},
              "SET #u = :u", names={"#u": "until"}, values={":u": until})


def holdings(tenant: str, number: str) -> list[dict[str, Any]]:
    """A number's holding periods, oldest first: {sourceId, customerId, from, until?}."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk", values={":pk": _hold_pk(tenant, number)},
                            consistent=True):
        found.extend({k: v for k, v in item.items() if k not in ("PK", "SK")} for item in page)
    return found


def live_holder(tenant: str, number: str) -> dict[str, Any] | None:
    item = get(_table(), _live_key(tenant, number))
    return {k: v for k, v in item.items() if k not in ("PK", "SK")} if item else None


def create_source(tenant: str, fields: Mapping[str, Any], *, entity_id: int,
                  also: Transaction) -> dict[str, Any]:
    return entities.create(SOURCE, tenant, fields, entity_id=entity_id, also=also)


def get_source(tenant: str, source_id: int) -> dict[str, Any] | None:
    return entities.get_one(SOURCE, tenant, source_id)


def sources_of(tenant: str, customer_id: int) -> list[dict[str, Any]]:
    return entities.children_of(SOURCE, tenant, [customer_id])[customer_id]


def sources_page(tenant: str, *, customer_ids: Iterable[int] | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """(the page, the total) of the sources of ``customer_ids`` (all of the
    tenant's when None), in id order."""
    if customer_ids is None:
        every = list(entities.every(SOURCE, tenant, page_size=1000))
    else:
        grouped = entities.children_of(SOURCE, tenant, list(customer_ids))
        every = sorted((s for items in grouped.values() for s in items), key=lambda s: s["id"])
    return every[offset:offset + limit], len(every)


def update_source(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
                  also: Transaction | None = None) -> dict[str, Any]:
    return entities.update(SOURCE, tenant, current, changes, also=also)


def drop_customer(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *, failure: Any
                  ) -> dict[str, Any]:
    """The customer's drop (``changes``, conditional on the version read), in
    one transaction with the check that none of its sources is active."""
    tx = Transaction()
    no_active_sources(tx, tenant, int(current["id"]), failure=failure)
    return entities.update(schema.CUSTOMER, tenant, current, changes, also=tx)


def allocate_id(tenant: str, kind: str) -> int:
    return entities.allocate_ids(tenant, kind)[0]


# ---------------------------------------------------------------- greetings

def greeting_object_key(customer_id: int, greeting_id: int, token: str, extension: str) -> str:
    return f"greetings/{customer_id}/{greeting_id}-{token}.{extension}"


def create_greeting(tenant: str, fields: Mapping[str, Any], *, entity_id: int) -> dict[str, Any]:
    """The greeting, and in the same transaction the settling of its audio
    (``objectKey``, put with the pending tag by put_audio): store/pending_files.py."""
    from chalicelib.store import pending_files

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
    from chalicelib.store import pending_files

    tx = Transaction()
    tx.delete(_table(), {"PK": keys.entity_pk(tenant, GREETING.kind), "SK": keys.pad(current["id"])},
              condition="#v = :v", names={"#v": "version"}, values={":v": current["version"]})
    pending_files.add(tx, tenant, current["objectKey"], drop=[current["objectKey"]], promote=False)
    tx.execute()


def put_audio(tenant: str, key: str, data: bytes, content_type: str) -> None:
    """In place with the pending tag (the lifecycle rule expires it) until the
    greeting that names it is committed (settle_audio)."""
    from chalicelib.store import blobs

    blobs.put(tenant, key, data, content_type=content_type, tagged=True)


def discard_audio(tenant: str, key: str) -> None:
    """The audio (still tagged pending) of a greeting that was refused."""
    from chalicelib.store import blobs

    blobs.delete(tenant, key)


def settle_audio(tenant: str, key: str, *, deleted: bool = False) -> None:
    """After the commit of create_greeting (mark the audio recorded) or of
    delete_greeting (``deleted``: delete it); left to the schedule on failure."""
    from chalicelib.store import pending_files

    if deleted:
        pending_files.settle_or_leave(tenant, key, drop=[key], promote=False)
    else:
        pending_files.settle_or_leave(tenant, key, tagged=True)


def settle_audio_if_pending(tenant: str, key: str) -> None:
    """Settle the audio if a crashed upload left it pending (before its deletion)."""
    from chalicelib.store import pending_files

    pending_files.settle_if_pending(tenant, key)


def audio_url(tenant: str, key: str) -> str:
    from chalicelib.store import blobs

    return blobs.presigned_download(tenant, key)


# ---------------------------------------------------------------- session pools

def _pool_pk(tenant: str, source_id: int) -> str:
    return f"T#{tenant}#TRKPOOL#{source_id}"


def _session_key(tenant: str, source_id: int, session: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#TRKSESSION#{source_id}", "SK": session}


def put_pool_numbers(tenant: str, source_id: int, numbers: Iterable[str]) -> None:
    for number in numbers:
        ddb().put_item(TableName=_table(), Item=to_item({"PK": _pool_pk(tenant, source_id), "SK": number,
                                                         "number": number, "lastHandedAt": ""}),
                       ConditionExpression="attribute_not_exists(PK)")


def pool(tenant: str, source_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk", values={":pk": _pool_pk(tenant, source_id)},
                            consistent=True):
        found.extend({k: v for k, v in item.items() if k not in ("PK", "SK")} for item in page)
    return found


def live_session(tenant: str, source_id: int, session: str) -> dict[str, Any] | None:
    item = get(_table(), _session_key(tenant, source_id, session))
    return {k: v for k, v in item.items() if k not in ("PK", "SK")} if item else None


def hand_out(tenant: str, source_id: int, *, number: str, previous: str, session: str, now: str, until: str,
             expires_at: int) -> bool:
    """Give ``number`` to ``session`` if nobody took it since it was read as
    last handed out at ``previous``; False on a lost race."""
    tx = Transaction()
    tx.update(_table(), {"PK": _pool_pk(tenant, source_id), "SK": number},
              "SET lastHandedAt = :now, #s = :session, sessionUntil = :until",
              condition="lastHandedAt = :previous", names={"#s": "session"},
              values={":now": now, ":session": session, ":until": until, ":previous": previous})
    tx.put(_table(), {**_session_key(tenant, source_id, session), "number": number, "from": now, "until": until,
                      "expiresAt": expires_at})
    tx.put(_table(), {"PK": f"T#{tenant}#TRKVISIT#{number}", "SK": f"{now}#{session}", "session": session,
                      "sourceId": source_id, "from": now, "until": until})
    from chalicelib.domain.errors import ConcurrentUpdateError

    try:
        tx.execute()
    except ConcurrentUpdateError:
        return False
    return True


def extend_session(tenant: str, source_id: int, *, session: str, number: str, started: str, until: str,
                   expires_at: int) -> None:
    tx = Transaction()
    tx.update(_table(), _session_key(tenant, source_id, session), "SET #u = :u, expiresAt = :e",
              names={"#u": "until"}, values={":u": until, ":e": expires_at})
    tx.update(_table(), {"PK": f"T#{tenant}#TRKVISIT#{number}", "SK": f"{started}#{session}"}, "SET #u = :u",
              names={"#u": "until"}, values={":u": until})
    tx.update(_table(), {"PK": _pool_pk(tenant, source_id), "SK": number}, "SET sessionUntil = :u",
              values={":u": until})
    tx.execute()


def visits(tenant: str, number: str) -> list[dict[str, Any]]:
    """Sessions a pool number was handed to: {session, sourceId, from, until}."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk", values={":pk": f"T#{tenant}#TRKVISIT#{number}"}):
        found.extend({k: v for k, v in item.items() if k not in ("PK", "SK")} for item in page)
    return found


# ---------------------------------------------------------------- calls (CDR parts)

def call_rows(tenant: str, *, day: str, shard: int, numbers_by_customer: Mapping[int, Iterable[str]]
              ) -> list[dict[str, Any]]:
    """The calls of one day, from the accepted part objects of one shard, to
    the numbers of each customer given (all customers of the request whose
    calls are in that shard: the shard-day is listed and its parts downloaded
    once, not once per customer), each call id once (the first ingested:
    part key order, then file order), ordered by start; each row names its
    ``customerId``."""
    from chalicelib.store import calls as cdr_store

    wanted = sorted({(int(c), n) for c, numbers in numbers_by_customer.items() for n in numbers})
    if not wanted:
        return []
    names = cdr_store.list_keys(tenant, f"cdr-parts/{day}/{shard:02d}/")
    if not names:
        return []
    import duckdb  # imported here: only statistics requests pay for it

    with tempfile.TemporaryDirectory(prefix="trk-calls-") as scratch:
        pairs = [(name, os.path.join(scratch, f"{n:06d}.parquet")) for n, name in enumerate(names)]
        cdr_store.download_many(tenant, pairs)
        con = duckdb.connect(config={"threads": 1})
        try:
            con.execute("CREATE TEMP TABLE wanted (customer_id BIGINT, number VARCHAR)")
            con.executemany("INSERT INTO wanted VALUES (?, ?)", [list(w) for w in wanted])
            rows = con.execute("""
              WITH r AS (
                SELECT r.*, regexp_extract(r.filename, '([0-9]+)\\.parquet$', 1) AS part_no
                FROM read_parquet(?, filename = true) r
                JOIN wanted w ON w.customer_id = r.customer_id AND w.number = r.did
                WHERE r.direction = 'inbound'),
              ranked AS (SELECT *, row_number() OVER (PARTITION BY call_id ORDER BY part_no, seq) AS k FROM r)
              SELECT call_id, src, did, start_e, answer_e, end_e, billsec, disposition, customer_id
              FROM ranked WHERE k = 1 ORDER BY start_e, call_id""",
                               [[p for _, p in pairs]]).fetchall()
        finally:
            con.close()
    return [{"callId": r[0], "caller": r[1], "number": r[2], "start": r[3], "answer": r[4], "end": r[5],
             "billsec": r[6], "disposition": r[7], "customerId": int(r[8])} for r in rows]

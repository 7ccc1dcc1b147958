"""Storage of the CDR pipeline: accepted rows as compressed part objects in
S3, and in DynamoDB only aggregates (one item per customer, kind and day:
store/call_stats.py),
file and day records and the per-customer-per-day charge record. Owners
are read from the inventory (NUMBER items, store/numbers.py) and the TRUNK
entities (``trunk_owners``).

Keys (main table), tenant T:
  T#T#CDRFILE / <fileId>                     one ingested file: parts done, days touched, summary
  T#T#CDRUPLOAD / <name>                     an inbox object's name -> its file record (upload status)
  T#T#CDRDAY / <yyyy-mm-dd>                  generation (bumped per file), closed flag, exports (customers,
                                             packed objects per shard, files cut from them)
  T#T#STATS#C<customerId>#<DID|TG|TERM> / D#<day>#<chunk>   figures of a customer's numbers / trunks
      on a day (store/call_stats.py)
  T#T#CALLCHARGE / <customerId>#<day>        the call charges posted for that day (total, version)
S3, under tenants/T/:
  cdr-parts/<day>/<shard>/<stamp>-<fileId>-<part>.parquet  accepted rows of one file part for one day
  cdr-exports/<day>/<customerId>-<direction>-<success|failed>.csv   a customer's file (services/calls/exports.py)
  cdr-exports/<day>/packed/<stamp>/<group>.csv  a shard group's files in one object, its index at the end
  rates/<direction>/<TENANT|customerId>.csv
S3, at the bucket root: cdr-inbox/<tenant>/<name> (files as they land; S3
notifies the cdr-files queue) and cdr-staged/<tenant>/<fileId>/<n>.csv (plain
pieces of a big compressed file, removed as their parts finish).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO, Callable, Mapping, Sequence

from chalicelib import settings
from chalicelib.observability import correlation
from chalicelib.store import blobs
from chalicelib.store.dynamo import keys
from chalicelib.store.clients import client
from chalicelib.store.dynamo.codec import from_item, to_attr, to_item
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.store.dynamo.table import Transaction, batch_get, ddb, get, query_pages
# The figures' items (packed per customer, kind and day) live in store/call_stats.py.
from chalicelib.store import call_stats
from chalicelib.store.call_stats import STATS_KINDS as STATS_KINDS
from chalicelib.store.call_stats import stats_days as stats_days
from chalicelib.store.call_stats import stats_item as stats_item

# Batch requests in flight at once (the client pool holds 64 connections).
PARALLEL_REQUESTS = 8


def _table() -> str:
    return settings.main_table()


# ------------------------------------------------------------ S3 objects

def landed_stream(key: str, byte_range: str | None = None) -> Any:
    """A landed object: an upload under cdr-inbox/ or a restaged piece under
    cdr-staged/ (both at the bucket root, outside tenants/: see docs/deploy.md)."""
    params = {"Bucket": settings.blob_bucket(), "Key": key}
    if byte_range:
        params["Range"] = byte_range
    return client("s3").get_object(**params)["Body"]


def landed_head(key: str) -> dict[str, Any] | None:
    s3 = client("s3")
    try:
        head: dict[str, Any] = s3.head_object(Bucket=settings.blob_bucket(), Key=key)
        return head
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def inbox_put(key: str, body: BinaryIO | bytes) -> None:
    client("s3").put_object(Bucket=settings.blob_bucket(), Key=key, Body=body)


# The object metadata carrying the correlation id of the request that granted
# an upload to the worker that ingests it (an S3 notification has no attributes).
CORRELATION_METADATA = "correlation-id"


def inbox_post(key: str, *, max_bytes: int) -> dict[str, Any]:
    """A presigned S3 POST for one inbox object of at most ``max_bytes``,
    carrying the current correlation id as the object's metadata."""
    found = correlation.correlation_id()
    return blobs.presigned_post(key, max_bytes=max_bytes, metadata={CORRELATION_METADATA: found} if found else None)


def correlation_of(head: Mapping[str, Any]) -> str | None:
    """The correlation id a landed object carries (``landed_head``'s answer)."""
    return (head.get("Metadata") or {}).get(CORRELATION_METADATA)


def delete_landed(key: str) -> None:
    client("s3").delete_object(Bucket=settings.blob_bucket(), Key=key)


STAGED_PREFIX = "cdr-staged/"


def staged_key(tenant: str, file_id: str, piece: int) -> str:
    """Where a piece of a restaged compressed file waits for its part (bucket
    root, outside the notified cdr-inbox/; a lifecycle rule expires leftovers)."""
    return f"{STAGED_PREFIX}{tenant}/{file_id}/{piece:05d}.csv"


def staged_put(key: str, path: str) -> None:
    """A local piece (up to CDR_SPLIT_BYTES, far below one PUT's 5 GB),
    streamed from disk."""
    with open(path, "rb") as body:
        client("s3").put_object(Bucket=settings.blob_bucket(), Key=key, Body=body)


def list_keys(tenant: str, prefix: str) -> list[str]:
    """Keys (relative to the tenant prefix) under ``prefix``, in key order."""
    root = blobs.object_key(tenant, prefix)
    strip = len(blobs.object_key(tenant, ""))
    found: list[str] = []
    for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=settings.blob_bucket(), Prefix=root):
        found.extend(o["Key"][strip:] for o in page.get("Contents", []))
    return sorted(found)


def upload_file(tenant: str, key: str, path: str, *, content_type: str) -> None:
    with open(path, "rb") as handle:
        blobs.put(tenant, key, handle, content_type=content_type)


DOWNLOAD_CHUNK = 8 * 1024 * 1024
DOWNLOAD_THREADS = 8
TRANSFER_THREADS = 16


def download_landed(key: str, path: str, *, start: int = 0, end: int | None = None) -> int:
    """Bytes [start, end) of a landed object (the whole object by default) into
    ``path``: ranged GETs of 8 MiB, several in flight, each written at its
    offset. Returns the bytes written."""
    if end is None:
        head = landed_head(key)
        end = int(head.get("ContentLength", 0)) if head else 0
    total = max(0, end - start)
    with open(path, "wb") as handle:
        handle.truncate(total)
    if not total:
        return 0
    s3, bucket = client("s3"), settings.blob_bucket()

    def fetch(offset: int) -> None:
        last = min(offset + DOWNLOAD_CHUNK, total) - 1
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start + offset}-{start + last}")["Body"]
        fd = os.open(path, os.O_WRONLY)
        try:
            for piece in body.iter_chunks(1 << 20):  # 1 MiB at a time: memory does not grow with the file
                os.pwrite(fd, piece, offset)
                offset += len(piece)
        finally:
            os.close(fd)

    with ThreadPoolExecutor(max_workers=DOWNLOAD_THREADS) as pool:
        list(pool.map(fetch, range(0, total, DOWNLOAD_CHUNK)))
    return total


def download_many(tenant: str, pairs: list[tuple[str, str]]) -> None:
    """(tenant-relative key, local path) pairs, several GETs in flight."""
    s3, bucket = client("s3"), settings.blob_bucket()

    def fetch(pair: tuple[str, str]) -> None:
        # One GET each (download_file would HEAD first): parts are small.
        body = s3.get_object(Bucket=bucket, Key=blobs.object_key(tenant, pair[0]))["Body"]
        with open(pair[1], "wb") as out:
            for piece in body.iter_chunks(1 << 20):
                out.write(piece)

    with ThreadPoolExecutor(max_workers=TRANSFER_THREADS) as pool:
        list(pool.map(fetch, pairs))


def upload_many(tenant: str, triples: list[tuple[str, str, str]]) -> None:
    """(tenant-relative key, local path, content type) triples, several PUTs in flight."""
    def put(triple: tuple[str, str, str]) -> None:
        upload_file(tenant, triple[0], triple[1], content_type=triple[2])

    with ThreadPoolExecutor(max_workers=TRANSFER_THREADS) as pool:
        list(pool.map(put, triples))


def put_many_bytes(tenant: str, triples: list[tuple[str, bytes, str]]) -> None:
    """(tenant-relative key, bytes, content type) triples, several PUTs in flight."""
    def put(triple: tuple[str, bytes, str]) -> None:
        blobs.put(tenant, triple[0], triple[1], content_type=triple[2])

    with ThreadPoolExecutor(max_workers=TRANSFER_THREADS) as pool:
        list(pool.map(put, triples))


class MissingObject(Exception):
    """The object is not (any more) there."""


def read_range(tenant: str, key: str, start: int, end: int | None) -> bytes:
    """Bytes [start, end) of a tenant object (to its end when ``end`` is None):
    one ranged GET. MissingObject when there is no such object."""
    span = f"bytes={start}-" + ("" if end is None else str(end - 1))
    s3 = client("s3")
    try:
        data: bytes = blobs.open_stream(tenant, key, span).read()
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise MissingObject(key) from None
        raise
    return data


def delete_objects(tenant: str, keys_: list[str]) -> None:
    """Tenant objects, 1,000 per DeleteObjects."""
    s3 = client("s3")
    for start in range(0, len(keys_), 1000):
        s3.delete_objects(Bucket=settings.blob_bucket(), Delete={
            "Objects": [{"Key": blobs.object_key(tenant, k)} for k in keys_[start:start + 1000]], "Quiet": True})


# ------------------------------------------------------------ owners

def trunk_owners(tenant: str) -> list[dict[str, Any]]:
    """Every TRUNK entity of the tenant (origination and termination), the
    attributes that make an owner only (``id``, ``customerId``,
    ``billingType``, ``direction``): one paged Query of its partition, once
    per file or day."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk", values={":pk": keys.entity_pk(tenant, "TRUNK")},
                            attributes=("SK", "customerId", "billingType", "direction")):
        found.extend({**{k: v for k, v in item.items() if k != "SK"}, "id": int(item["SK"])} for item in page)
    return found


# ------------------------------------------------------------ records

def file_key(tenant: str, file_id: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#CDRFILE", "SK": file_id}


def get_file(tenant: str, file_id: str) -> dict[str, Any] | None:
    return get(_table(), file_key(tenant, file_id))


def create_file(tenant: str, file_id: str, fields: Mapping[str, Any]) -> bool:
    """Claim a file id; False when it was already claimed (the same file again)."""
    try:
        ddb().put_item(TableName=_table(), Item=to_item({**file_key(tenant, file_id), **fields}),
                       ConditionExpression="attribute_not_exists(PK)")
        return True
    except ddb().exceptions.ConditionalCheckFailedException:
        return False


def finish_part(tenant: str, file_id: str, part: int, days: list[str], summary: Mapping[str, Any]) -> dict[str, Any]:
    """Record one part as done (idempotent: string-set ADD and a per-part SET);
    returns the file record as it now stands."""
    values: dict[str, Any] = {":p": {"SS": [str(part)]}, ":s": to_attr(dict(summary))}
    expression = "ADD doneParts :p SET #s = :s"
    if days:
        values[":d"] = {"SS": sorted(days)}
        expression = "ADD doneParts :p, days :d SET #s = :s"
    answer = ddb().update_item(
        TableName=_table(), Key=to_item(file_key(tenant, file_id)), UpdateExpression=expression,
        ExpressionAttributeNames={"#s": f"part{part}"}, ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
    return from_item(answer["Attributes"])


def upload_key(tenant: str, name: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#CDRUPLOAD", "SK": name}


def put_upload(tenant: str, name: str, file_id: str, *, repeated: bool) -> None:
    """Which file record an inbox object (by its name under the tenant's inbox)
    became: the status of an upload is read by its name (idempotent put)."""
    ddb().put_item(TableName=_table(), Item=to_item({**upload_key(tenant, name), "fileId": file_id,
                                                     "repeated": repeated}))


def get_upload(tenant: str, name: str) -> dict[str, Any] | None:
    return get(_table(), upload_key(tenant, name))


def set_file_fields(tenant: str, file_id: str, fields: Mapping[str, Any]) -> None:
    set_fields(file_key(tenant, file_id), fields)


def day_key(tenant: str, day: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#CDRDAY", "SK": day}


def get_day(tenant: str, day: str) -> dict[str, Any] | None:
    return get(_table(), day_key(tenant, day))


def bump_day(tenant: str, day: str) -> None:
    """A new part landed for the day: its figures must be computed again."""
    ddb().update_item(TableName=_table(), Key=to_item(day_key(tenant, day)), UpdateExpression="ADD generation :one",
                      ExpressionAttributeValues=to_item({":one": 1}))


def set_day_fields(tenant: str, day: str, fields: Mapping[str, Any]) -> None:
    set_fields(day_key(tenant, day), fields)


def add_day_marks(tenant: str, day: str, field: str, marks: list[str]) -> None:
    """Add strings to a string-set field of the day record (idempotent ADD)."""
    ddb().update_item(TableName=_table(), Key=to_item(day_key(tenant, day)), UpdateExpression="ADD #f :m",
                      ExpressionAttributeNames={"#f": field}, ExpressionAttributeValues={":m": {"SS": marks}})


def set_fields(key: Mapping[str, str], fields: Mapping[str, Any]) -> None:
    names = {f"#f{n}": k for n, k in enumerate(fields)}
    values = {f":v{n}": v for n, v in enumerate(fields.values())}
    ddb().update_item(TableName=_table(), Key=to_item(key),
                      UpdateExpression="SET " + ", ".join(f"#f{n} = :v{n}" for n in range(len(fields))),
                      ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))


def days_between(tenant: str, first: str, last: str) -> list[dict[str, Any]]:
    """The day records of [first, last], oldest first, each with its ``day``."""
    found: list[dict[str, Any]] = []
    for page in query_pages(_table(), key_condition="PK = :pk AND SK BETWEEN :a AND :b",
                            values={":pk": f"T#{tenant}#CDRDAY", ":a": first, ":b": last}, consistent=True):
        found.extend({**item, "day": item["SK"]} for item in page)
    return found


# ------------------------------------------------------------ statistics

def put_many(items: list[dict[str, Any]]) -> int:
    """Unconditional puts of new items (BatchWriteItem, 25 each, a few in
    flight); returns items written."""
    return call_stats.write_items(items, [])


# ------------------------------------------------------------ charges

def charge_key(tenant: str, customer_id: int, day: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#CALLCHARGE", "SK": f"{keys.pad(customer_id)}#{day}"}


def get_charge(tenant: str, customer_id: int, day: str) -> dict[str, Any] | None:
    return get(_table(), charge_key(tenant, customer_id, day))


def charge_record_writer(tenant: str, customer_id: int, day: str, *, total: Any, version: int,
                         entries: list[dict[str, Any]]) -> Callable[[Transaction], None]:
    """The write that moves the day's charge record to ``version``, conditional
    on the one read, for the transaction of the ledger movement it records
    (services/money/ledger.post_movement's ``also``)."""
    def write(tx: Transaction) -> None:
        item = {**charge_key(tenant, customer_id, day), "customerId": customer_id, "day": day, "total": total,
                "version": version, "entries": entries}
        lost = ConcurrentUpdateError(f"the call charges of customer {customer_id} on {day} moved")
        if version == 1:
            tx.put(_table(), item, condition="attribute_not_exists(PK)", failure=lost)
        else:
            tx.put(_table(), item, condition="version = :v", values={":v": version - 1}, failure=lost)

    return write


def charges_of(tenant: str, customer_ids: list[int], day: str) -> dict[int, dict[str, Any]]:
    """The day's charge records of many customers (BatchGet, several in flight)."""
    wanted = [charge_key(tenant, c, day) for c in customer_ids]
    chunks = [wanted[start:start + 100] for start in range(0, len(wanted), 100)]
    with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
        found = [item for part in pool.map(lambda c: batch_get(_table(), c), chunks) for item in part]
    return {int(f["customerId"]): f for f in found}

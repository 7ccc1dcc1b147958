"""The local runtime's S3 objects and SQS messages, kept on disk.

moto serves S3 and SQS locally and keeps them in memory. We keep moto for
everything it does well (S3's XML and presigned POSTs, SQS's protocols,
S3 -> SQS notifications, visibility timeouts, dead-letter redrive) and write
its state through to a directory after every request that can change it,
before the answer leaves the server: an acknowledged PutObject or
SendMessage is on disk, so a stop of any kind, SIGKILL included, loses
nothing that was acknowledged. On the next start the journal puts it all
back into moto before the server listens.

Messages are kept with moto's own fields, receive count and ``visible_at``
included (wall-clock milliseconds): a message in flight when the runtime
stopped comes back after its visibility timeout, as on AWS, and a message
received too often still moves to its dead-letter queue. A message deleted
a moment before a SIGKILL, whose deletion the journal had not written yet,
is delivered again: at least once, as SQS promises (the consumers are idempotent).

The directory:
  state.sqlite        buckets, objects (key -> blob, metadata), queues, messages
  blobs/<sha256>      each object's bytes, written before the row naming it

Why not moto's recorder (MOTO_ENABLE_RECORDING) or another emulator: see
docs/architecture.md, "The local runtime's data".
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

WSGIApp = Callable[..., Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (account TEXT, partition TEXT, name TEXT, region TEXT,
    PRIMARY KEY (account, partition, name));
CREATE TABLE IF NOT EXISTS objects (account TEXT, partition TEXT, bucket TEXT, key TEXT, blob TEXT, state TEXT,
    PRIMARY KEY (account, partition, bucket, key));
CREATE INDEX IF NOT EXISTS objects_by_blob ON objects (blob);
CREATE TABLE IF NOT EXISTS queues (account TEXT, region TEXT, name TEXT, attributes TEXT,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT, region TEXT,
    queue TEXT, id TEXT, state TEXT, UNIQUE (account, region, queue, id));
"""

# The queue attributes a CreateQueue may set; the rest moto derives.
_QUEUE_ATTRIBUTES = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
                     "VisibilityTimeout", "FifoQueue", "ContentBasedDeduplication")
# Receipt handles are not kept: every consumer restarts with the runtime.
_MESSAGE_SKIPPED = ("receipt_handle", "_old_receipt_handles")


class Journal:
    def __init__(self, directory: Path) -> None:
        self._blobs = directory / "blobs"
        self._blobs.mkdir(parents=True, exist_ok=True)
        # Autocommit off (explicit transactions); WAL: a commit is in the OS's
        # hands once written, which is what survives a killed process.
        self._db = sqlite3.connect(directory / "state.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        # What is on disk, by identity and the fields that change: a sync writes only differences.
        self._buckets: set[tuple[str, str, str]] = set()
        self._objects: dict[tuple[str, str, str, str], tuple[int, Any, str]] = {}
        self._queues: dict[tuple[str, str, str], str] = {}
        self._messages: dict[tuple[str, str, str, str], tuple[Any, ...]] = {}

    # -- the server side --------------------------------------------------

    def wrap(self, service: str, app: WSGIApp) -> WSGIApp:
        """``app`` (moto's app for ``service``) writing what it changed through
        before its answer is sent. An S3 request may send notifications to
        SQS, so it syncs both; GET and HEAD on S3 change nothing. Every SQS
        call syncs its queues (a ReceiveMessage changes visibility and counts)."""
        if service not in ("s3", "sqs"):
            return app

        def journaled(environ: dict[str, Any], start_response: Any) -> Any:
            answer = app(environ, start_response)  # a Flask response: computed, not sent yet
            if service == "sqs":
                self.sync(s3=False)
            elif environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                self.sync(s3=True)
            return answer

        return journaled

    def sync(self, *, s3: bool = True) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                dropped_blobs = self._sync_s3() if s3 else set()
                self._sync_sqs()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            for blob in dropped_blobs:
                if self._db.execute("SELECT 1 FROM objects WHERE blob = ? LIMIT 1", (blob,)).fetchone() is None:
                    self._blob_path(blob).unlink(missing_ok=True)

    # -- S3 ---------------------------------------------------------------

    def _sync_s3(self) -> set[str]:
        from moto.s3.models import FakeKey

        buckets: set[tuple[str, str, str]] = set()
        seen: set[tuple[str, str, str, str]] = set()
        db = self._db
        for account, partition, backend in _backends("s3"):
            for name, bucket in list(backend.buckets.items()):
                buckets.add((account, partition, name))
                if (account, partition, name) not in self._buckets:
                    db.execute("INSERT OR REPLACE INTO buckets VALUES (?, ?, ?, ?)",
                               (account, partition, name, bucket.region_name))
                for key_name, key in bucket.keys.items():
                    if not isinstance(key, FakeKey):
                        continue  # a delete marker of a versioned bucket: the key is absent
                    where = (account, partition, name, key_name)
                    seen.add(where)
                    # Tags change without a new last_modified (PutObjectTagging); the
                    # lifecycle stand-in expires by them (store/pending_files.py).
                    tags = backend.get_object_tagging(key)["Tags"]
                    signature = (id(key), key.last_modified, json.dumps(tags))
                    if self._objects.get(where) != signature:
                        blob = self._put_blob(key.value)
                        db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?)",
                                   (*where, blob, json.dumps({**_key_state(key), "tags": tags})))
                        self._objects[where] = signature
        dropped: set[str] = set()
        for where in set(self._objects) - seen:
            row = db.execute("SELECT blob FROM objects WHERE account = ? AND partition = ? AND bucket = ? AND key = ?",
                             where).fetchone()
            db.execute("DELETE FROM objects WHERE account = ? AND partition = ? AND bucket = ? AND key = ?", where)
            if row:
                dropped.add(row[0])
            del self._objects[where]
        for gone in self._buckets - buckets:
            db.execute("DELETE FROM buckets WHERE account = ? AND partition = ? AND name = ?", gone)
        self._buckets = buckets
        return dropped

    def _blob_path(self, blob: str) -> Path:
        return self._blobs / blob

    def _put_blob(self, value: bytes) -> str:
        blob = hashlib.sha256(value).hexdigest()
        path = self._blob_path(blob)
        if not path.exists():
            partial = path.with_suffix(".partial")
            partial.write_bytes(value)
            os.replace(partial, path)  # a blob is whole or absent
        return blob

    # -- SQS --------------------------------------------------------------

    def _sync_sqs(self) -> None:
        db = self._db
        queues: dict[tuple[str, str, str], str] = {}
        seen: set[tuple[str, str, str, str]] = set()
        for account, region, backend in _backends("sqs"):
            for name, queue in list(backend.queues.items()):
                where = (account, region, name)
                attributes = json.dumps(_queue_attributes(queue), sort_keys=True)
                queues[where] = attributes
                if self._queues.get(where) != attributes:
                    db.execute("INSERT OR REPLACE INTO queues VALUES (?, ?, ?, ?)", (*where, attributes))
                for message in list(queue._messages):
                    key = (*where, message.id)
                    seen.add(key)
                    signature = (message.approximate_receive_count, message.visible_at, message.delayed_until)
                    if self._messages.get(key) != signature:
                        state = json.dumps(_message_state(message), default=_encode_bytes)
                        db.execute("INSERT INTO messages (account, region, queue, id, state) VALUES (?, ?, ?, ?, ?) "
                                   "ON CONFLICT (account, region, queue, id) DO UPDATE SET state = excluded.state",
                                   (*key, state))
                        self._messages[key] = signature
        for key in set(self._messages) - seen:
            db.execute("DELETE FROM messages WHERE account = ? AND region = ? AND queue = ? AND id = ?", key)
            del self._messages[key]
        for gone in set(self._queues) - set(queues):
            db.execute("DELETE FROM queues WHERE account = ? AND region = ? AND name = ?", gone)
        self._queues = queues

    # -- restore ----------------------------------------------------------

    def restore(self) -> dict[str, int]:
        """Put what the directory holds into moto's (empty) backends. Returns counts."""
        from moto.s3.models import s3_backends
        from moto.sqs.models import Message, sqs_backends

        db = self._db
        counts = {"buckets": 0, "objects": 0, "queues": 0, "messages": 0}
        for account, partition, name, region in db.execute("SELECT * FROM buckets").fetchall():
            s3_backends[account][partition].create_bucket(name, region)
            self._buckets.add((account, partition, name))
            counts["buckets"] += 1
        for account, partition, bucket, key_name, blob, state in db.execute("SELECT * FROM objects").fetchall():
            path = self._blob_path(blob)
            if not path.exists():
                continue  # cannot happen (blob before row), but never stop the runtime over it
            backend = s3_backends[account][partition]
            fields = json.loads(state)
            key = _restore_key(backend, bucket, key_name, path.read_bytes(), fields)
            tags = fields.get("tags") or []  # rows written before tags were journaled have none
            if tags:  # the tagger itself: PutObjectTagging would send an S3 event
                backend.tagger.tag_resource(key.arn, tags)
            self._objects[(account, partition, bucket, key_name)] = (id(key), key.last_modified, json.dumps(tags))
            counts["objects"] += 1
        rows = db.execute("SELECT * FROM queues").fetchall()
        # Dead-letter queues before the queues whose RedrivePolicy names them.
        for account, region, name, attributes in sorted(rows, key=lambda r: "RedrivePolicy" in json.loads(r[3])):
            sqs_backends[account][region].create_queue(name, **json.loads(attributes))
            self._queues[(account, region, name)] = attributes
            counts["queues"] += 1
        for account, region, queue_name, message_id, state in db.execute(
                "SELECT account, region, queue, id, state FROM messages ORDER BY seq").fetchall():
            queue = sqs_backends[account][region].queues.get(queue_name)
            if queue is None:
                continue
            fields = json.loads(state, object_hook=_decode_bytes)
            message = Message(message_id, fields["body"])
            vars(message).update(fields)
            queue._messages.append(message)
            self._messages[(account, region, queue_name, message_id)] = (
                message.approximate_receive_count, message.visible_at, message.delayed_until)
            counts["messages"] += 1
        self._remove_unnamed_blobs()
        return counts

    def _remove_unnamed_blobs(self) -> None:
        named = {row[0] for row in self._db.execute("SELECT DISTINCT blob FROM objects")}
        for path in self._blobs.iterdir():
            if path.name not in named:  # left by a stop between a blob's write and its row's
                path.unlink(missing_ok=True)


def _backends(service: str) -> Iterator[tuple[str, str, Any]]:
    """(account, region or partition, backend) of every backend moto has made."""
    from moto.s3.models import s3_backends
    from moto.sqs.models import sqs_backends

    backends: Any = s3_backends if service == "s3" else sqs_backends
    for account, regional in list(backends.items()):
        for region, backend in list(regional.items()):
            yield account, region, backend


def _key_state(key: Any) -> dict[str, Any]:
    return {"metadata": dict(key.metadata), "last_modified": key.last_modified.isoformat(),
            "etag": key._etag, "storage": key.storage_class, "encryption": key.encryption,
            "checksum_algorithm": key.checksum_algorithm, "checksum_value": key.checksum_value}


def _restore_key(backend: Any, bucket: str, name: str, value: bytes, state: dict[str, Any]) -> Any:
    key = backend.put_object(bucket, name, value, storage=state["storage"], etag=state["etag"],
                             encryption=state["encryption"], checksum_value=state["checksum_value"],
                             disable_notification=True)
    key.set_metadata(state["metadata"], replace=False)
    key.checksum_algorithm = state["checksum_algorithm"]
    key.last_modified = datetime.fromisoformat(state["last_modified"])
    return key


def _queue_attributes(queue: Any) -> dict[str, Any]:
    from moto.core.utils import camelcase_to_underscores

    attributes = {name: getattr(queue, camelcase_to_underscores(name), None) for name in _QUEUE_ATTRIBUTES}
    kept = {name: value for name, value in attributes.items() if value is not None}
    if queue.redrive_policy:
        kept["RedrivePolicy"] = json.dumps(queue.redrive_policy, sort_keys=True)
    return kept


def _message_state(message: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(message).items() if name not in _MESSAGE_SKIPPED}


def _encode_bytes(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode_bytes(value: dict[str, Any]) -> Any:
    if set(value) == {"__bytes__"}:
        return base64.b64decode(value["__bytes__"])
    return value

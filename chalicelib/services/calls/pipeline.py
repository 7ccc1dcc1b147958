"""CDR files in, figures and charges out (docs/cdrs.md).

1. ``ingest``: the file (or one byte range of it) is brought to a local plain
   CSV (parallel ranged GETs; gzip/zstd decompressed as a stream) and scanned
   by the vectorised engine (services/calls/engine.py, DuckDB): every row
   validated, its owner joined, accepted rows written as a Parquet part
   object per (day, shard) in S3. No DynamoDB write per row: one file
   record, one counter bump per day touched.
2. ``refresh_day``: the day's part objects, a group of shards at a time
   (a shard holds whole customers, so memory is bounded by the group, not the
   file): call ids seen before dropped (first ingested wins), rated, and one
   item written per number / trunk and day whose figures changed. A closed day
   also gets its export files and its charges (``cdr_ports.post_call_charges``:
   the difference only).
3. ``daily_close``: refresh with final=True; the scheduled job runs it for
   yesterday, ``run-job daily-close`` by hand. Running it again changes nothing.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, BinaryIO, Callable

from chalicelib import clock, settings
from chalicelib.domain.calls import cdrs as rules
from chalicelib.domain.errors import NotFoundError, ValidationError
from chalicelib.services.calls import plain as cdr_plain
from chalicelib.services.calls import owners as cdr_ports
from chalicelib.services.calls.plain import Plain
from chalicelib.store import blobs, identity, queues
from chalicelib.store import calls as store

_log = logging.getLogger(__name__)
SHARDS = 16
# A part reads at most this many bytes of a plain file; bigger files are split
# into ranges of this size, one SQS message each (docs/cdrs.md, "Scale").
# 256 MiB: the range, its Parquet parts (≈ 35 % of it) and the scan's pieces fit
# the function's default 512 MB /tmp.
SPLIT_BYTES = int(os.environ.get("CDR_SPLIT_BYTES", str(256 * 1024 * 1024)))
MAX_REPORTED_ERRORS = 100
# The fast scan reads a plain file in pieces of this size (memory flat with the file).
SCAN_CHUNK_BYTES = int(os.environ.get("CDR_SCAN_CHUNK_BYTES", str(16 * 1024 * 1024)))
CHARGE_THREADS = 8
INBOX_PREFIX = "cdr-inbox/"
PART_NAME = re.compile(r"^(?P<stamp>[^-]+)-(?P<file>.+)-(?P<part>\d+)(?:\.\d+)?\.parquet$")

# Seconds spent per kind of work in this process (the bench prints them).
TIMINGS: dict[str, float] = defaultdict(float)
_TIMINGS_LOCK = threading.Lock()


class _timed:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.began = time.perf_counter()

    def __exit__(self, *_: Any) -> None:
        with _TIMINGS_LOCK:  # a day's groups are stored from a second thread
            TIMINGS[self.name] += time.perf_counter() - self.began


def _shard(customer_id: int) -> int:
    # Whole customers per shard: a call's number, trunk and charges are all its
    # owner's, so duplicates and peaks never cross shards.
    return zlib.crc32(str(customer_id).encode()) % SHARDS


# ------------------------------------------------------------ ingest

@dataclass
class _Tally:
    rows: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, where: dict[str, Any], reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({**where, "reason": reason})


def _file_lines(line: int) -> dict[str, Any]:
    return {"line": line}


def _range_lines(line: int) -> dict[str, Any]:
    # A byte range of a file reports the line within its range (its header is an added line 1).
    return {"part_line": line - 1}


def _piece_lines(line: int, *, first_line: int) -> dict[str, Any]:
    # A restaged piece's line 2 (its first row) is the original file's ``first_line``.
    return {"line": line + first_line - 2}


def _scan_plain(owners: cdr_ports.Owners, plain: Plain, scratch: str, tally: _Tally, *,
                where: Callable[[int], dict[str, Any]] = _file_lines) -> dict[tuple[str, int], list[str]]:
    """Validate and split a local plain file with the engine; returns the
    local part files per (day, shard). ``where`` says how a line of the local
    file is reported (the file's line, or a range's ``part_line``)."""
    from chalicelib.services.calls import engine

    with open(plain.path, "rb") as handle:
        first_line = handle.readline()
    parts: dict[tuple[str, int], list[str]] = {}
    try:
        first = next(csv.reader([first_line.decode("utf-8")]), None)
    except UnicodeDecodeError:
        tally.reject(where(1), "unreadable: not UTF-8")
        return parts
    if first is None:
        if plain.error:
            tally.reject(where(1), plain.error)
        return parts
    try:
        kind = rules.detect_format(first)
    except rules.BadRow as error:
        tally.reject({"line": 1}, str(error))
        return parts
    with _timed("compute.scan"):
        con = engine.connect(scratch)
        try:
            engine.load_owners(con, scratch, owners.numbers, owners.trunks, _shard)
            result = None
            if kind == "dialtone":
                result = _scan_chunks(con, engine, plain, scratch)
                if not result.regular and result.rejected:
                    result = None  # lines are not rows (blank lines, quoted line breaks): number them in Python
            if result is None:
                early = _Tally()
                result = engine.Scan()
                for n, lined in enumerate(_with_lines(plain.path, scratch, kind, early)):
                    piece = engine.scan_csv(con, lined, os.path.join(scratch, f"scan-lined-{n}"), with_line=True,
                                        physical_lines=None, max_errors=MAX_REPORTED_ERRORS)
                    os.remove(lined)
                    result.rows += piece.rows
                    result.rejected += piece.rejected
                    result.errors = sorted(result.errors + piece.errors)[:MAX_REPORTED_ERRORS]
                    for key, files in piece.parts.items():
                        result.parts.setdefault(key, []).extend(files)
                result.rows += early.rows
                result.rejected += early.rejected
                result.errors = sorted([(e["line"], e["reason"]) for e in early.errors] + result.errors)
        finally:
            con.close()
    tally.rows += result.rows
    tally.rejected += result.rejected
    room = MAX_REPORTED_ERRORS - len(tally.errors)
    tally.errors += [{**where(line), "reason": reason} for line, reason in result.errors[:max(room, 0)]]
    if plain.error:
        tally.reject(where(plain.lines + 1), plain.error)
    return result.parts


def _chunks(plain: Plain, scratch: str) -> Any:
    """The plain file as pieces of about SCAN_CHUNK_BYTES cut on line ends, each
    behind the header: (path, its first line in the file, its physical lines).
    DuckDB's memory for a scan grows with the file it reads; a piece bounds it."""
    size = os.path.getsize(plain.path)
    if size <= SCAN_CHUNK_BYTES:
        yield plain.path, 1, plain.lines
        return
    with open(plain.path, "rb") as handle:
        header = handle.readline()
        line = 2
        n = 0
        while True:
            block = handle.read(SCAN_CHUNK_BYTES)
            if not block:
                return
            if not block.endswith(b"\n"):
                block += handle.readline()
            path = os.path.join(scratch, f"chunk-{n}.csv")
            with open(path, "wb") as out:
                out.write(header)
                out.write(block)
            lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            yield path, line - 1, lines + 1
            os.remove(path)
            line += lines
            n += 1


def _scan_chunks(con: Any, engine: Any, plain: Plain, scratch: str) -> Any:
    """The fast path: each piece scanned on its own, lines shifted to the file's."""
    total = engine.Scan()
    for n, (path, first, lines) in enumerate(_chunks(plain, scratch)):
        piece = engine.scan_csv(con, path, os.path.join(scratch, f"scan-{n}"), with_line=False,
                            physical_lines=lines, max_errors=MAX_REPORTED_ERRORS)
        total.rows += piece.rows
        total.rejected += piece.rejected
        total.regular = total.regular and piece.regular
        total.errors = sorted(total.errors + [(line + first - 1, reason) for line, reason in piece.errors])
        total.errors = total.errors[:MAX_REPORTED_ERRORS]
        for key, files in piece.parts.items():
            total.parts.setdefault(key, []).extend(files)
    return total


def _with_lines(source: str, scratch: str, kind: str, early: _Tally) -> list[str]:
    """The slow path (Asterisk files, files whose lines are not rows): Python's
    csv reader gives each row its line; rows become Dialtone columns plus
    ``line`` for the engine, in pieces of about SCAN_CHUNK_BYTES (memory flat
    with the file here too). Rows of the wrong shape are refused here."""
    pieces: list[str] = []
    out: Any = None
    writer: Any = None

    def start_piece() -> None:
        nonlocal out, writer
        if out is not None:
            out.close()
        pieces.append(os.path.join(scratch, f"lined-{len(pieces)}.csv"))
        out = open(pieces[-1], "w", encoding="utf-8", newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(rules.HEADER + ("line",))

    start_piece()
    try:
        with open(source, encoding="utf-8", errors="strict", newline="") as handle:
            reader = csv.reader(handle)
            if kind == "dialtone":
                next(reader, None)
            try:
                for fields in reader:
                    if not fields or (len(fields) == 1 and not fields[0].strip()):
                        continue
                    try:
                        row = rules.dialtone_fields(fields) if kind == "dialtone" else rules.asterisk_fields(fields)
                    except rules.BadRow as error:
                        early.rows += 1
                        early.reject({"line": reader.line_num}, str(error))
                        continue
                    writer.writerow(list(row) + [reader.line_num])
                    if out.tell() >= SCAN_CHUNK_BYTES:
                        start_piece()
            except (UnicodeDecodeError, csv.Error) as error:
                early.reject({"line": reader.line_num + 1}, f"unreadable: {error}")
    finally:
        out.close()
    return pieces


@dataclass
class _Known:
    """What an ingest already holds when it refreshes its days: the owners it
    scanned with and the part objects it wrote (tenant-relative key -> the
    local file), which the refresh reads where they are instead of from S3."""
    owners: cdr_ports.Owners
    local_parts: dict[str, str]


def _owners(tenant: str) -> cdr_ports.Owners:
    with _timed("dynamodb.owners"):
        return cdr_ports.owners(tenant=tenant)


def _upload_parts(tenant: str, name: str,
                  parts: dict[tuple[str, int], list[str]]) -> tuple[list[str], dict[str, str]]:
    """Upload a scan's local part files; returns the days they hold and the
    uploaded keys with their local files."""
    uploads = []
    for (day, shard), files in sorted(parts.items()):
        for n, path in enumerate(files):
            suffix = f".{n:04d}"  # pieces of the file in order: names sort as they were read
            uploads.append((f"cdr-parts/{day}/{shard:02d}/{name}{suffix}.parquet", path, "application/vnd.apache.parquet"))
    with _timed("s3.parts_up"):
        store.upload_many(tenant, uploads)
    return sorted({day for day, _ in parts}), {key: path for key, path, _ in uploads}


def _stamp() -> str:
    return clock.now().strftime("%Y%m%dT%H%M%S%fZ")


def import_file(*, tenant: str, path: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """``import-cdrs``: process a local file completely before returning its summary."""
    _require_tenant(tenant)
    digest = hashlib.sha256()
    with open(path, "rb") as raw, tempfile.TemporaryDirectory(prefix="cdr-") as scratch:
        with _timed("compute.plain"):
            plain = cdr_plain.to_plain(raw, scratch, digest=digest, progress=progress, source_path=path)
        tally = _Tally()
        owners = _owners(tenant)
        parts = _scan_plain(owners, plain, scratch, tally)
        file_id = "sha256-" + digest.hexdigest()
        stamp = _stamp()
        if not store.create_file(tenant, file_id, {"name": os.path.basename(path), "stamp": stamp, "parts": 1}):
            return _repeat_summary(tenant, file_id, tally.rows)
        days, uploaded = _upload_parts(tenant, f"{stamp}-{file_id}-0", parts)
        store.finish_part(tenant, file_id, 0, days, {"rows": tally.rows, "rejected": tally.rejected})
        return _complete(tenant, file_id, days, tally, _Known(owners, uploaded))


def _repeat_summary(tenant: str, file_id: str, rows: int) -> dict[str, Any]:
    # The same bytes again: every row is a duplicate; nothing is written.
    return {"file": file_id, "repeated": True, "rows": rows, "accepted": 0, "duplicate": rows, "rejected": 0,
            "errors": []}


def _complete(tenant: str, file_id: str, days: list[str], tally: _Tally, known: _Known) -> dict[str, Any]:
    for day in days:
        store.bump_day(tenant, day)
    duplicates = 0
    for day in days:
        duplicates += refresh_day(tenant=tenant, day=day, known=known)["duplicates_by_file"].get(file_id, 0)
    summary = {"file": file_id, "rows": tally.rows, "accepted": tally.rows - tally.rejected - duplicates,
               "duplicate": duplicates, "rejected": tally.rejected, "errors": tally.errors, "days": days}
    store.set_file_fields(tenant, file_id, {"status": "done", "summary": summary})
    return summary


def _require_tenant(tenant: str) -> None:
    if not tenant or identity.get_tenant(tenant) is None:
        raise NotFoundError(f"tenant '{tenant}' does not exist", field="tenant")


def inbox_key(tenant: str, name: str) -> str:
    """Where a CDR file named ``name`` lands for the tenant (S3 notifies the cdr-files queue)."""
    return f"{INBOX_PREFIX}{tenant}/{name}"


def upload_to_inbox(*, tenant: str, name: str, body: BinaryIO | bytes) -> str:
    """Put a file where the switch would: S3 notifies the cdr-files queue."""
    _require_tenant(tenant)
    key = inbox_key(tenant, name)
    store.inbox_put(key, body)
    return key


def inbox_upload_url(*, tenant: str, name: str, max_bytes: int = 5 * 1024**3) -> dict[str, Any]:
    """A presigned POST for a large file under the tenant's inbox (the upload endpoint)."""
    _require_tenant(tenant)
    if "/" in name or ".." in name or not name:
        raise ValidationError("file name must be a plain name", field="name")
    return store.inbox_post(inbox_key(tenant, name), max_bytes=max_bytes)


def handle_notification(body: dict[str, Any]) -> list[dict[str, Any]]:
    """One message of the cdr-files queue: an S3 notification (new inbox
    objects) or a part of a split file. Returns what was done, per object."""
    if "cdrPart" in body:
        return [ingest_part(**body["cdrPart"])]
    if body.get("Event") == "s3:TestEvent":
        return []  # S3 sends it once when the notification is configured
    done = []
    for record in body.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        from urllib.parse import unquote_plus

        key = unquote_plus(record["s3"]["object"]["key"])
        done.append(ingest_inbox_object(key=key))
    return done


def ingest_inbox_object(*, key: str) -> dict[str, Any]:
    """A landed object: small ones are processed here, big plain ones split into
    byte ranges published back to the queue (each part is one message)."""
    pieces = key.split("/")
    if len(pieces) < 3 or pieces[0] + "/" != INBOX_PREFIX or not pieces[-1]:
        return {"key": key, "ignored": "not under cdr-inbox/<tenant>/"}
    tenant = pieces[1]
    if identity.get_tenant(tenant) is None:
        return {"key": key, "ignored": "unknown tenant"}
    head = store.landed_head(key)
    if head is None:
        return {"key": key, "ignored": "already processed and removed"}
    file_id = "etag-" + str(head.get("ETag", "")).strip('"')
    size = int(head.get("ContentLength", 0))
    first = store.landed_stream(key, "bytes=0-65535").read()
    compressed = cdr_plain.is_compressed(first)
    parts = 1 if compressed or size <= SPLIT_BYTES else -(-size // SPLIT_BYTES)
    if not store.create_file(tenant, file_id, {"name": key, "stamp": _stamp(), "parts": parts, "size": size}):
        record = store.get_file(tenant, file_id) or {}
        if record.get("status") == "done":
            if record.get("name") != key:  # the same bytes under another name: a repeat
                store.put_upload(tenant, pieces[-1], file_id, repeated=True)
            store.delete_landed(key)
            return {"key": key, "file": file_id, "repeated": True}
        # A redelivery of a file in progress: redo its fan-out (a restaged file restages).
        parts = 1 if record.get("staged") else int(record.get("parts", parts))
    store.put_upload(tenant, pieces[-1], file_id, repeated=False)
    if parts == 1:
        return ingest_part(tenant=tenant, key=key, file_id=file_id, part=0, parts=1, start=0, end=size,
                           compressed=compressed)
    header = first.split(b"\n", 1)[0] + b"\n"
    messages = [{"cdrPart": {"tenant": tenant, "key": key, "file_id": file_id, "part": n, "parts": parts,
                             "start": n * SPLIT_BYTES, "end": min(size, (n + 1) * SPLIT_BYTES), "size": size,
                             "header": header.decode("utf-8")}} for n in range(parts)]
    queues.publish_batch("cdr_files", messages)
    return {"key": key, "file": file_id, "parts": parts}


def ingest_part(*, tenant: str, key: str, file_id: str, part: int, parts: int, start: int, end: int,
                header: str | None = None, source: str | None = None, first_line: int | None = None,
                stream_error: str | None = None, compressed: bool | None = None,
                size: int | None = None) -> dict[str, Any]:
    """One part of an inbox object (the whole object when parts == 1): a byte
    range of a plain object, or a plain piece restaged from a compressed one
    (``key`` is the piece, ``source`` the inbox object, ``first_line`` the
    original line of the piece's first row, ``stream_error`` where the
    compressed stream broke, for the last piece; ``compressed`` and ``size``
    when the caller has already read the object's first bytes and length).
    A redelivered part rewrites the same part objects: same names, same rows."""
    record = store.get_file(tenant, file_id)
    if record is None:
        return {"file": file_id, "ignored": "unknown file"}
    # (A restaged file's whole object comes again as part 0 of 1: it restages.)
    restaging = parts == 1 and bool(record.get("staged"))
    if str(part) in record.get("doneParts", set()) and not restaging:
        return {"file": file_id, "part": part, "repeated": True}
    with tempfile.TemporaryDirectory(prefix="cdr-") as scratch:
        tally = _Tally()
        raw = os.path.join(scratch, "object")
        if compressed is None:  # only a whole object can be compressed (ranges and pieces are plain)
            compressed = parts == 1 and cdr_plain.is_compressed(store.landed_stream(key, "bytes=0-3").read())
        if compressed:
            plain = _restage_or_decode(tenant, key, file_id, scratch)
            if plain is None:
                return {"file": file_id, "restaged": True}
        else:
            if parts == 1:
                with _timed("s3.inbox"):
                    store.download_landed(key, raw, end=end)
            else:
                _download_range(key, raw, start=start, end=end, header=(header or "").encode("utf-8"), size=size)
            with open(raw, "rb") as local, _timed("compute.plain"):
                plain = cdr_plain.to_plain(local, scratch, source_path=raw)
            plain.error = plain.error or stream_error
        owners = _owners(tenant)
        where = (_file_lines if parts == 1 else _range_lines) if first_line is None else \
            functools.partial(_piece_lines, first_line=first_line)
        found = _scan_plain(owners, plain, scratch, tally, where=where)
        days, uploaded = _upload_parts(tenant, f"{record['stamp']}-{file_id}-{part}", found)
        state = store.finish_part(tenant, file_id, part, days,
                                  {"rows": tally.rows, "rejected": tally.rejected, "errors": tally.errors})
        if source:
            store.delete_landed(key)  # the restaged piece, once its part is recorded
        if len(state.get("doneParts", set())) < parts:
            return {"file": file_id, "part": part, "rows": tally.rows}
        # The last part to finish merges: totals of all parts, then the days.
        total = _Tally()
        for n in range(parts):
            piece = state.get(f"part{n}", {})
            total.rows += int(piece.get("rows", 0))
            total.rejected += int(piece.get("rejected", 0))
            # A range's errors name their part (their lines are within it); a piece's are the file's lines.
            total.errors.extend({"part": n, **e} if "part_line" in e else e for e in piece.get("errors", []))
        summary = _complete(tenant, file_id, sorted(state.get("days", set())), total, _Known(owners, uploaded))
    store.delete_landed(source or key)
    return summary


def _restage_or_decode(tenant: str, key: str, file_id: str, scratch: str) -> Plain | None:
    """A compressed inbox object decoded from its stream: the plain text when
    it fits one part (on local disk), else restaged as plain pieces of
    SPLIT_BYTES under cdr-staged/ (one at a time on disk), one cdr-files
    message each, and None. Redelivered, it restages the same pieces."""
    staged: list[dict[str, Any]] = []
    header = ""

    def ship(piece: Plain, first_line: int) -> None:
        nonlocal header
        name = store.staged_key(tenant, file_id, len(staged))
        with _timed("s3.inbox"):
            store.staged_put(name, piece.path)
        if not staged:
            with open(piece.path, "rb") as handle:
                header = handle.readline().decode("utf-8")
        staged.append({"key": name, "end": os.path.getsize(piece.path), "first_line": first_line,
                       "stream_error": piece.error})

    body = store.landed_stream(key)
    try:
        with _timed("compute.plain"):
            plain = cdr_plain.to_pieces(body, scratch, limit=SPLIT_BYTES, ship=ship)
    finally:
        body.close()
    if plain is not None:
        return plain
    parts = len(staged)
    store.set_file_fields(tenant, file_id, {"parts": parts, "staged": True})
    queues.publish_batch("cdr_files", [{"cdrPart": {
        "tenant": tenant, "key": piece["key"], "file_id": file_id, "part": n, "parts": parts,
        "start": 0, "end": piece["end"], "size": piece["end"], "header": header, "source": key,
        "first_line": piece["first_line"], "stream_error": piece["stream_error"]}} for n, piece in enumerate(staged)])
    return None


RANGE_SLACK = 64 * 1024


def _download_range(key: str, path: str, *, start: int, end: int, header: bytes, size: int | None) -> None:
    """The lines of [start, end) of a plain object of ``size`` bytes, behind
    ``header``: a line belongs to the part in which its first byte lies, so
    the range is read from byte start-1 and on past ``end`` to the end of its
    last line. (``size`` comes with the part's message; asked of S3 only when
    a message lacks it and the range ends inside a line.)"""
    body = path + ".range"
    low = max(start - 1, 0)
    with _timed("s3.inbox"):
        store.download_landed(key, body, start=low, end=end)
        with open(body, "rb") as handle:
            handle.seek(max(0, end - low - 1))
            complete = handle.read(1) == b"\n"
        if size is None:  # a message from before parts carried the size
            size = end if complete else int((store.landed_head(key) or {}).get("ContentLength", end))
        reached = end
        while not complete and reached < size:  # finish the line that crosses ``end``
            extra = body + ".more"
            store.download_landed(key, extra, start=reached, end=min(size, reached + RANGE_SLACK))
            with open(extra, "rb") as more, open(body, "ab") as out:
                chunk = more.read()
                out.write(chunk)
            reached += len(chunk)
            complete = b"\n" in chunk
    with open(body, "rb") as handle, open(path, "wb") as out:
        out.write(header)
        offset = max(start - 1, 0)
        if start:
            previous = handle.read(1)
            offset += 1
            if previous != b"\n":
                offset += len(handle.readline())  # the tail of a line owned by the part before
        else:
            offset += len(handle.readline())  # the file's own header, written above
        while offset < end:
            line = handle.readline()
            if not line:
                break
            offset += len(line)
            out.write(line)
    os.remove(body)


# ------------------------------------------------------------ rates

def import_rates(*, tenant: str, direction: str, path: str, account_number: str | None = None) -> dict[str, Any]:
    """Replace the tenant's (or one customer's) deck for a direction. Bad rows are
    reported and the deck is refused: half a deck would rate calls wrongly."""
    _require_tenant(tenant)
    if direction not in rules.DIRECTIONS:
        raise ValidationError("direction must be inbound or outbound", field="direction")
    owner = "TENANT"
    if account_number:
        from chalicelib.services.customers.accounts import customer_id_for_account

        owner = str(customer_id_for_account(tenant=tenant, account_number=account_number))
    errors: list[dict[str, Any]] = []
    rates: dict[str, rules.Rate] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        first = next(reader, None)
        if first is None or tuple(f.strip().lower() for f in first) != rules.RATE_HEADER:
            raise ValidationError("the header must be " + ",".join(rules.RATE_HEADER), field="file")
        for fields in reader:
            if not fields:
                continue
            try:
                rate = rules.parse_rate(fields)
                rates[rate.prefix] = rate
            except rules.BadRow as error:
                errors.append({"line": reader.line_num, "reason": str(error)})
    if errors:
        return {"imported": 0, "rejected": len(errors), "errors": errors[:MAX_REPORTED_ERRORS]}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rules.RATE_HEADER)
    for r in sorted(rates.values(), key=lambda r: r.prefix):
        writer.writerow([r.prefix, r.rate, r.connect_fee, r.initial_increment, r.increment])
    blobs.put(tenant, f"rates/{direction}/{owner}.csv", out.getvalue().encode("utf-8"), content_type="text/csv")
    return {"imported": len(rates), "rejected": 0, "direction": direction, "deck": owner}


def _deck(tenant: str, direction: str, owner: str) -> rules.RateDeck:
    reader = csv.reader(io.StringIO(blobs.get(tenant, f"rates/{direction}/{owner}.csv").decode("utf-8")))
    next(reader)
    return rules.RateDeck({r.prefix: r for r in (rules.parse_rate(f) for f in reader if f)})


def _decks(tenant: str) -> list[Any]:
    """Every deck of the tenant (its own and its customers'): one listing, then
    the decks present, read in parallel."""
    from chalicelib.services.calls.engine import Deck

    wanted = []
    for key in store.list_keys(tenant, "rates/"):
        pieces = key.split("/")
        if len(pieces) == 3 and pieces[2].endswith(".csv") and pieces[1] in rules.DIRECTIONS:
            wanted.append((pieces[1], pieces[2][:-4]))
    with ThreadPoolExecutor(max_workers=8) as pool:
        loaded = list(pool.map(lambda w: _deck(tenant, w[0], w[1]), wanted))
    return [Deck(owner, direction, deck.rates) for (direction, owner), deck in zip(wanted, loaded)]


# ------------------------------------------------------------ a day's figures

def refresh_day(*, tenant: str, day: str, final: bool = False, known: _Known | None = None) -> dict[str, Any]:
    """Compute a day's figures from its part objects and store them. Re-runs
    while files kept landing for the day during the computation. ``known``:
    owners and local copies of parts an ingest already has."""
    for _ in range(5):
        before = (store.get_day(tenant, day) or {}).get("generation", 0)
        result = _compute_day(tenant, day, final=final, known=known)
        if (store.get_day(tenant, day) or {}).get("generation", 0) == before:
            return result
    return result


def _compute_day(tenant: str, day: str, *, final: bool, known: _Known | None) -> dict[str, Any]:
    from chalicelib.services.calls import engine

    record = store.get_day(tenant, day) or {}
    closing = final or bool(record.get("closed"))
    with tempfile.TemporaryDirectory(prefix="cdr-day-") as scratch:
        with _timed("s3.parts_down"):
            names = store.list_keys(tenant, f"cdr-parts/{day}/")
            local, parts = [], []
            for order, name in enumerate(names):
                pieces = name.split("/")
                matched = PART_NAME.match(pieces[-1])
                if len(pieces) != 4 or not matched:
                    continue
                path = known.local_parts.get(name) if known else None
                if path is None:
                    path = os.path.join(scratch, f"part-{order:06d}.parquet")
                    local.append((name, path))
                parts.append((int(pieces[2]), order, matched["file"], path))
            store.download_many(tenant, local)
            decks = _decks(tenant)
        owners = known.owners if known else _owners(tenant)
        # The figures depend on the parts (generation) and the owners only: when
        # both are what the last stored figures were computed from, they stand
        # (a close right after the refresh of the last file skips them).
        basis = f"{record.get('generation', 0)}:{owners.digest()}"
        stored_basis = record.get("figuresBasis")
        figures = stored_basis != basis
        result = engine.DayResult()
        export_dir = os.path.join(scratch, "exports")
        stored = _GroupWriter(tenant, day, figures=figures, closing=closing, compare=stored_basis is not None)
        # Each group's figures, export files and charges are stored by one
        # background thread while the next group computes (the groups' keys
        # and customers are disjoint); at most two groups wait, so their
        # export files on disk stay bounded.
        with ThreadPoolExecutor(max_workers=1) as writer:
            waiting: list[Any] = []
            con = engine.connect(scratch)
            try:
                with _timed("compute.day"):
                    engine.load_owners(con, scratch, owners.numbers, owners.trunks, _shard)
                    engine.load_decks(con, scratch, decks)
                    engine.load_table(con, scratch, "deck_choice", {"customer": "BIGINT", "direction": "VARCHAR",
                                                                    "deck": "VARCHAR"},
                                      ((int(d.owner), d.direction, d.owner) for d in decks if d.owner != "TENANT"))
                    groups = engine.shard_groups(parts)
                for n, group in enumerate(groups):
                    if len(waiting) >= 2:
                        waiting.pop(0).result()
                    piece = engine.DayResult()
                    with _timed("compute.day"):
                        engine.compute_group(con, scratch, group, piece, figures=figures, rating=closing,
                                             export_dir=os.path.join(export_dir, str(n)) if closing else None)
                    result.merge(piece)
                    waiting.append(writer.submit(stored.store, piece))
            finally:
                con.close()
            for future in waiting:
                future.result()
        items = len(result.figures)
        day_fields: dict[str, Any] = {"figuresBasis": basis, "figuresKeys": items} if figures else {}
        if closing:
            day_fields.update({
                "closed": True, "calls": result.calls,
                "exportsInbound": sorted({c for c, d, _, _ in result.exports if d == "inbound"}),
                "exportsOutbound": sorted({c for c, d, _, _ in result.exports if d == "outbound"})})
        if day_fields:  # one update of the day record, after everything it describes is stored
            store.set_day_fields(tenant, day, day_fields)
    return {"day": day, "calls": result.calls, "keys": items if figures else int(record.get("figuresKeys", 0)),
            "stats_written": stored.written,
            "unrated": result.unrated, "duplicates": sum(result.duplicates_by_file.values()),
            "duplicates_by_file": dict(result.duplicates_by_file),
            "costs": {str(c): str(v) for c, v in sorted(result.costs.items())}, "posted": stored.charged,
            "closed": closing}


class _GroupWriter:
    """Stores what one shard group of a day produced: its changed figures
    (compared with the stored ones unless the day has none yet), and at close
    its export files and its customers' charges. Called from one thread."""

    def __init__(self, tenant: str, day: str, *, figures: bool, closing: bool, compare: bool) -> None:
        self.tenant, self.day = tenant, day
        self.figures, self.closing, self.compare = figures, closing, compare
        self.written = 0
        self.charged: dict[str, str] = {}

    def store(self, piece: Any) -> None:
        if self.figures:
            items = [store.stats_item(self.tenant, kind, ident, self.day, customer, totals)
                     for kind, ident, customer, totals in piece.figures]
            with _timed("dynamodb.stats"):
                self.written += _write_changed(self.tenant, items, compare=self.compare)
        if self.closing:
            with _timed("s3.exports"):
                store.upload_many(self.tenant, [(export_key(self.day, customer, direction, outcome), path, "text/csv")
                                                for customer, direction, outcome, path in piece.exports])
            with _timed("dynamodb.charges"):
                self.charged.update(_post_charges(self.tenant, self.day, piece.costs))


def _post_charges(tenant: str, day: str, costs: dict[int, Decimal]) -> dict[str, str]:
    """Each customer's day total through ``post_call_charges``, skipping those
    whose charge record already holds it (one BatchGet per 100 customers, no
    write): a close run again, or a refresh of a day whose costs did not move,
    writes nothing. Customers post in parallel (their items are disjoint),
    one at a time on the in-process test stage (moto does not serialise
    concurrent transactions)."""
    recorded = store.charges_of(tenant, sorted(costs), day)
    charged: dict[str, str] = {}
    pending = []
    for customer, amount in sorted(costs.items()):
        record = recorded.get(customer)
        if Decimal(str(record["total"])) == amount if record else amount == 0:
            charged[str(customer)] = "0"
        else:
            pending.append((customer, amount))

    def post(entry: tuple[int, Decimal]) -> str:
        customer, amount = entry
        try:
            return str(cdr_ports.post_call_charges(tenant=tenant, customer_id=customer, day=day, amount=amount,
                                                   idempotency_key=f"call-charges#{customer}#{day}",
                                                   record=recorded.get(customer)))
        except NotFoundError as error:
            # Call charges overdraw rather than fail (the ledger's overdraft rule), so
            # only a vanished account lands here. Nothing written: the next close
            # of the day (or a late file) tries again.
            _log.warning("call charges of customer %s on %s not posted: %s", customer, day, error.message)
            return f"refused: {error.message}"

    threads = 1 if settings.stage() == "test" else CHARGE_THREADS
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for (customer, _), answer in zip(pending, pool.map(post, pending)):
            charged[str(customer)] = answer
    return charged


def _write_changed(tenant: str, items: list[dict[str, Any]], *, compare: bool = True) -> int:
    """Put the day items whose figures changed (a refresh after one more file
    rewrites only the numbers that file touched)."""
    if not compare:
        return store.put_many(items)
    stored = store.existing_stats(tenant, [(i["kind"], i["id"], i["day"]) for i in items])
    fields = ("processed", "completed", "billsec", "peak", "customerId")
    changed = [i for i in items
               if (old := stored.get((i["kind"], i["id"], i["day"]))) is None
               or any(int(old.get(f, -1)) != int(i[f]) for f in fields)]
    return store.put_many(changed)


def export_key(day: str, customer_id: int, direction: str, outcome: str) -> str:
    return f"cdr-exports/{day}/{customer_id}-{direction}-{outcome}.csv"


def daily_close(*, tenant: str, day: str) -> dict[str, Any]:
    """Make a day final: figures, export files and charges. Idempotent."""
    _require_tenant(tenant)
    try:
        date.fromisoformat(day)
    except ValueError:
        raise ValidationError("date must be YYYY-MM-DD", field="date") from None
    result = refresh_day(tenant=tenant, day=day, final=True)
    result.pop("duplicates_by_file", None)
    return result


def close_yesterday(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """The scheduled job: yesterday (UTC) of every tenant."""
    day = ((now or clock.now()) - timedelta(days=1)).strftime("%Y-%m-%d")
    return [daily_close(tenant=t["id"], day=day) for t in identity.list_tenants()]

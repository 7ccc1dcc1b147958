"""CDR files in, figures and charges out (docs/cdrs.md).

1. ``ingest``: the file (or one byte range of it) is brought to a local plain
   CSV (parallel ranged GETs; gzip/zstd decompressed as a stream) and scanned
   by the vectorised engine (services/cdr_engine.py, DuckDB): every row
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
import hashlib
import io
import logging
import os
import re
import tempfile
import time
import zlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, BinaryIO, Callable

from chalicelib import settings
from chalicelib.domain import cdrs as rules
from chalicelib.domain.errors import NotFoundError, ValidationError
from chalicelib.services import cdr_ports
from chalicelib.store import blobs, identity, queues
from chalicelib.store import cdrs as store

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
GZIP_MAGIC, ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
BLOCK = 1 << 20
PART_NAME = re.compile(r"^(?P<stamp>[^-]+)-(?P<file>.+)-(?P<part>\d+)(?:\.\d+)?\.parquet$")

# Seconds spent per kind of work in this process (the bench prints them).
TIMINGS: dict[str, float] = defaultdict(float)


class _timed:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.began = time.perf_counter()

    def __exit__(self, *_: Any) -> None:
        TIMINGS[self.name] += time.perf_counter() - self.began


def _shard(customer_id: int) -> int:
    # Whole customers per shard: a call's number, trunk and charges are all its
    # owner's, so duplicates and peaks never cross shards.
    return zlib.crc32(str(customer_id).encode()) % SHARDS


# ------------------------------------------------------------ a local plain file

@dataclass
class _Plain:
    path: str
    lines: int = 0          # physical lines (a last line without a newline counts)
    error: str | None = None  # a stream that could not be decoded, at line ``lines + 1``


def _to_plain(source: BinaryIO, scratch: str, *, digest: Any = None,
              progress: Callable[[int], None] | None = None, source_path: str | None = None) -> _Plain:
    """The file as plain bytes on local disk: compressed files are decoded as a
    stream (never whole in memory); lines counted on the way. A stream that
    breaks (truncated gzip) keeps the complete lines read before it. A plain
    file already on disk (``source_path``) is used where it is."""

    def raw_blocks() -> Any:
        while True:
            block = source.read(BLOCK)
            if not block:
                return
            if digest is not None:
                digest.update(block)
            if progress:
                progress(len(block))
            yield block

    blocks = raw_blocks()
    first = next(blocks, b"")
    compressed = first[:2] == GZIP_MAGIC or first[:4] == ZSTD_MAGIC
    in_place = source_path is not None and not compressed
    target = source_path if in_place else os.path.join(scratch, "plain.csv")
    plain = _Plain(target)  # type: ignore[arg-type]
    last = b"\n"
    with open(os.devnull if in_place else target, "wb") as out:
        def emit(data: bytes) -> None:
            nonlocal last
            if data:
                if not in_place:
                    out.write(data)
                plain.lines += data.count(b"\n")
                last = data[-1:]

        def rest() -> Any:
            yield first
            yield from blocks

        try:
            if first[:2] == GZIP_MAGIC:
                decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
                for block in rest():
                    emit(decoder.decompress(block))
                    while decoder.eof and decoder.unused_data:  # concatenated gzip members
                        tail = decoder.unused_data
                        decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
                        emit(decoder.decompress(tail))
                if not decoder.eof:
                    raise EOFError("compressed file ended before the end-of-stream marker was reached")
            elif first[:4] == ZSTD_MAGIC:
                import zstandard

                reader = zstandard.ZstdDecompressor().stream_reader(_Chained(rest()), read_size=BLOCK)
                while True:
                    data = reader.read(BLOCK)
                    if not data:
                        break
                    emit(data)
            else:
                for block in rest():
                    emit(block)
        except (EOFError, OSError, zlib.error) as error:  # zstandard.ZstdError is an OSError-free class:
            plain.error = f"unreadable: {error}"
        except Exception as error:  # noqa: BLE001 - zstandard.ZstdError and friends
            plain.error = f"unreadable: {error}"
        if plain.error:
            # Keep the complete lines only: the broken line is the error.
            out.flush()
            size = out.tell()
            with open(target, "rb") as check:
                check.seek(max(0, size - BLOCK))
                tail = check.read()
            cut = tail.rfind(b"\n")
            keep = size - len(tail) + cut + 1 if cut >= 0 else 0
            out.truncate(keep)
            last = b"\n"
            plain.lines = _count_lines(target)
    if last != b"\n":
        plain.lines += 1
    if digest is not None:
        for _ in blocks:  # hash what the decoder did not need
            pass
    return plain


class _Chained(io.RawIOBase):
    def __init__(self, blocks: Any) -> None:
        self.blocks, self.pending = blocks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            self.pending = next(self.blocks, b"")
            if not self.pending:
                return 0
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def _count_lines(path: str) -> int:
    count = 0
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            count += block.count(b"\n")
    return count


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


def _scan_plain(tenant: str, plain: _Plain, scratch: str, tally: _Tally, *,
                offset_lines: bool) -> dict[tuple[str, int], list[str]]:
    """Validate and split a local plain file with the engine; returns the
    local part files per (day, shard). A byte-range part reports the line
    within its range (``part_line``: its header is an added line 1)."""
    from chalicelib.services import cdr_engine as engine

    def where(line: int) -> dict[str, Any]:
        return {"part_line": line - 1} if offset_lines else {"line": line}

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
    with _timed("dynamodb"):
        trunks = cdr_ports.trunk_owners(tenant=tenant)
        numbers = cdr_ports.number_owners(tenant=tenant, trunks=trunks)
    with _timed("compute"):
        con = engine.connect(scratch)
        try:
            engine.load_owners(con, scratch, numbers, trunks, _shard)
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


def _chunks(plain: _Plain, scratch: str) -> Any:
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


def _scan_chunks(con: Any, engine: Any, plain: _Plain, scratch: str) -> Any:
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


def _upload_parts(tenant: str, name: str, parts: dict[tuple[str, int], list[str]]) -> list[str]:
    uploads = []
    for (day, shard), files in sorted(parts.items()):
        for n, path in enumerate(files):
            suffix = f".{n:04d}"  # pieces of the file in order: names sort as they were read
            uploads.append((f"cdr-parts/{day}/{shard:02d}/{name}{suffix}.parquet", path, "application/vnd.apache.parquet"))
    with _timed("s3"):
        store.upload_many(tenant, uploads)
    return sorted({day for day, _ in parts})


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def import_file(*, tenant: str, path: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """``import-cdrs``: process a local file completely before returning its summary."""
    _require_tenant(tenant)
    digest = hashlib.sha256()
    with open(path, "rb") as raw, tempfile.TemporaryDirectory(prefix="cdr-") as scratch:
        with _timed("compute"):
            plain = _to_plain(raw, scratch, digest=digest, progress=progress, source_path=path)
        tally = _Tally()
        parts = _scan_plain(tenant, plain, scratch, tally, offset_lines=False)
        file_id = "sha256-" + digest.hexdigest()
        stamp = _stamp()
        if not store.create_file(tenant, file_id, {"name": os.path.basename(path), "stamp": stamp, "parts": 1}):
            return _repeat_summary(tenant, file_id, tally.rows)
        days = _upload_parts(tenant, f"{stamp}-{file_id}-0", parts)
        store.finish_part(tenant, file_id, 0, days, {"rows": tally.rows, "rejected": tally.rejected})
    return _complete(tenant, file_id, days, tally)


def _repeat_summary(tenant: str, file_id: str, rows: int) -> dict[str, Any]:
    # The same bytes again: every row is a duplicate; nothing is written.
    return {"file": file_id, "repeated": True, "rows": rows, "accepted": 0, "duplicate": rows, "rejected": 0,
            "errors": []}


def _complete(tenant: str, file_id: str, days: list[str], tally: _Tally) -> dict[str, Any]:
    for day in days:
        store.bump_day(tenant, day)
    duplicates = 0
    for day in days:
        duplicates += refresh_day(tenant=tenant, day=day)["duplicates_by_file"].get(file_id, 0)
    summary = {"file": file_id, "rows": tally.rows, "accepted": tally.rows - tally.rejected - duplicates,
               "duplicate": duplicates, "rejected": tally.rejected, "errors": tally.errors, "days": days}
    store.set_file_fields(tenant, file_id, {"status": "done", "summary": summary})
    return summary


def _require_tenant(tenant: str) -> None:
    if not tenant or identity.get_tenant(tenant) is None:
        raise NotFoundError(f"tenant '{tenant}' does not exist", field="tenant")


def upload_to_inbox(*, tenant: str, name: str, body: BinaryIO | bytes) -> str:
    """Put a file where the switch would: S3 notifies the cdr-files queue."""
    _require_tenant(tenant)
    key = f"{INBOX_PREFIX}{tenant}/{name}"
    store.inbox_put(key, body)
    return key


def inbox_upload_url(*, tenant: str, name: str, max_bytes: int = 5 * 1024**3) -> dict[str, Any]:
    """A presigned POST for a large file under the tenant's inbox (the upload endpoint)."""
    _require_tenant(tenant)
    if "/" in name or ".." in name or not name:
        raise ValidationError("file name must be a plain name", field="name")
    from chalicelib.store.clients import client
    from chalicelib import settings

    return client("s3").generate_presigned_post(
        Bucket=settings.blob_bucket(), Key=f"{INBOX_PREFIX}{tenant}/{name}",
        Conditions=[["content-length-range", 1, max_bytes]], ExpiresIn=settings.presign_seconds())


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
    head = store.inbox_head(key)
    if head is None:
        return {"key": key, "ignored": "already processed and removed"}
    file_id = "etag-" + str(head.get("ETag", "")).strip('"')
    size = int(head.get("ContentLength", 0))
    first = store.inbox_stream(key, "bytes=0-65535").read()
    compressed = first[:2] == GZIP_MAGIC or first[:4] == ZSTD_MAGIC
    parts = 1 if compressed or size <= SPLIT_BYTES else -(-size // SPLIT_BYTES)
    if not store.create_file(tenant, file_id, {"name": key, "stamp": _stamp(), "parts": parts, "size": size}):
        record = store.get_file(tenant, file_id) or {}
        if record.get("status") == "done":
            store.inbox_delete(key)
            return {"key": key, "file": file_id, "repeated": True}
        parts = int(record.get("parts", parts))  # a redelivery of a file in progress: redo its fan-out
    if parts == 1:
        return ingest_part(tenant=tenant, key=key, file_id=file_id, part=0, parts=1, start=0, end=size)
    header = first.split(b"\n", 1)[0] + b"\n"
    messages = [{"cdrPart": {"tenant": tenant, "key": key, "file_id": file_id, "part": n, "parts": parts,
                             "start": n * SPLIT_BYTES, "end": min(size, (n + 1) * SPLIT_BYTES),
                             "header": header.decode("utf-8")}} for n in range(parts)]
    queues.publish_batch("cdr_files", messages)
    return {"key": key, "file": file_id, "parts": parts}


def ingest_part(*, tenant: str, key: str, file_id: str, part: int, parts: int, start: int, end: int,
                header: str | None = None) -> dict[str, Any]:
    """One part of an inbox object (the whole object when parts == 1). A
    redelivered part rewrites the same part objects: same names, same rows."""
    record = store.get_file(tenant, file_id)
    if record is None:
        return {"file": file_id, "ignored": "unknown file"}
    if str(part) in record.get("doneParts", set()):
        return {"file": file_id, "part": part, "repeated": True}
    with tempfile.TemporaryDirectory(prefix="cdr-") as scratch:
        tally = _Tally()
        raw = os.path.join(scratch, "object")
        magic = store.inbox_stream(key, "bytes=0-3").read() if parts == 1 else b""
        if magic[:2] == GZIP_MAGIC or magic[:4] == ZSTD_MAGIC:
            # Decoded straight from the object's stream: /tmp holds the plain text only.
            body = store.inbox_stream(key)
            try:
                with _timed("compute"):
                    plain = _to_plain(body, scratch)
            finally:
                body.close()
        else:
            if parts == 1:
                with _timed("s3"):
                    store.download_inbox(key, raw)
            else:
                _download_range(key, raw, start=start, end=end, header=(header or "").encode("utf-8"))
            with open(raw, "rb") as source, _timed("compute"):
                plain = _to_plain(source, scratch, source_path=raw)
        found = _scan_plain(tenant, plain, scratch, tally, offset_lines=parts > 1)
        days = _upload_parts(tenant, f"{record['stamp']}-{file_id}-{part}", found)
    state = store.finish_part(tenant, file_id, part, days,
                              {"rows": tally.rows, "rejected": tally.rejected, "errors": tally.errors})
    if len(state.get("doneParts", set())) < parts:
        return {"file": file_id, "part": part, "rows": tally.rows}
    # The last part to finish merges: totals of all parts, then the days.
    total = _Tally()
    for n in range(parts):
        piece = state.get(f"part{n}", {})
        total.rows += int(piece.get("rows", 0))
        total.rejected += int(piece.get("rejected", 0))
        total.errors.extend({"part": n, **e} for e in piece.get("errors", []))
    summary = _complete(tenant, file_id, sorted(state.get("days", set())), total)
    store.inbox_delete(key)
    return summary


RANGE_SLACK = 64 * 1024


def _download_range(key: str, path: str, *, start: int, end: int, header: bytes) -> None:
    """The lines of [start, end) of a plain object, behind ``header``: a line
    belongs to the part in which its first byte lies, so the range is read
    from byte start-1 and on past ``end`` to the end of its last line."""
    body = path + ".range"
    low = max(start - 1, 0)
    with _timed("s3"):
        size = int((store.inbox_head(key) or {}).get("ContentLength", end))
        store.download_inbox(key, body, start=low, end=end)
        with open(body, "rb") as handle:
            handle.seek(max(0, end - low - 1))
            complete = handle.read(1) == b"\n"
        reached = end
        while not complete and reached < size:  # finish the line that crosses ``end``
            extra = body + ".more"
            store.download_inbox(key, extra, start=reached, end=min(size, reached + RANGE_SLACK))
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
        from chalicelib.services.customers import customer_id_for_account

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
    from chalicelib.services.cdr_engine import Deck

    wanted = []
    for key in store.list_keys(tenant, "rates/"):
        pieces = key.split("/")
        if len(pieces) == 3 and pieces[2].endswith(".csv") and pieces[1] in rules.DIRECTIONS:
            wanted.append((pieces[1], pieces[2][:-4]))
    with ThreadPoolExecutor(max_workers=8) as pool:
        loaded = list(pool.map(lambda w: _deck(tenant, w[0], w[1]), wanted))
    return [Deck(owner, direction, deck.rates) for (direction, owner), deck in zip(wanted, loaded)]


# ------------------------------------------------------------ a day's figures

def refresh_day(*, tenant: str, day: str, final: bool = False) -> dict[str, Any]:
    """Compute a day's figures from its part objects and store them. Re-runs
    while files kept landing for the day during the computation."""
    for _ in range(5):
        before = (store.get_day(tenant, day) or {}).get("generation", 0)
        result = _compute_day(tenant, day, final=final)
        if (store.get_day(tenant, day) or {}).get("generation", 0) == before:
            return result
    return result


def _compute_day(tenant: str, day: str, *, final: bool) -> dict[str, Any]:
    from chalicelib.services import cdr_engine as engine

    record = store.get_day(tenant, day) or {}
    closing = final or bool(record.get("closed"))
    with tempfile.TemporaryDirectory(prefix="cdr-day-") as scratch:
        with _timed("s3"):
            names = store.list_keys(tenant, f"cdr-parts/{day}/")
            local, parts = [], []
            for order, name in enumerate(names):
                pieces = name.split("/")
                matched = PART_NAME.match(pieces[-1])
                if len(pieces) != 4 or not matched:
                    continue
                path = os.path.join(scratch, f"part-{order:06d}.parquet")
                local.append((name, path))
                parts.append((int(pieces[2]), order, matched["file"], path))
            store.download_many(tenant, local)
            decks = _decks(tenant)
        with _timed("dynamodb"):
            trunks = cdr_ports.trunk_owners(tenant=tenant)
            numbers = cdr_ports.number_owners(tenant=tenant, trunks=trunks)
        # The figures depend on the parts (generation) and the owners only: when
        # both are what the last stored figures were computed from, they stand
        # (a close right after the refresh of the last file skips them).
        basis = f"{record.get('generation', 0)}:{_owners_digest(numbers, trunks)}"
        stored_basis = record.get("figuresBasis")
        figures = stored_basis != basis
        result = engine.DayResult()
        export_dir = os.path.join(scratch, "exports")
        with _timed("compute"):
            con = engine.connect(scratch)
            try:
                engine.load_owners(con, scratch, numbers, trunks, _shard)
                engine.load_decks(con, scratch, decks)
                engine.load_table(con, scratch, "deck_choice", {"customer": "BIGINT", "direction": "VARCHAR",
                                                                "deck": "VARCHAR"},
                                  ((int(d.owner), d.direction, d.owner) for d in decks if d.owner != "TENANT"))
                for n, group in enumerate(engine.shard_groups(parts)):
                    engine.compute_group(con, scratch, group, result, figures=figures, rating=closing,
                                         export_dir=os.path.join(export_dir, str(n)) if closing else None)
            finally:
                con.close()
        items = [store.stats_item(tenant, kind, ident, day, customer, totals)
                 for kind, ident, customer, totals in result.figures]
        written = 0
        if figures:
            with _timed("dynamodb"):
                # Never stored for this day (no basis): nothing to compare with, put them all.
                written = _write_changed(tenant, items, compare=stored_basis is not None)
                store.set_day_fields(tenant, day, {"figuresBasis": basis, "figuresKeys": len(items)})
        charged: dict[str, str] = {}
        if closing:
            with _timed("s3"):
                store.upload_many(tenant, [(export_key(day, customer, direction, outcome), path, "text/csv")
                                           for customer, direction, outcome, path in result.exports])
            with _timed("dynamodb"):
                charged = _post_charges(tenant, day, result.costs)
                store.set_day_fields(tenant, day, {
                    "closed": True, "calls": result.calls,
                    "exportsInbound": sorted({c for c, d, _, _ in result.exports if d == "inbound"}),
                    "exportsOutbound": sorted({c for c, d, _, _ in result.exports if d == "outbound"})})
    return {"day": day, "calls": result.calls, "keys": len(items) if figures else int(record.get("figuresKeys", 0)),
            "stats_written": written,
            "unrated": result.unrated, "duplicates": sum(result.duplicates_by_file.values()),
            "duplicates_by_file": dict(result.duplicates_by_file),
            "costs": {str(c): str(v) for c, v in sorted(result.costs.items())}, "posted": charged,
            "closed": closing}


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
                                                   idempotency_key=f"call-charges#{customer}#{day}"))
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


def _owners_digest(numbers: dict[str, cdr_ports.Owner], trunks: dict[str, cdr_ports.Owner]) -> str:
    digest = hashlib.sha256()
    for kind, table in (("N", numbers), ("T", trunks)):
        for key in sorted(table):
            owner = table[key]
            digest.update(f"{kind}{key},{owner.customer_id},{owner.metered:d},{owner.direction};".encode())
    return digest.hexdigest()[:32]


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
    day = ((now or datetime.now(timezone.utc)) - timedelta(days=1)).strftime("%Y-%m-%d")
    return [daily_close(tenant=t["id"], day=day) for t in identity.list_tenants()]

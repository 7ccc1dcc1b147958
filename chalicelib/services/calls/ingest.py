"""Ingest: a CDR file (a local file, an inbox object, or one part of a big
one) brought to a local plain CSV (parallel ranged GETs; gzip/zstd decompressed
as a stream), scanned and split (services/calls/scan.py), its accepted rows
uploaded as Parquet part objects per (day, shard), and, once every part of
the file is in, the days it touched refreshed (services/calls/daily.py). No
DynamoDB write per row: one file record, one counter bump per day touched.
A redelivered part rewrites the same part objects: same names, same rows.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from typing import Any, Callable

from chalicelib.observability import metrics
from chalicelib.services.calls import plain as cdr_plain
from chalicelib.services.calls.daily import Known, refresh_day
from chalicelib.services.calls.owners import read_owners
from chalicelib.services.calls.plain import Plain
from chalicelib.services.calls.scan import Tally, file_lines, piece_lines, range_lines, scan_plain
from chalicelib.services.calls.shared import require_tenant, stamp, timed
from chalicelib.store import calls as store
from chalicelib.store import queues

# A part reads at most this many bytes of a plain file; bigger files are split
# into ranges of this size, one SQS message each (docs/cdrs.md, "Scale").
# 256 MiB: the range, its Parquet parts (≈ 35 % of it) and the scan's pieces fit
# the function's default 512 MB /tmp.
SPLIT_BYTES = int(os.environ.get("CDR_SPLIT_BYTES", str(256 * 1024 * 1024)))


def _upload_parts(tenant: str, name: str,
                  parts: dict[tuple[str, int], list[str]]) -> tuple[list[str], dict[str, str]]:
    """Upload a scan's local part files; returns the days they hold and the
    uploaded keys with their local files."""
    uploads = []
    for (day, shard), files in sorted(parts.items()):
        for n, path in enumerate(files):
            suffix = f".{n:04d}"  # pieces of the file in order: names sort as they were read
            uploads.append((f"cdr-parts/{day}/{shard:02d}/{name}{suffix}.parquet", path, "application/vnd.apache.parquet"))
    with timed("s3.parts_up"):
        store.upload_many(tenant, uploads)
    return sorted({day for day, _ in parts}), {key: path for key, path, _ in uploads}



def import_file(*, tenant: str, path: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """``import-cdrs``: process a local file completely before returning its summary."""
    require_tenant(tenant)
    digest = hashlib.sha256()
    with open(path, "rb") as raw, tempfile.TemporaryDirectory(prefix="cdr-") as scratch:
        with timed("compute.plain"):
            plain = cdr_plain.to_plain(raw, scratch, digest=digest, progress=progress, source_path=path)
        tally = Tally()
        owners = read_owners(tenant=tenant)
        parts = scan_plain(owners, plain, scratch, tally)
        file_id = "sha256-" + digest.hexdigest()
        stamped = stamp()
        if not store.create_file(tenant, file_id, {"name": os.path.basename(path), "stamp": stamped, "parts": 1}):
            return _repeat_summary(tenant, file_id, tally.rows)
        days, uploaded = _upload_parts(tenant, f"{stamped}-{file_id}-0", parts)
        store.finish_part(tenant, file_id, 0, days, {"rows": tally.rows, "rejected": tally.rejected})
        return _complete(tenant, file_id, days, tally, Known(owners, uploaded))


def _repeat_summary(tenant: str, file_id: str, rows: int) -> dict[str, Any]:
    # The same bytes again: every row is a duplicate; nothing is written.
    return {"file": file_id, "repeated": True, "rows": rows, "accepted": 0, "duplicate": rows, "rejected": 0,
            "errors": []}


def _complete(tenant: str, file_id: str, days: list[str], tally: Tally, known: Known) -> dict[str, Any]:
    for day in days:
        store.bump_day(tenant, day)
    duplicates = 0
    for day in days:
        duplicates += refresh_day(tenant=tenant, day=day, known=known)["duplicates_by_file"].get(file_id, 0)
    accepted = tally.rows - tally.rejected - duplicates
    summary = {"file": file_id, "rows": tally.rows, "accepted": accepted,
               "duplicate": duplicates, "rejected": tally.rejected, "errors": tally.errors, "days": days}
    store.set_file_fields(tenant, file_id, {"status": "done", "summary": summary})
    metrics.count("CdrFilesIngested")
    metrics.count("CdrRows", accepted, Outcome="ingested")
    metrics.count("CdrRows", duplicates, Outcome="duplicate")
    metrics.count("CdrRows", tally.rejected, Outcome="rejected")
    return summary



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
        tally = Tally()
        raw = os.path.join(scratch, "object")
        if compressed is None:  # only a whole object can be compressed (ranges and pieces are plain)
            compressed = parts == 1 and cdr_plain.is_compressed(store.landed_stream(key, "bytes=0-3").read())
        if compressed:
            plain = _restage_or_decode(tenant, key, file_id, scratch)
            if plain is None:
                return {"file": file_id, "restaged": True}
        else:
            if parts == 1:
                with timed("s3.inbox"):
                    store.download_landed(key, raw, end=end)
            else:
                _download_range(key, raw, start=start, end=end, header=(header or "").encode("utf-8"), size=size)
            with open(raw, "rb") as local, timed("compute.plain"):
                plain = cdr_plain.to_plain(local, scratch, source_path=raw)
            plain.error = plain.error or stream_error
        owners = read_owners(tenant=tenant)
        where = (file_lines if parts == 1 else range_lines) if first_line is None else \
            functools.partial(piece_lines, first_line=first_line)
        found = scan_plain(owners, plain, scratch, tally, where=where)
        days, uploaded = _upload_parts(tenant, f"{record['stamp']}-{file_id}-{part}", found)
        state = store.finish_part(tenant, file_id, part, days,
                                  {"rows": tally.rows, "rejected": tally.rejected, "errors": tally.errors})
        if source:
            store.delete_landed(key)  # the restaged piece, once its part is recorded
        if len(state.get("doneParts", set())) < parts:
            return {"file": file_id, "part": part, "rows": tally.rows}
        # The last part to finish merges: totals of all parts, then the days.
        total = Tally()
        for n in range(parts):
            piece = state.get(f"part{n}", {})
            total.rows += int(piece.get("rows", 0))
            total.rejected += int(piece.get("rejected", 0))
            # A range's errors name their part (their lines are within it); a piece's are the file's lines.
            total.errors.extend({"part": n, **e} if "part_line" in e else e for e in piece.get("errors", []))
        summary = _complete(tenant, file_id, sorted(state.get("days", set())), total, Known(owners, uploaded))
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
        with timed("s3.inbox"):
            store.staged_put(name, piece.path)
        if not staged:
            with open(piece.path, "rb") as handle:
                header = handle.readline().decode("utf-8")
        staged.append({"key": name, "end": os.path.getsize(piece.path), "first_line": first_line,
                       "stream_error": piece.error})

    body = store.landed_stream(key)
    try:
        with timed("compute.plain"):
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
    with timed("s3.inbox"):
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

"""CDR files in, figures and charges out (docs/cdrs.md).

1. ``ingest``: stream one file (or one byte range of it) row by row: parse,
   resolve the owner customer, and append the accepted row to a compressed
   part object per (day, shard) in S3. No DynamoDB write per row: one file
   record, one counter bump per day touched.
2. ``refresh_day``: read the day's part objects shard by shard (a shard holds
   whole customers, so memory is bounded by the largest shard, not the file),
   drop call ids seen before (first ingested wins), rate, and write one item
   per number / trunk and day. A closed day also gets its export files and its
   charges (``cdr_ports.post_call_charges``: the difference only).
3. ``daily_close``: refresh with final=True; the scheduled job runs it for
   yesterday, ``run-job daily-close`` by hand. Running it again changes nothing.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import logging
import os
import tempfile
import zlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import IO, Any, BinaryIO, Callable, Iterator

from chalicelib.domain import cdrs as rules
from chalicelib.domain.errors import InsufficientFundsError, NotFoundError, ValidationError
from chalicelib.services import cdr_ports
from chalicelib.store import blobs, identity, queues
from chalicelib.store import cdrs as store

_log = logging.getLogger(__name__)
SHARDS = 16
# A part reads at most this many bytes of a plain file; bigger files are split
# into ranges of this size, one SQS message each (docs/cdrs.md, "Scale").
SPLIT_BYTES = int(os.environ.get("CDR_SPLIT_BYTES", str(256 * 1024 * 1024)))
MAX_REPORTED_ERRORS = 100
UPLOAD_THREADS = 8
INBOX_PREFIX = "cdr-inbox/"
PART_COLUMNS = ("call_id", "direction", "customer_id", "account", "trunk_id", "from", "to", "start", "answer",
                "end", "billsec", "disposition")
EXPORT_HEADER = rules.HEADER + ("cost",)
GZIP_MAGIC, ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"


def _shard(customer_id: int) -> int:
    # Whole customers per shard: a call's number, trunk and charges are all its
    # owner's, so duplicates and peaks never cross shards.
    return zlib.crc32(str(customer_id).encode()) % SHARDS


# ------------------------------------------------------------ reading

class _Counting(io.RawIOBase):
    """Counts (and optionally hashes) the bytes read from a stream, for the
    progress bar and the content id of a local file."""

    def __init__(self, raw: Any, progress: Callable[[int], None] | None, digest: Any = None) -> None:
        self.raw, self.progress, self.digest = raw, progress, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self.digest is not None:
            self.digest.update(data)
        if self.progress and n:
            self.progress(n)
        return n


def _decompressed(raw: BinaryIO) -> IO[bytes]:
    """Plain, gzip or zstd by the magic bytes; always a stream, never the whole file."""
    buffered = io.BufferedReader(raw, buffer_size=1 << 20)  # type: ignore[arg-type]
    magic = buffered.peek(4)[:4]
    if magic[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    if magic == ZSTD_MAGIC:
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(buffered, read_size=1 << 20)  # type: ignore[return-value]
    return buffered


def _range_lines(raw: BinaryIO, *, start: int, end: int, header: bytes) -> Iterator[str]:
    """The lines of [start, end) of a plain file, read from byte start-1: a line
    belongs to the part in which its first byte lies. The header comes first."""
    yield header.decode("utf-8")
    stream = io.BufferedReader(raw, buffer_size=1 << 20)  # type: ignore[arg-type]
    position = start - 1 if start else 0
    if start:
        previous = stream.read(1)
        position += 1
        if previous != b"\n":
            skipped = stream.readline()  # the tail of a line owned by the part before
            position += len(skipped)
    else:
        position += len(stream.readline())  # the file's own header, already yielded
    while position < end:
        line = stream.readline()
        if not line:
            break
        position += len(line)
        yield line.decode("utf-8")


# ------------------------------------------------------------ ingest

@dataclass
class _Parts:
    """Accepted rows of one file part, written to gzip temp files per (day, shard)."""

    directory: str
    writers: dict[tuple[str, int], tuple[Any, Any, Any]] = field(default_factory=dict)

    def write(self, day: str, shard: int, row: list[str]) -> None:
        slot = self.writers.get((day, shard))
        if slot is None:
            path = os.path.join(self.directory, f"{day}-{shard:02d}.csv.gz")
            # Level 1: these are intermediate files, read once or twice.
            handle = gzip.open(path, "wt", compresslevel=1, newline="", encoding="utf-8")
            slot = (path, handle, csv.writer(handle))
            self.writers[(day, shard)] = slot
        slot[2].writerow(row)

    def upload(self, tenant: str, name: str) -> list[str]:
        days = set()
        for (day, shard), (path, handle, _) in sorted(self.writers.items()):
            handle.close()
            store.upload_file(tenant, f"cdr-parts/{day}/{shard:02d}/{name}.csv.gz", path, content_type="application/gzip")
            days.add(day)
        return sorted(days)

    def close(self) -> None:
        for _, handle, _ in self.writers.values():
            if not handle.closed:
                handle.close()


@dataclass
class _Tally:
    rows: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, where: dict[str, Any], reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({**where, "reason": reason})


def _accept_rows(tenant: str, lines: Any, parts: _Parts, tally: _Tally, *, offset_lines: bool) -> None:
    numbers = cdr_ports.number_owners(tenant=tenant)
    trunks = cdr_ports.trunk_owners(tenant=tenant)
    reader = csv.reader(lines)
    try:
        parsed = rules.parse_rows(reader)
        for line, cdr in parsed:
            tally.rows += 1
            # A byte-range part cannot know its absolute line numbers without
            # reading what comes before it: it reports the line within the part.
            where = {"part_line": line - 1} if offset_lines else {"line": line}
            if isinstance(cdr, rules.BadRow):
                tally.reject(where, str(cdr))
                continue
            if cdr.direction == "inbound":
                owner = numbers.get(cdr_ports.normalise_number(cdr.dst))
                if owner is None:
                    tally.reject(where, f"unknown number {cdr.dst}")
                    continue
            else:
                owner = trunks.get(cdr.trunk_id)
                if owner is None:
                    tally.reject(where, f"unknown trunk {cdr.trunk_id}")
                    continue
            parts.write(cdr.day, _shard(owner.customer_id), [
                cdr.call_id, cdr.direction, str(owner.customer_id), cdr.account, cdr.trunk_id, cdr.src, cdr.dst,
                str(cdr.start), "" if cdr.answer is None else str(cdr.answer), str(cdr.end), str(cdr.billsec),
                cdr.disposition])
    except rules.BadRow as error:  # the header itself
        tally.reject({"line": 1}, str(error))
    except (UnicodeDecodeError, csv.Error, EOFError, OSError, zlib.error) as error:
        # A truncated or corrupt stream ends the file; what was read still counts.
        tally.reject({"line": getattr(reader, "line_num", 0)}, f"unreadable: {error}")


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def import_file(*, tenant: str, path: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """``import-cdrs``: process a local file completely before returning its summary."""
    _require_tenant(tenant)
    digest = hashlib.sha256()
    with open(path, "rb") as raw, tempfile.TemporaryDirectory(prefix="cdr-") as scratch:
        parts, tally = _Parts(scratch), _Tally()
        try:
            text = io.TextIOWrapper(_decompressed(_Counting(raw, progress, digest)),  # type: ignore[arg-type]
                                    encoding="utf-8", newline="")
            _accept_rows(tenant, text, parts, tally, offset_lines=False)
            while raw.read(1 << 20):  # hash what the parser did not need (e.g. after a bad header)
                pass
        finally:
            parts.close()
        file_id = "sha256-" + digest.hexdigest()
        stamp = _stamp()
        if not store.create_file(tenant, file_id, {"name": os.path.basename(path), "stamp": stamp, "parts": 1}):
            return _repeat_summary(tenant, file_id, tally.rows)
        days = parts.upload(tenant, f"{stamp}-{file_id}-0")
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
        tally, writer = _Tally(), _Parts(scratch)
        try:
            if parts == 1:
                text = io.TextIOWrapper(_decompressed(store.inbox_stream(key)), encoding="utf-8", newline="")
                _accept_rows(tenant, text, writer, tally, offset_lines=False)
            else:
                raw = store.inbox_stream(key, f"bytes={max(start - 1, 0)}-")
                try:
                    lines = _range_lines(raw, start=start, end=end, header=(header or "").encode("utf-8"))
                    _accept_rows(tenant, lines, writer, tally, offset_lines=True)
                finally:
                    raw.close()  # stop the download at the end of our range
        finally:
            writer.close()
        days = writer.upload(tenant, f"{record['stamp']}-{file_id}-{part}")
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


class _Decks:
    """Rate decks of a tenant, read when first needed; a customer's deck overrides the tenant's."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.cache: dict[tuple[str, str], rules.RateDeck | None] = {}
        # One listing instead of a HEAD per customer and direction.
        self.present = set(store.list_keys(tenant, "rates/"))

    def deck(self, direction: str, customer_id: int) -> rules.RateDeck | None:
        for owner in (str(customer_id), "TENANT"):
            if (direction, owner) not in self.cache:
                known = f"rates/{direction}/{owner}.csv" in self.present
                self.cache[(direction, owner)] = _deck(self.tenant, direction, owner) if known else None
            found = self.cache[(direction, owner)]
            if found is not None:
                return found
        return None


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
    record = store.get_day(tenant, day) or {}
    closing = final or bool(record.get("closed"))
    numbers = cdr_ports.number_owners(tenant=tenant)
    trunks = cdr_ports.trunk_owners(tenant=tenant)
    decks = _Decks(tenant)
    items: list[dict[str, Any]] = []
    costs: dict[int, Decimal] = defaultdict(Decimal)
    duplicates_by_file: dict[str, int] = defaultdict(int)
    unrated = calls = 0
    exported: dict[str, list[int]] = {"inbound": [], "outbound": []}
    for shard in range(SHARDS):
        # Everything of one shard's customers; released before the next shard.
        seen: set[str] = set()
        figures: dict[tuple[str, str], rules.Figures] = defaultdict(rules.Figures)
        owners: dict[tuple[str, str], int] = {}
        exports: dict[tuple[int, str, str], list[list[str]]] = defaultdict(list)
        for name in store.list_keys(tenant, f"cdr-parts/{day}/{shard:02d}/"):
            file_id = name.rsplit("/", 1)[-1].split("-", 1)[1].rsplit("-", 1)[0]
            with gzip.open(blobs.open_stream(tenant, name), "rt", newline="", encoding="utf-8") as handle:
                for row in csv.reader(handle):
                    call_id = row[0]
                    if call_id in seen:
                        duplicates_by_file[file_id] += 1
                        continue
                    seen.add(call_id)
                    calls += 1
                    cdr = rules.Cdr(call_id, row[1], row[3], row[4], row[5], row[6], int(row[7]),
                                    int(row[8]) if row[8] else None, int(row[9]), int(row[10]), row[11])
                    customer = int(row[2])
                    cost, rated = _cost(cdr, customer, numbers, decks)
                    unrated += 0 if rated else 1
                    costs[customer] += cost
                    keys = _keys(cdr, customer, trunks)
                    for key in keys:
                        figures[key].add(cdr)
                        owners[key] = customer
                    if closing:
                        exports[(customer, cdr.direction, "success" if cdr.answered else "failed")].append(
                            [cdr.call_id, cdr.direction, cdr.account, cdr.trunk_id, cdr.src, cdr.dst,
                             rules.iso(cdr.start), rules.iso(cdr.answer), rules.iso(cdr.end), str(cdr.billsec),
                             cdr.disposition, str(cost)])
        if closing:
            _write_exports(tenant, day, exports, exported)
        items.extend(store.stats_item(tenant, kind, ident, day, owners[(kind, ident)], figures[(kind, ident)].totals())
                     for kind, ident in sorted(figures))
    written = _write_changed(tenant, items)
    charged: dict[str, str] = {}
    if closing:
        def post(entry: tuple[int, Decimal]) -> Decimal | str:
            customer, amount = entry
            try:
                return cdr_ports.post_call_charges(tenant=tenant, customer_id=customer, day=day, amount=amount,
                                                   idempotency_key=f"call-charges#{customer}#{day}")
            except (InsufficientFundsError, NotFoundError) as error:
                # Nothing written: the next close of the day (or a late file) tries again.
                _log.warning("call charges of customer %s on %s not posted: %s", customer, day, error.message)
                return f"refused: {error.message}"

        # One ledger transaction per customer, one after the other: moto (the
        # in-process tests) breaks on concurrent transactions (DESIGN.md).
        for entry in sorted(costs.items()):
            charged[str(entry[0])] = str(post(entry))
        store.set_day_fields(tenant, day, {"closed": True, "calls": calls,
                                           "exportsInbound": sorted(set(exported["inbound"])),
                                           "exportsOutbound": sorted(set(exported["outbound"]))})
    return {"day": day, "calls": calls, "keys": len(items), "stats_written": written, "unrated": unrated,
            "duplicates": sum(duplicates_by_file.values()), "duplicates_by_file": dict(duplicates_by_file),
            "costs": {str(c): str(v) for c, v in sorted(costs.items())}, "posted": charged, "closed": closing}


def _keys(cdr: rules.Cdr, customer: int, trunks: dict[str, cdr_ports.Owner]) -> list[tuple[str, str]]:
    """The figures a call counts in: its termination trunk; or its DID and,
    when the trunk it came in on is the same customer's, that trunk group.
    (Every key is then one customer's, so it lives in one shard.)"""
    if cdr.direction == "outbound":
        return [("TERM", cdr.trunk_id)]
    keys = [("DID", cdr_ports.normalise_number(cdr.dst))]
    trunk = trunks.get(cdr.trunk_id) if cdr.trunk_id else None
    if trunk is not None and trunk.customer_id == customer:
        keys.append(("TG", cdr.trunk_id))
    return keys


def _cost(cdr: rules.Cdr, customer: int, numbers: dict[str, cdr_ports.Owner],
          decks: _Decks) -> tuple[Decimal, bool]:
    """(cost, whether a rate applied). Unanswered and Unmetered calls cost nothing."""
    if not cdr.answered:
        return Decimal(0), True
    if cdr.direction == "inbound":
        owner = numbers.get(cdr_ports.normalise_number(cdr.dst))
        if owner is not None and not owner.metered:
            return Decimal(0), True
    deck = decks.deck(cdr.direction, customer)
    rate = deck.match(cdr.dst) if deck else None
    if rate is None:
        return Decimal(0), False
    return rules.call_cost(rate, cdr.billsec), True


def _write_changed(tenant: str, items: list[dict[str, Any]]) -> int:
    """Put the day items whose figures changed (a refresh after one more file
    rewrites only the numbers that file touched)."""
    stored = store.existing_stats(tenant, [(i["kind"], i["id"], i["day"]) for i in items])
    fields = ("processed", "completed", "billsec", "peak", "customerId")
    changed = [i for i in items
               if (old := stored.get((i["kind"], i["id"], i["day"]))) is None
               or any(int(old.get(f, -1)) != int(i[f]) for f in fields)]
    return store.put_many(changed)


def _write_exports(tenant: str, day: str, exports: dict[tuple[int, str, str], list[list[str]]],
                   exported: dict[str, list[int]]) -> None:
    # Both files for every customer with calls of a direction, so each day
    # offers a success and a failed file (possibly header only).
    customers = sorted({(c, d) for c, d, _ in exports})
    files = []
    for customer, direction in customers:
        for outcome in ("success", "failed"):
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(EXPORT_HEADER)
            writer.writerows(sorted(exports.get((customer, direction, outcome), []), key=lambda r: (r[6], r[0])))
            files.append((export_key(day, customer, direction, outcome), out.getvalue().encode("utf-8")))
        exported[direction].append(customer)
    # One object per customer, direction and outcome: S3 round trips overlap.
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        list(pool.map(lambda f: blobs.put(tenant, f[0], f[1], content_type="text/csv"), files))


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

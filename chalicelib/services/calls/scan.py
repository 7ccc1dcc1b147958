"""Scan and split: a local plain CDR file validated by the engine
(services/calls/engine/) with every row's owner joined, and cut into local
Parquet part files per (day, shard). Files whose lines are not rows (blank
lines, quoted line breaks) and Asterisk files take the slow path: Python's csv
reader numbers the rows first. Memory stays flat with the file: the engine
reads pieces of about SCAN_CHUNK_BYTES."""
from __future__ import annotations

import csv
import os
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from chalicelib.domain.calls import cdrs as rules
from chalicelib.services.calls import engine
from chalicelib.services.calls.owners import Owners
from chalicelib.services.calls.plain import Plain
from chalicelib.services.calls.shared import MAX_REPORTED_ERRORS, timed

SHARDS = 16
# The fast scan reads a plain file in pieces of this size (memory flat with the file).
SCAN_CHUNK_BYTES = int(os.environ.get("CDR_SCAN_CHUNK_BYTES", str(16 * 1024 * 1024)))


def shard(customer_id: int) -> int:
    # Whole customers per shard: a call's number, trunk and charges are all its
    # owner's, so duplicates and peaks never cross shards.
    return zlib.crc32(str(customer_id).encode()) % SHARDS


@dataclass
class Tally:
    rows: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, where: dict[str, Any], reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({**where, "reason": reason})


def file_lines(line: int) -> dict[str, Any]:
    return {"line": line}


def range_lines(line: int) -> dict[str, Any]:
    # A byte range of a file reports the line within its range (its header is an added line 1).
    return {"part_line": line - 1}


def piece_lines(line: int, *, first_line: int) -> dict[str, Any]:
    # A restaged piece's line 2 (its first row) is the original file's ``first_line``.
    return {"line": line + first_line - 2}


def scan_plain(owners: Owners, plain: Plain, scratch: str, tally: Tally, *,
                where: Callable[[int], dict[str, Any]] = file_lines) -> dict[tuple[str, int], list[str]]:
    """Validate and split a local plain file with the engine; returns the
    local part files per (day, shard). ``where`` says how a line of the local
    file is reported (the file's line, or a range's ``part_line``)."""
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
    with timed("compute.scan"):
        con = engine.connect(scratch)
        try:
            engine.load_owners(con, scratch, owners.numbers, owners.trunks, shard)
            result = None
            if kind == "dialtone":
                result = _scan_chunks(con, engine, plain, scratch)
                if not result.regular and result.rejected:
                    result = None  # lines are not rows (blank lines, quoted line breaks): number them in Python
            if result is None:
                early = Tally()
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


def _with_lines(source: str, scratch: str, kind: str, early: Tally) -> list[str]:
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


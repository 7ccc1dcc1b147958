"""A day's figures, and its close (docs/cdrs.md, "Storage: parts in S3,
aggregates in DynamoDB, dedup" and "Daily close and near-real-time").

``refresh_day``: the day's part objects, a group of shards at a time (a shard
holds whole customers, so memory is bounded by the group, not the file): call
ids seen before dropped (first ingested wins), rated, and the figures stored packed per
customer, kind and day (store/call_stats.py: only the items that changed). A closed day also gets its
export files (services/calls/exports.py) and its charges
(services/calls/charges.py: the difference only).
``daily_close``: refresh with final=True; the scheduled job
(``close_yesterday``) runs it for yesterday, ``run-job daily-close`` by hand.
Running it again changes nothing.
"""
from __future__ import annotations

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.domain.errors import ValidationError
from chalicelib.services.calls import charges, engine, exports, rates
from chalicelib.services.calls.owners import Owners, read_owners
from chalicelib.services.calls.scan import shard
from chalicelib.services.calls.shared import require_tenant, timed
from chalicelib.store import call_stats
from chalicelib.store import calls as store
from chalicelib.store.identity import users as identity

PART_NAME = re.compile(r"^(?P<stamp>[^-]+)-(?P<file>.+)-(?P<part>\d+)(?:\.\d+)?\.parquet$")


@dataclass
class Known:
    """What an ingest already holds when it refreshes its days: the owners it
    scanned with and the part objects it wrote (tenant-relative key -> the
    local file), which the refresh reads where they are instead of from S3."""
    owners: Owners
    local_parts: dict[str, str]


def refresh_day(*, tenant: str, day: str, final: bool = False, known: Known | None = None) -> dict[str, Any]:
    """Compute a day's figures from its part objects and store them. Re-runs
    while files kept landing for the day during the computation. ``known``:
    owners and local copies of parts an ingest already has."""
    for _ in range(5):
        before = (store.get_day(tenant, day) or {}).get("generation", 0)
        result = _compute_day(tenant, day, final=final, known=known)
        if (store.get_day(tenant, day) or {}).get("generation", 0) == before:
            return result
    return result


def _compute_day(tenant: str, day: str, *, final: bool, known: Known | None) -> dict[str, Any]:
    record = store.get_day(tenant, day) or {}
    closing = final or bool(record.get("closed"))
    with tempfile.TemporaryDirectory(prefix="cdr-day-") as scratch:
        with timed("s3.parts_down"):
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
            decks = rates.decks(tenant)
        owners = known.owners if known else read_owners(tenant=tenant)
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
                with timed("compute.day"):
                    engine.load_owners(con, scratch, owners.numbers, owners.trunks, shard)
                    engine.load_decks(con, scratch, decks)
                    engine.load_table(con, scratch, "deck_choice", {"customer": "BIGINT", "direction": "VARCHAR",
                                                                    "deck": "VARCHAR"},
                                      ((int(d.owner), d.direction, d.owner) for d in decks if d.owner != "TENANT"))
                    groups = engine.shard_groups(parts)
                for n, group in enumerate(groups):
                    if len(waiting) >= 2:
                        waiting.pop(0).result()
                    piece = engine.DayResult()
                    with timed("compute.day"):
                        engine.compute_group(con, scratch, group, piece, figures=figures, rating=closing,
                                             export_dir=os.path.join(export_dir, str(n)) if closing else None)
                    result.merge(piece)
                    waiting.append(writer.submit(stored.store, n, sorted({p[0] for p in group}), piece))
            finally:
                con.close()
            for future in waiting:
                future.result()
        if stored.figures:
            with timed("dynamodb.stats"):
                stored.figures.finish()
        items = len(result.figures)
        day_fields: dict[str, Any] = {"figuresBasis": basis, "figuresKeys": items} if figures else {}
        if closing:
            day_fields.update({
                "closed": True, "calls": result.calls,
                "exportsInbound": sorted({c for c, d, *_ in result.exports if d == "inbound"}),
                "exportsOutbound": sorted({c for c, d, *_ in result.exports if d == "outbound"}),
                **stored.exports.day_fields()})
        if day_fields:  # one update of the day record, after everything it describes is stored
            store.set_day_fields(tenant, day, day_fields)
        if closing:
            exports.forget_packed(tenant, day, record.get("exportsPacked"))
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
        self.closing = closing
        self.figures: call_stats.DayFigures | None = None
        if figures:
            with timed("dynamodb.stats"):
                self.figures = call_stats.DayFigures(tenant, day, compare=compare)
        self.exports = exports.DayExports(tenant, day)
        self.charged: dict[str, str] = {}

    @property
    def written(self) -> int:
        return self.figures.written if self.figures else 0

    def store(self, group: int, shards: list[int], piece: Any) -> None:
        if self.figures:
            with timed("dynamodb.stats"):
                self.figures.put(piece.figures)
        if self.closing:
            self.exports.store(group, shards, piece.export_path, piece.exports)
            with timed("dynamodb.charges"):
                self.charged.update(charges.post_day_charges(self.tenant, self.day, piece.costs))



def daily_close(*, tenant: str, day: str) -> dict[str, Any]:
    """Make a day final: figures, export files and charges. Idempotent."""
    require_tenant(tenant)
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

"""The one clock. Every wall-clock reading in chalicelib goes through here, so
a test sets the time (``frozen``) instead of patching some module's helper.

Durations are not wall-clock readings: they keep ``time.monotonic()``. Stamps
for another system's clock read the real time through ``wall_ms()``.

The override is a single module-level value read by ``now()``: every thread of
the process sees it (the threaded local API server, the concurrency tests'
workers), and assigning or reading one reference is atomic in CPython.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Iterator, Union

# The stored form of a moment (createdAt, ledger entries, audit records):
# fixed width with microseconds, so that stored strings sort in time order.
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

Moment = Union[datetime, str]

_fixed: datetime | None = None


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    fixed = _fixed
    return fixed if fixed is not None else datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """``moment`` in the stored form (``2025-01-15T10:00:00.000000Z``)."""
    return moment.astimezone(timezone.utc).strftime(ISO_FORMAT)


def now_iso() -> str:
    return iso(now())


def today() -> date:
    """Today's date in UTC (Lambda's zone; days in Dialtone are UTC days)."""
    return now().date()


def epoch() -> int:
    """Whole seconds since 1970: expiry times and DynamoDB TTL attributes."""
    return int(now().timestamp())


def wall_ms() -> int:
    """Milliseconds since 1970 by the machine's clock, never the frozen one:
    for stamps another system checks against its own clock (CloudWatch drops
    metric points stamped more than two weeks back; tests freeze in the past)."""
    return int(time.time() * 1000)


def set_now(moment: Moment | None) -> None:
    """Stop the clock at ``moment`` (a datetime, naive ones taken as UTC, or an
    ISO string); ``None`` lets it run again. For fixtures; tests use ``frozen``."""
    global _fixed
    _fixed = None if moment is None else _as_utc(moment)


@contextmanager
def frozen(moment: Moment) -> Iterator[datetime]:
    """The clock stands at ``moment`` inside the block, then reads what it read before."""
    previous = _fixed
    set_now(moment)
    try:
        yield now()
    finally:
        set_now(previous)


def _as_utc(moment: Moment) -> datetime:
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)

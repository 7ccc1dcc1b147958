"""What the CDR pipeline's modules share: the tenant check every entry point
makes, the bound on reported row errors, file stamps, and the seconds spent
per kind of work (the bench prints them)."""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

from chalicelib import clock
from chalicelib.domain.errors import NotFoundError
from chalicelib.store.identity import users as identity

MAX_REPORTED_ERRORS = 100

# Seconds spent per kind of work in this process (the bench prints them).
TIMINGS: dict[str, float] = defaultdict(float)
_TIMINGS_LOCK = threading.Lock()


class timed:
    """``with timed("s3.parts_up"):`` adds the block's seconds to TIMINGS."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.began = time.perf_counter()

    def __exit__(self, *_: Any) -> None:
        with _TIMINGS_LOCK:  # a day's groups are stored from a second thread
            TIMINGS[self.name] += time.perf_counter() - self.began


def require_tenant(tenant: str) -> None:
    if not tenant or identity.get_tenant(tenant) is None:
        raise NotFoundError(f"tenant '{tenant}' does not exist", field="tenant")


def stamp() -> str:
    """A file's ingest time as its part objects are named (they sort by it)."""
    return clock.now().strftime("%Y%m%dT%H%M%S%fZ")

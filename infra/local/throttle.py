"""The rate limits of infra/rate_limits.py, counted in the local API server's
memory: fixed windows of WINDOW_SECONDS per limit and key (an address, or a
credential as it travels), as the deployed WAF counts them per window.

``admit`` is asked before a request reaches the app and says which limit it
is over, if any; ``answered`` counts the answers a limit counts only when
they fail (401). The server is threaded: one lock guards the counters.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Callable, Mapping
from urllib.parse import parse_qs, urlsplit

from infra.rate_limits import ADDRESS, WINDOW_SECONDS, Limit

_MAX_COUNTERS = 100_000


@dataclass(frozen=True)
class Over:
    """The limit a request is over and the seconds until its window ends."""

    limit: Limit
    reset_seconds: int


def key_of(limit: Limit, headers: Mapping[str, str], query: str, source_ip: str | None) -> str | None:
    """The value ``limit`` counts this request under; None when the request
    does not carry it (WAF does not rate-limit a request without its key either)."""
    if limit.key == ADDRESS:
        return source_ip or "-"
    kind, _, name = limit.key.partition(":")
    if kind == "header":
        return _header(headers, name)
    if kind == "query":
        values = parse_qs(query, keep_blank_values=False).get(name)
        return values[0] if values else None
    if kind == "cookie":
        cookie = SimpleCookie()
        try:
            cookie.load(_header(headers, "cookie") or "")
        except CookieError:
            return None
        morsel = cookie.get(name)
        return morsel.value if morsel is not None and morsel.value else None
    raise ValueError(f"unknown rate-limit key {limit.key}")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value or None
    return None


class Throttle:
    def __init__(self, limits: tuple[Limit, ...], *, now: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.now = now
        self._counts: dict[tuple[str, str, int], int] = {}
        self._window = 0  # the window the counters are of: older ones are dropped when it moves on
        self._lock = threading.Lock()

    def _current(self) -> tuple[int, int]:
        now = self.now()
        window = int(now // WINDOW_SECONDS)
        return window, int((window + 1) * WINDOW_SECONDS - now + 0.999)

    def admit(self, method: str, target: str, headers: Mapping[str, str], source_ip: str | None) -> Over | None:
        """Counts the request against every limit that counts it; the first
        limit it is over (the request is then not handed to the app)."""
        path, query = _split(target)
        window, reset = self._current()
        over: Over | None = None
        with self._lock:
            self._forget_before(window)
            for limit in self.limits:
                if not limit.counts(method, path):
                    continue
                key = key_of(limit, headers, query, source_ip)
                if key is None:
                    continue
                slot = (limit.name, key, window)
                count = self._counts.get(slot, 0) + 1
                self._counts[slot] = count
                if count > limit.limit and over is None:
                    over = Over(limit, reset)
        return over

    def _forget_before(self, window: int) -> None:
        if len(self._counts) > _MAX_COUNTERS:  # a flood of made-up credentials: forget rather than grow
            self._counts.clear()
        if window != self._window:
            self._counts = {slot: count for slot, count in self._counts.items() if slot[2] >= window}
            self._window = window


def _split(target: str) -> tuple[str, str]:
    parts = urlsplit(target)
    return parts.path, parts.query

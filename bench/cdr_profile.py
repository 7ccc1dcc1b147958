"""Where the CDR pipeline's compute seconds go (bench_cdrs's worker).

``install()`` wraps, in the worker process only, the engine's steps
(services/calls/engine: loading owners and decks, each group's part table,
dedup ``_unique_calls``, rating ``_rate``, figures ``_figures``, export files
``_exports``, the whole ``compute_group``) with timers, and its DuckDB
connections with a proxy that times every statement under the step that
ran it. So each step splits into its SQL statements and its Python (the
step's time outside DuckDB: building rows, cutting the export CSV into
files). Steps the engine no longer has are skipped. The timers cost
microseconds per call against steps of milliseconds.
"""
from __future__ import annotations

import functools
import re
import threading
import time
from collections import defaultdict
from typing import Any, Callable

STEPS = ("load_owners", "load_decks", "load_table", "_unique_calls", "_rate", "_figures", "_exports",
         "compute_group", "scan_csv")
SECONDS: dict[str, float] = defaultdict(float)
SQL: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)
NESTED: dict[str, float] = defaultdict(float)  # a step's seconds in the steps it called
_current = threading.local()


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        outer = getattr(_current, "step", None)
        _current.step = name
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            took = time.perf_counter() - began
            SECONDS[name] += took
            CALLS[name] += 1
            if outer is not None and outer != name:
                NESTED[outer] += took
            _current.step = outer
    return run


class _Connection:
    """A DuckDB connection whose statements are timed under the running step."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def execute(self, query: str, *args: Any) -> Any:
        label = re.sub(r"\s+", " ", query.strip())[:60]
        label = re.sub(r"'[^']*'", "'…'", label)
        began = time.perf_counter()
        try:
            return self._con.execute(query, *args)
        finally:
            SQL[f"{getattr(_current, 'step', None) or 'other'}: {label}"] += time.perf_counter() - began

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def install() -> None:
    from chalicelib.services.calls import engine
    from chalicelib.services.calls.engine import day, validate

    modules = (engine, day, validate)
    for module in modules:
        for name in STEPS:
            if hasattr(module, name) and not hasattr(getattr(module, name), "__wrapped__"):
                setattr(module, name, _timed(name, getattr(module, name)))
    connect = engine.connect
    engine.connect = lambda *a, **k: _Connection(connect(*a, **k))  # type: ignore[assignment]


def report() -> dict[str, Any]:
    """Seconds per step (steps nest: compute_group holds the group's others),
    each step's own time outside DuckDB and the steps it called (Python),
    and the slowest statements."""
    inside: dict[str, float] = defaultdict(float)
    for label, seconds in SQL.items():
        inside[label.split(":", 1)[0]] += seconds
    steps = {name: {"s": round(seconds, 3), "calls": CALLS[name], "duckdb_s": round(inside.get(name, 0.0), 3),
                    "python_s": round(seconds - inside.get(name, 0.0) - NESTED.get(name, 0.0), 3)}
             for name, seconds in sorted(SECONDS.items(), key=lambda kv: -kv[1])}
    statements = {k: round(v, 3) for k, v in sorted(SQL.items(), key=lambda kv: -kv[1])[:15]}
    return {"steps": steps, "slowest_statements": statements}


"""`make bench`: start one local runtime, run every benchmark module against
it, print one table (figure, value, target, PASS/MISS) and write the run as
one JSON line to .bench/<UTC time>.json and .bench/latest.json, so two runs
can be compared (`python -m bench.compare OLD NEW`). Exit status 0 even when
a target is missed: benchmarks report, tests assert.

    python -m bench.run [--smoke] [--out DIR] [module ...]

``--smoke``: every module with tiny sizes (seconds, not minutes): the
figures mean nothing, the run proves the bench still works
(tests/integration/runtime/test_bench_smoke.py)."""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("bench.platform", "bench.bench_backend", "bench.bench_money", "bench.bench_numbers",
           "bench.bench_cdrs", "bench.bench_tracking", "bench.bench_voice", "bench.bench_portal")
OUT_DIR = ROOT / ".bench"


@contextlib.contextmanager
def smoke_sizes(module: Any, enabled: bool) -> Iterator[None]:
    """A module's ``SMOKE`` overrides (name -> tiny value) applied while it runs."""
    overrides: dict[str, Any] = getattr(module, "SMOKE", {}) if enabled else {}
    saved = {name: getattr(module, name) for name in overrides}
    for name, value in overrides.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def run_modules(runtime: Any, modules: Sequence[str], *, smoke: bool = False) -> list[dict[str, Any]]:
    """Every module's figures, each tagged with its module and its seconds.
    With ``smoke``, every module's SMOKE sizes hold for the whole run (some
    modules time with another's helpers, e.g. bench.platform.rate)."""
    results: list[dict[str, Any]] = []
    with contextlib.ExitStack() as sizes:
        for name in dict.fromkeys((*MODULES, "bench.cost", *modules)) if smoke else ():
            sizes.enter_context(smoke_sizes(importlib.import_module(name), True))
        for name in modules:
            module = importlib.import_module(name)
            began = time.perf_counter()
            figures = module.run(runtime)
            took = round(time.perf_counter() - began, 1)
            results.extend({"module": name, **r, "module_seconds": took} for r in figures)
    return results


def table(results: Sequence[dict[str, Any]]) -> str:
    """One line per figure: verdict, name, value, target; details below, indented."""
    width = max((len(r["name"]) for r in results), default=10)
    lines = [f"{'':4} {'figure':<{width}}  {'value':>12}  target"]
    for r in results:
        verdict = "PASS" if r["ok"] else "MISS"
        lines.append(f"{verdict} {r['name']:<{width}}  {format_value(r['value']):>12}  {r['target']}")
    return "\n".join(lines)


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10, check=False)
        return done.stdout.strip()
    except OSError:
        return ""


def write_run(results: list[dict[str, Any]], out_dir: Path, *, smoke: bool) -> Path:
    """The run as one JSON line in out_dir/<UTC time>.json, copied to out_dir/latest.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    line = json.dumps({"at": stamp, "commit": _commit(), "smoke": smoke, "machine": platform.node(),
                       "cpus": os.cpu_count(), "results": results})
    path = out_dir / f"{stamp}{'-smoke' if smoke else ''}.json"
    path.write_text(line + "\n")
    (out_dir / ("latest-smoke.json" if smoke else "latest.json")).write_text(line + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves the bench runs, figures mean nothing")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the run's JSON goes (default .bench/)")
    parser.add_argument("modules", nargs="*", help=f"default: all of {', '.join(MODULES)}")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from tests.support.harness.runtime import LocalRuntime

    with LocalRuntime() as runtime:
        results = run_modules(runtime, args.modules or MODULES, smoke=args.smoke)
    print(table(results))
    path = write_run(results, args.out, smoke=args.smoke)
    print(f"\nwritten to {path} (details per figure there; compare two runs: python -m bench.compare OLD NEW)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

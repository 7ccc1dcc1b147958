"""`make bench`: start one local runtime, run every benchmark module against
it, print a table and one JSON line. Exit status 0 even when a target is
missed: benchmarks report, tests assert."""
from __future__ import annotations

import importlib
import json
import sys
from typing import Any

MODULES = ("bench.platform", "bench.bench_backend", "bench.bench_money", "bench.bench_numbers",
           "bench.bench_cdrs", "bench.bench_tracking", "bench.bench_voice", "bench.bench_portal")


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.run [module ...]``: every module of MODULES, or only those named."""
    from tests.support.runtime import LocalRuntime

    modules = tuple(argv if argv is not None else sys.argv[1:]) or MODULES
    results: list[dict[str, Any]] = []
    with LocalRuntime() as runtime:
        for name in modules:
            module = importlib.import_module(name)
            results.extend({"module": name, **r} for r in module.run(runtime))
    width = max(len(r["name"]) for r in results)
    for r in results:
        mark = "ok  " if r["ok"] else "MISS"
        print(f"{mark} {r['name']:<{width}}  {r['value']!s:>10}  target {r['target']}  {json.dumps(r.get('detail', {}))}")
    print(json.dumps({"results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench` must not break unnoticed: every bench module runs with tiny
sizes (its SMOKE overrides) against the session's local runtime and reports
well-formed figures. The figures themselves mean nothing at these sizes:
speed belongs to `make bench`, not to tests."""
from __future__ import annotations

import json
from pathlib import Path

from bench import compare, run


def test_every_bench_module_runs_and_reports(runtime, tmp_path: Path) -> None:
    results = run.run_modules(runtime, run.MODULES, smoke=True)

    assert {r["module"] for r in results} == set(run.MODULES)
    for result in results:
        assert {"name", "value", "target", "ok", "detail"} <= set(result), result
        json.dumps(result)  # a run is written as one JSON line
    names = [r["name"] for r in results]
    assert len(names) == len(set(names)), "figures are matched by name across runs"
    cdr = {r["name"]: r for r in results if r["module"] == "bench.bench_cdrs"}
    # The DuckDB baseline does the pipeline's work: same figures and costs.
    assert cdr["cdr compute: DuckDB script (same work, 1 thread) / pipeline compute"]["detail"]["same_results"]
    assert any(r["name"].startswith("AWS cost per million API calls") for r in results)

    written = run.write_run(results, tmp_path, smoke=True)
    table = compare.compare(compare.load(str(written)), compare.load(str(tmp_path / "latest-smoke.json")))
    assert all(name in table for name in names)

"""The bench's report: the table, the run file and the comparison of two runs."""
from __future__ import annotations

import json
from pathlib import Path

from bench import compare, cost, run


def _result(name: str, value: float, ok: bool) -> dict[str, object]:
    return {"module": "bench.x", "name": name, "value": value, "target": ">= 0.5", "ok": ok, "detail": {}}


def test_table_gives_each_figure_its_verdict() -> None:
    text = run.table([_result("fast", 0.9, True), _result("slow", 0.2, False)])

    lines = text.splitlines()
    assert lines[1].startswith("PASS fast") and lines[1].endswith(">= 0.5")
    assert lines[2].startswith("MISS slow")


def test_a_run_is_one_json_line_in_a_stamped_file_and_latest(tmp_path: Path) -> None:
    path = run.write_run([_result("fast", 0.9, True)], tmp_path, smoke=False)

    assert path.parent == tmp_path and path.name.endswith("Z.json")
    assert path.read_text() == (tmp_path / "latest.json").read_text()
    assert json.loads(path.read_text())["results"][0]["name"] == "fast"


def test_compare_shows_both_values_and_the_delta(tmp_path: Path) -> None:
    old = run.write_run([_result("fast", 0.5, True), _result("gone", 1, True)], tmp_path / "a", smoke=False)
    new = run.write_run([_result("fast", 0.75, True), _result("added", 2, False)], tmp_path / "b", smoke=False)

    text = compare.compare(compare.load(str(old)), compare.load(str(new)))

    fast = next(line for line in text.splitlines() if line.startswith("fast"))
    assert "0.5" in fast and "0.75" in fast and "+0.25 (+50%)" in fast and "PASS/PASS" in fast
    assert any(line.startswith("gone") and "gone" in line[5:] for line in text.splitlines())
    assert any(line.startswith("added") and " new " in line for line in text.splitlines())


def test_smoke_sizes_apply_while_running_and_are_restored() -> None:
    class Module:
        ROWS = 1000
        SMOKE = {"ROWS": 2}

    with run.smoke_sizes(Module, True):
        assert Module.ROWS == 2
    assert Module.ROWS == 1000


def test_cost_of_a_call_adds_up_the_list_prices() -> None:
    usage = {"requests": {"dynamodb.GetItem": 2, "s3.PutObject": 1, "s3.GetObject": 1, "s3.DeleteObject": 1},
             "read_units": 1.0, "write_units": 2.0}

    figure = cost.api_call_figure("billing API", "GET", usage=usage, ms=9.2, memory_mb=1024)

    lines = figure["detail"]["per_million"]
    # Lambda bills 10 ms at 1 GB: 0.01 GB-s per call.
    assert abs(lines["lambda_compute"] - 0.01 * 0.0000166667 * 1e6) < 1e-3
    assert lines["api_gateway"] == 3.5 and lines["lambda_requests"] == 0.2
    assert lines["dynamodb_reads"] == 0.125 and lines["dynamodb_writes"] == 1.25
    assert lines["s3_put_list"] == 5.0 and lines["s3_get_head"] == 0.4  # DELETE is free
    assert abs(figure["value"] - sum(v for k, v in lines.items() if k != "total")) < 1e-3

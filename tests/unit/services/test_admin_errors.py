"""Every refusal of the admin CLI is one JSON object on stdout and a non-zero
exit, never a traceback: missing or relative files, bad flags, unknown stage,
a job without the tenant it needs."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from chalicelib.admin import cli
from tests.support.harness.stage import ROOT


def run(*argv: str) -> tuple[int, dict]:
    out = io.StringIO()
    with redirect_stdout(out):
        try:
            status = cli.main(["--stage", "test", *argv])
        except SystemExit as exit_:
            status = int(exit_.code or 0)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, out.getvalue()
    return status, json.loads(lines[0])


@pytest.mark.parametrize("command", ["import-numbers", "import-portability", "import-cdrs"])
def test_a_missing_file_is_one_json_error(tenant, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out = run(command, "--tenant", tenant["tenant"]["id"], "no-such-file.csv")
    assert status == 1 and "No such file" in out["error"] and str(tmp_path / "no-such-file.csv") in out["error"]


def test_a_relative_path_is_read_from_the_callers_directory(tenant, tmp_path, monkeypatch):
    (tmp_path / "numbers.csv").write_text("number,category,state,rate_center,city,monthly_price,setup_price\n"
                                          "2065550100,DID,WA,SEATTLE,Seattle,1.00,0.00\n")
    monkeypatch.chdir(tmp_path)
    status, out = run("import-numbers", "--tenant", tenant["tenant"]["id"], "--quiet", "numbers.csv")
    assert status == 0, out


def test_bad_flags_and_missing_job_arguments_are_json(tenant):
    status, out = run("run-job", "daily-close", "--tenant", tenant["tenant"]["id"])
    assert status == 1 and "needs --tenant and --date" in out["error"]
    status, out = run("create-user", "--username")
    assert status == 2 and "usage" in out and "--username" in out["error"]
    status, out = run("no-such-command")
    assert status == 2 and "invalid choice" in out["error"]


def test_an_unknown_stage_is_json_in_a_real_process():
    done = subprocess.run([sys.executable, "-m", "chalicelib.admin", "--stage", "moon", "list-tenants"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "unknown stage 'moon'" in json.loads(done.stdout)["error"]


def test_a_file_that_is_not_utf8_is_one_json_error(tenant, tmp_path):
    (tmp_path / "numbers.csv").write_bytes("number,category,state,rate_center,city,monthly_price,setup_price\n"
                                           "2065550100,DID,WA,SÉATTLE,Seattle,1.00,0.00\n".encode("latin-1"))
    status, out = run("import-numbers", "--tenant", tenant["tenant"]["id"], str(tmp_path / "numbers.csv"))
    assert status == 1 and "not UTF-8" in out["error"] and "numbers.csv" in out["error"]


def _closed_port() -> int:
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]


@pytest.mark.parametrize("debug", [False, True])
def test_a_stopped_local_runtime_is_one_json_error_the_traceback_only_with_debug(debug):
    url = f"http://127.0.0.1:{_closed_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL_DYNAMODB": url, "AWS_ENDPOINT_URL": url,
           "AWS_CALL_TIMEOUTS": "0.5,0.5"}
    done = subprocess.run([sys.executable, "-m", "chalicelib.admin", *(["--debug"] if debug else []),
                           "list-tenants"], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    error = json.loads(done.stdout)["error"]
    assert url in error and "make run" in error
    assert ("Traceback" in done.stderr) is debug, done.stderr

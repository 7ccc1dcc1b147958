"""Issue 2's figures: cold start, in-process throughput, local HTTP throughput.

Every figure is a ratio against a baseline measured in the same run on the
same DynamoDB Local, so the machine's speed cancels out:
- cold import + first request of app.py vs a bare Chalice app that imports
  boto3 and creates a DynamoDB client (target <= 1.3);
- in-process GET /customers/{id} vs a bare route doing the same GetItem (>= 0.7);
- the local runtime over a kept-alive HTTP connection vs in-process (>= 0.3).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Callable

from bench import cost
from bench.events import LambdaContext, api_event

ROOT = Path(__file__).resolve().parents[1]
COLD_RUNS = 7
THROUGHPUT_SECONDS = 3.0
ROUNDS = 3  # interleaved rounds of each throughput figure
# `python -m bench.run --smoke`: proves the module runs, in seconds.
WARM_UP = True  # one untimed cold start of each app first (OS file cache, __pycache__)
SMOKE = {"COLD_RUNS": 1, "THROUGHPUT_SECONDS": 0.1, "ROUNDS": 1, "WARM_UP": False}

BARE_APP = textwrap.dedent('''
    import os
    import boto3
    from chalice import Chalice

    app = Chalice(app_name="bare")
    ddb = boto3.client("dynamodb")
    TABLE = os.environ["MAIN_TABLE"]

    @app.route("/customers/{customer_id}")
    def get_customer(customer_id):
        pk = "T#" + app.current_request.headers["x-tenant"] + "#CUSTOMER"
        item = ddb.get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": customer_id.zfill(12)}})["Item"]
        return {"id": int(customer_id), "customerName": item["name"]["S"]}
''')

COLD_SCRIPT = textwrap.dedent('''
    import json, sys, time
    started = time.perf_counter()
    sys.path.insert(0, {path!r})
    import {module} as module
    from bench.events import LambdaContext
    answer = module.app({event}, LambdaContext())
    elapsed = time.perf_counter() - started
    assert answer["statusCode"] == 200, answer
    sys.stderr.write(json.dumps({{"seconds": elapsed}}) + "\\n")
''')


def production_like(env: dict[str, str]) -> dict[str, str]:
    """The runtime's endpoints with a deployed stage's settings."""
    # A deployed stage reads its TOTP sealing key from SSM; the bench stage is given one.
    return {**env, "AUTH_CACHE_SECONDS": "5", "AUDIT_SINK": "log", "DIALTONE_STAGE": "bench",
            "TOTP_SEALING_KEY": "bench-only-totp-sealing-key"}


def seed_customer(env: dict[str, str]) -> tuple[str, str, int]:
    """A tenant, its key and one customer on the runtime's DynamoDB."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from chalicelib.auth import api_key
        from chalicelib.services.customers import accounts as customers
        from chalicelib.services.identity import users

        tenant = users.create_tenant(name="Bench")
        principal = api_key.authenticate(tenant["user"]["api_key"], None)
        customer = customers.create_customer(principal=principal, fields={"name": "Bench Customer"})
        return tenant["tenant"]["id"], tenant["user"]["api_key"], customer["id"]
    finally:
        os.environ.clear()
        os.environ.update(saved)


def dialtone_event(key: str, customer_id: int, tenant: str) -> dict[str, Any]:
    return api_event("GET", "/backend/api/v1/customers/{customer_id}", f"/backend/api/v1/customers/{customer_id}",
                     {"customer_id": str(customer_id)}, {"authorization": f"Bearer {key}", "x-tenant": tenant})


def bare_event(customer_id: int, tenant: str) -> dict[str, Any]:
    return api_event("GET", "/customers/{customer_id}", f"/customers/{customer_id}",
                     {"customer_id": str(customer_id)}, {"x-tenant": tenant})


def cold_start(env: dict[str, str], module_dir: Path, module: str, event: dict[str, Any], *,
               write_bytecode: bool = False) -> float:
    """Seconds to import ``module`` and answer ``event`` in a fresh interpreter.
    ``write_bytecode``: let that interpreter write __pycache__ even when this
    one runs with PYTHONDONTWRITEBYTECODE (the warm-up run: the deployment
    package ships .pyc, so the timed runs must find them, for both apps)."""
    script = COLD_SCRIPT.format(path=str(module_dir), module=module, event=repr(event))
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    if write_bytecode:
        child_env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run([sys.executable, "-c", script], env=child_env,
                          cwd=str(module_dir), capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {module} failed: {done.stderr[-2000:]}")
    return json.loads(done.stderr.strip().splitlines()[-1])["seconds"]


def rate(call: Callable[[], Any], seconds: float | None = None) -> float:
    """Calls per second over ``seconds`` (THROUGHPUT_SECONDS) after a short warm-up."""
    seconds = THROUGHPUT_SECONDS if seconds is None else seconds
    for _ in range(20):
        call()
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        call()
        count += 1
    return count / (time.perf_counter() - started)


def load_module(path: Path, name: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    assert spec and spec.loader
    spec.loader.exec_module(module)
    return module


def run(runtime: Any) -> list[dict[str, Any]]:
    env = production_like(runtime.env)
    tenant, key, customer_id = seed_customer(env)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        bare_dir = Path(scratch)
        (bare_dir / "bare_app.py").write_text(BARE_APP)
        ours_event, baseline_event = dialtone_event(key, customer_id, tenant), bare_event(customer_id, tenant)
        # Warm the OS file cache and write __pycache__ (a package ships .pyc).
        if WARM_UP:
            cold_start(env, ROOT, "app", ours_event, write_bytecode=True)
            cold_start(env, bare_dir, "bare_app", baseline_event, write_bytecode=True)
        ours, bare = [], []
        for _ in range(COLD_RUNS):  # interleaved, so drift hits both alike
            ours.append(cold_start(env, ROOT, "app", ours_event))
            bare.append(cold_start(env, bare_dir, "bare_app", baseline_event))
        ratio = statistics.median(ours) / statistics.median(bare)
        results.append({"name": "cold import + first request, app.py / bare Chalice+boto3",
                        "value": round(ratio, 3), "target": "<= 1.3", "ok": ratio <= 1.3,
                        "detail": {"app_ms": round(statistics.median(ours) * 1000, 1),
                                   "bare_ms": round(statistics.median(bare) * 1000, 1),
                                   "app_range_ms": [round(min(ours) * 1000), round(max(ours) * 1000)],
                                   "bare_range_ms": [round(min(bare) * 1000), round(max(bare) * 1000)],
                                   "bytecode": any((ROOT / "chalicelib" / "__pycache__").glob("*.pyc"))}})

        saved = dict(os.environ)
        os.environ.update(env)
        try:
            import app as dialtone

            bare_module = load_module(bare_dir / "bare_app.py", "bare_app")
            context = LambdaContext()
            sink = open(os.devnull, "w")  # Lambda ships stdout; here it goes nowhere

            def ours_call() -> Any:
                with redirect_stdout(sink):
                    answer = dialtone.app(ours_event, context)
                assert answer["statusCode"] == 200, answer

            def bare_call() -> Any:
                return bare_module.app(baseline_event, context)

            # Interleaved rounds, so load from anything else hits both alike.
            ours_rates, bare_rates = [], []
            for _ in range(ROUNDS):
                ours_rates.append(rate(ours_call))
                bare_rates.append(rate(bare_call))
            ours_rate, bare_rate = statistics.median(ours_rates), statistics.median(bare_rates)
            usage, ms = cost.measure_call(ours_call)
            results.append(cost.api_call_figure("billing API", "Bearer GET /customers/{id}", usage=usage, ms=ms,
                                                memory_mb=cost.lambda_memory()))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        ratio = ours_rate / bare_rate
        results.append({"name": "in-process GET /customers/{id}, app.py / bare route", "value": round(ratio, 3),
                        "target": ">= 0.7", "ok": ratio >= 0.7,
                        "detail": {"app_per_s": round(ours_rate), "bare_per_s": round(bare_rate)}})

        import requests

        session = requests.Session()
        url = f"{runtime.base_url}/backend/api/v1/customers/{customer_id}"
        headers = {"Authorization": f"Bearer {key}"}

        def http_call() -> Any:
            answer = session.get(url, headers=headers)
            assert answer.status_code == 200, answer.text

        http_rate = statistics.median(rate(http_call) for _ in range(ROUNDS))
        ratio = http_rate / ours_rate
        results.append({"name": "local runtime over kept-alive HTTP / in-process", "value": round(ratio, 3),
                        "target": ">= 0.3", "ok": ratio >= 0.3,
                        "detail": {"http_per_s": round(http_rate), "in_process_per_s": round(ours_rate)}})
    return results

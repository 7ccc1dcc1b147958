"""Issues 6 and 17's figures: the CDR pipeline on a generated file.

- compute: the pipeline's compute seconds (the engine's stages as the
  pipeline times them, ``compute.*``: decoding, scan, each day's groups;
  storage excluded) against a DuckDB script doing the same work on the same
  file in one thread (bench/cdr_baseline.py: validation, dedup, rating,
  figures, costs, the export files' content), which must find the same
  figures and costs; target >= 0.5. The worker also profiles the engine's
  steps (bench/cdr_profile.py): where ``compute.day`` goes;
- the pipeline's time over its I/O floor: every AWS request it made, made
  again with nothing between them at its concurrency (bench/cdr_floor.py);
  target <= 1.2;
- AWS requests per million CDRs (target <= 1,000) and the AWS cost of
  ingesting a million (bench/cost.py), and rows/s end to end (reported);
- peak memory of the pipeline process for a file of N/4 and of N rows
  (target: flat, ratio <= 1.3);
- DynamoDB writes per million CDRs, against the distinct numbers, trunks and
  customers per day of the file (target: at most twice that, never per call).

Each pipeline run is a fresh subprocess (`python -m bench.bench_cdrs --worker`)
so its peak RSS is its own; it talks to the runtime's DynamoDB Local and moto.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("BENCH_CDR_ROWS", "1000000"))
DIDS, CUSTOMERS, TRUNKS = 5000, 500, 200
SMOKE = {"ROWS": 2000, "DIDS": 40, "CUSTOMERS": 4, "TRUNKS": 8}
DAYS = ("2026-06-01", "2026-06-02")
HEADER = "call_id,direction,account,trunk_id,from,to,start,answer,end,billsec,disposition\n"


def generate(path: Path, rows: int, trunks: tuple[list[str], list[str]], seed: int = 6) -> None:
    """A plain CSV written as it is generated (never held in memory). DID d is
    1206 + 7 digits, on origination trunk d % TRUNKS; outbound calls go
    through a random termination trunk."""
    rng = random.Random(seed)
    origination, termination = trunks
    base = datetime.fromisoformat(DAYS[0]).replace(tzinfo=timezone.utc)
    span = 86400 * len(DAYS)
    with path.open("w") as out:
        out.write(HEADER)
        for n in range(rows):
            start = base + timedelta(seconds=rng.randrange(span))
            answered = rng.random() < 0.6
            billsec = rng.randrange(1, 600) if answered else 0
            end = start + timedelta(seconds=5 + billsec)
            fmt = "%Y-%m-%dT%H:%M:%SZ"
            if rng.random() < 0.5:
                did = rng.randrange(DIDS)
                trunk, to, direction = origination[did % TRUNKS], f"1{did_number(did)}", "inbound"
            else:
                trunk, to, direction = rng.choice(termination), f"44{rng.randrange(10**9)}", "outbound"
            out.write(f"c{n},{direction},a,{trunk},15551230000,{to},{start.strftime(fmt)},"
                      f"{(start + timedelta(seconds=5)).strftime(fmt) if answered else ''},{end.strftime(fmt)},"
                      f"{billsec},{'ANSWERED' if answered else 'NO ANSWER'}\n")


def did_number(index: int) -> str:
    return f"206{index:07d}"


def seed(tmp: Path) -> tuple[str, tuple[list[str], list[str]]]:
    """A tenant, its customers (credit floor far below zero), trunk groups
    through the trunks service (origination t of customer t % CUSTOMERS,
    Unmetered when t % 3 == 0; termination likewise), DIDs as the inventory's
    owned NUMBER items (DID d of customer d % CUSTOMERS, ordered on
    origination trunk d % TRUNKS), decks."""
    from chalicelib.auth import api_key
    from chalicelib.services.calls import rates
    from chalicelib.services.customers import accounts as customers
    from chalicelib.services.numbers import trunks
    from chalicelib.services.identity import users
    from chalicelib.store import calls as store
    from chalicelib.store.dynamo import keys

    created = users.create_tenant(name="CDR bench")
    tenant = created["tenant"]["id"]
    principal = api_key.authenticate(created["user"]["api_key"], None)
    owners = [customers.create_customer(principal=principal, fields={"name": f"C{n}", "creditLimit": "-1000000"})
              for n in range(CUSTOMERS)]
    origination, termination = [], []
    for t in range(TRUNKS):
        billing = {"billingType": "Unmetered", "sessions": "100"} if t % 3 == 0 else {"billingType": "Metered"}
        origination.append(str(trunks.define_origination(
            principal=principal, customer=owners[t % CUSTOMERS],
            params={"title": f"in {t}", "primaryTrunk": "192.0.2.10", **billing})["id"]))
        termination.append(str(trunks.define_termination(
            principal=principal, customer=owners[(TRUNKS + t) % CUSTOMERS],
            params={"title": f"out {t}", "ipaddress": "192.0.2.20", "ports": "100"})["id"]))
    # 5,000 owned numbers in the inventory's shape (as the order worker leaves
    # them), written in batches: an import and an order per number would only
    # slow the seeding, which is not timed.
    items = []
    for d in range(DIDS):
        customer = owners[(d % TRUNKS) % CUSTOMERS]["id"]
        number = did_number(d)
        items.append({**keys.number_key(tenant, number), "kind": "NUMBER", "tenantId": tenant, "id": d + 1,
                      "number": number, "category": "landline", "state": "WA", "npanxx": number[:6],
                      "status": "active", "customerId": customer, "trunkId": int(origination[d % TRUNKS]),
                      "version": 1, "GSI1PK": keys.owned_pk(tenant), "GSI1SK": keys.owned_sk(customer, number)})
    store.put_many(items)
    for direction, rows in (("inbound", "1,0.01,0,60,60\n1206,0.005,0.001,30,6\n"),
                            ("outbound", "4,0.02,0.01,1,1\n44,0.05,0,60,60\n442,0.031,0.002,30,6\n")):
        deck = tmp / f"{direction}.csv"
        deck.write_text("prefix,rate,connect_fee,initial_increment,increment\n" + rows)
        rates.import_rates(tenant=tenant, direction=direction, path=str(deck))
    return tenant, (origination, termination)


def worker(tenant: str, path: str) -> dict[str, Any]:
    """One pipeline run in this process: upload (not timed), then the S3
    object to final figures and charges (timed), counting DynamoDB writes,
    logging every AWS request (bench/cdr_floor.py) and profiling the
    engine's steps (bench/cdr_profile.py)."""
    from bench import cdr_floor, cdr_profile, cost
    from chalicelib.services.calls import daily, inbox, shared
    from chalicelib.store import clients

    cdr_profile.install()
    writes = {"n": 0}

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        name = model.name
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            writes["n"] += 1
        elif name == "BatchWriteItem":
            writes["n"] += sum(len(v) for v in params["RequestItems"].values())
        elif name == "TransactWriteItems":
            writes["n"] += len(params["TransactItems"])

    log, meter = cdr_floor.RequestLog(), cost.Meter()
    clients.client("dynamodb").meta.events.register("before-parameter-build.dynamodb", count)
    for made in (clients.client("dynamodb"), clients.client("s3"), clients.client("s3", unsigned_payload=True),
                 clients.client("sqs")):
        log.register(made)
        meter.register(made)
    with open(path, "rb") as body:
        key = inbox.upload_to_inbox(tenant=tenant, name=Path(path).name, body=body)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    shared.TIMINGS.clear()
    log.entries.clear()
    meter.reset()
    cdr_profile.SECONDS.clear()
    cdr_profile.SQL.clear()
    cdr_profile.CALLS.clear()
    cdr_profile.NESTED.clear()
    began = time.perf_counter()
    summary = inbox.ingest_inbox_object(key=key)
    closes = [daily.daily_close(tenant=tenant, day=day) for day in summary.get("days", [])]
    seconds = time.perf_counter() - began
    requests = cdr_floor.counts(log.dump())
    return {"seconds": seconds, "rows": summary.get("rows"), "accepted": summary.get("accepted"),
            "rejected": summary.get("rejected"), "writes": writes["n"], "inbox_key": key,
            "keys": sum(c["keys"] for c in closes), "customers": sum(len(c["costs"]) for c in closes),
            "costs": {c["day"]: c["costs"] for c in closes},
            "breakdown": {k: round(v, 3) for k, v in sorted(shared.TIMINGS.items())},
            "requests": requests, "usage": meter.snapshot(), "log": log.dump(), "profile": cdr_profile.report(),
            "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rss_before_kib": rss_before}


def baseline(tenant: str, path: Path, scratch: Path) -> dict[str, Any]:
    """The DuckDB script (bench/cdr_baseline.py) on the same file, with the
    tenant's owners and decks as the pipeline read them."""
    from bench import cdr_baseline
    from chalicelib.services.calls import rates
    from chalicelib.services.calls.owners import read_owners

    inputs = cdr_baseline.write_inputs(str(scratch), read_owners(tenant=tenant), rates.decks(tenant))
    return cdr_baseline.run(str(path), inputs, str(scratch))


def _run_worker(runtime: Any, tenant: str, path: Path) -> dict[str, Any]:
    env = {**runtime.process_env(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bench.bench_cdrs", "--worker", tenant, str(path)], env=env,
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"CDR bench worker failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def inbox_notifications_paused(runtime: Any) -> Iterator[None]:
    """The runtime's workers would process the bench's inbox object too (S3
    notifies them), doubling the work under measurement: the worker process
    measured here is the only one that processes it."""
    from infra.local import resources
    from infra.local.environment import STAGE

    with runtime.environment():
        resources.disconnect_notifications(STAGE)
    try:
        yield
    finally:
        with runtime.environment():
            resources.connect_notifications(STAGE)


def run(runtime: Any) -> list[dict[str, Any]]:
    from bench import cdr_floor, cost

    with tempfile.TemporaryDirectory(prefix="cdr-bench-") as scratch, inbox_notifications_paused(runtime):
        tmp = Path(scratch)
        small, big = tmp / "small.csv", tmp / "big.csv"
        with runtime.environment():
            (tenant_small, trunks_small), (tenant_big, trunks_big) = seed(tmp), seed(tmp)
        generate(small, ROWS // 4, trunks_small, seed=1)
        generate(big, ROWS, trunks_big, seed=2)
        first = _run_worker(runtime, tenant_small, small)
        second = _run_worker(runtime, tenant_big, big)
        with runtime.environment():
            from chalicelib.services.calls import inbox

            with open(big, "rb") as body:  # the inbox object again (the pipeline removed it), for the floor's GETs
                floor_key = inbox.upload_to_inbox(tenant=tenant_big, name="floor.csv", body=body)
            floor = cdr_floor.replay(second["log"], inbox_key=second["inbox_key"], floor_key=floor_key,
                                     tag=tenant_big)
            duck = baseline(tenant_big, big, tmp)
        size_mb = big.stat().st_size / 1e6
    rows = second["rows"]
    rate = rows / second["seconds"]
    floor_seconds = sum(floor.values())
    over_floor = second["seconds"] / floor_seconds
    # Peak RSS of the whole worker process (imports, clients, buffers): a
    # pipeline whose memory grew with the file would show it here.
    growth = second["rss_kib"] / first["rss_kib"]
    families: dict[str, float] = {}  # compute / s3 / dynamodb, from "family.step" timings
    for step, seconds in second["breakdown"].items():
        family = step.split(".")[0]
        families[family] = round(families.get(family, 0.0) + seconds, 2)
    compute = families.get("compute", 0.0)
    compute_ratio = duck["seconds"] / max(compute, 1e-9)
    pipeline_costs = {(day, int(c)): Decimal(v) for day, costs in second["costs"].items() for c, v in costs.items()}
    same = (duck["rows"] == rows and duck["rejected"] == second["rejected"] and pipeline_costs == duck["costs"]
            and duck["figures"] == second["keys"])
    per_million_requests = sum(second["requests"].values()) * 1_000_000 / rows
    per_million = second["writes"] * 1_000_000 / rows
    # A charge is one ledger transaction per customer-day: claim, state, entry, charge record.
    aggregates = second["keys"] + 4 * second["customers"]
    # One file is one cdr_files invocation (plus its S3 notification through SQS: send, receive, delete)
    # and each day's close one cdr_daily_close invocation; both at the cdr functions' memory.
    usage = {**second["usage"], "requests": {**second["usage"]["requests"], "sqs.Notification": 3}}
    dollars = cost.dollars(usage, lambda_seconds=second["seconds"], memory_mb=cost.lambda_memory("cdr_files"),
                           invocations=1 + len(second["costs"]), scale=1_000_000 / rows)
    return [
        {"name": "cdr compute: DuckDB script (same work, 1 thread) / pipeline compute", "value": round(compute_ratio, 3),
         "target": ">= 0.5", "ok": compute_ratio >= 0.5 and same,
         "detail": {"rows": rows, "duckdb_s": round(duck["seconds"], 2), "pipeline_compute_s": compute,
                    "pipeline_compute_breakdown_s": {k: v for k, v in second["breakdown"].items()
                                                     if k.startswith("compute.")},
                    "same_results": same, "duckdb_figures": duck["figures"], "pipeline_figures": second["keys"],
                    "duckdb_export_files": duck["export_files"], "duckdb_rejected": duck["rejected"],
                    "compute_profile": second["profile"]}},
        {"name": "cdr pipeline time / its I/O floor (same requests, emulators alone)", "value": round(over_floor, 3),
         "target": "<= 1.2", "ok": over_floor <= 1.2,
         "detail": {"pipeline_s": round(second["seconds"], 2), "floor_s": round(floor_seconds, 2),
                    "floor_by_request_s": floor, "requests": second["requests"],
                    "concurrency": second["log"]["width"],
                    # Busy seconds per family: a day's storing overlaps the next group's computing.
                    "pipeline_busy_s": families, "pipeline_busy_detail_s": second["breakdown"]}},
        {"name": "cdr AWS requests per million CDRs", "value": round(per_million_requests),
         "target": "<= 1000", "ok": per_million_requests <= 1000,
         "detail": {"requests": second["requests"], "rows": rows}},
        {"name": "cdr pipeline rows/s end to end (S3 object -> figures, exports, charges)", "value": round(rate),
         "target": "reported", "ok": True,
         "detail": {"rows": rows, "file_mb": round(size_mb, 1), "pipeline_s": round(second["seconds"], 2),
                    "duckdb_rows_per_s": round(rows / duck["seconds"])}},
        {"name": "AWS cost of ingesting one million CDRs ($)", "value": dollars["total"], "target": "reported",
         "ok": True,
         "detail": {"per_million_cdrs": dollars, "measured_per_file": second["usage"],
                    "lambda_s": round(second["seconds"], 2), "memory_mb": cost.lambda_memory("cdr_files"),
                    "prices": cost.PRICES, "prices_as_of": cost.PRICES_AS_OF,
                    "note": "Lambda seconds as measured on this machine; S3 storage not included"}},
        {"name": "cdr pipeline peak memory growth, 4x rows", "value": round(growth, 2), "target": "<= 1.3 (flat)",
         "ok": growth <= 1.3,
         "detail": {"rows": [first["rows"], second["rows"]],
                    "peak_rss_mib": [round(first["rss_kib"] / 1024), round(second["rss_kib"] / 1024)],
                    "growth_mib": [round((first["rss_kib"] - first["rss_before_kib"]) / 1024),
                                   round((second["rss_kib"] - second["rss_before_kib"]) / 1024)]}},
        {"name": "cdr DynamoDB writes per million CDRs", "value": round(per_million),
         "target": f"<= 2 x (number/trunk-days + 4 x customer-days) = {2 * aggregates}, not per call",
         "ok": second["writes"] <= 2 * aggregates + 50,
         "detail": {"writes": second["writes"], "rows": second["rows"], "keys_day": second["keys"],
                    "customer_days": second["customers"],
                    "writes_small_file": first["writes"], "rows_small_file": first["rows"]}},
    ]

if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(sys.argv[2], sys.argv[3]), default=str))
    else:
        from bench.run import main

        sys.exit(main(["bench.bench_cdrs", *sys.argv[1:]]))

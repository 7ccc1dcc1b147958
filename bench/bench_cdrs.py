"""Issue 6's figures: the CDR pipeline on a generated file, against DuckDB.

- rows/s from the S3 object to final figures and charges (ingest + daily
  close of every day in the file), as a ratio to DuckDB computing the same
  per-number-day aggregates (processed, completed, billsec) from the same
  plain CSV in one thread, in the same run (target >= 0.8);
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
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("BENCH_CDR_ROWS", "1000000"))
DIDS, CUSTOMERS, TRUNKS = 5000, 500, 200
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
    object to final figures and charges (timed), counting DynamoDB writes."""
    from chalicelib.services.calls import daily, inbox, shared
    from chalicelib.store import clients

    writes = {"n": 0}

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        name = model.name
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            writes["n"] += 1
        elif name == "BatchWriteItem":
            writes["n"] += sum(len(v) for v in params["RequestItems"].values())
        elif name == "TransactWriteItems":
            writes["n"] += len(params["TransactItems"])

    requests: dict[str, int] = {}

    def seen(model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        requests[name] = requests.get(name, 0) + 1

    clients.client("dynamodb").meta.events.register("before-parameter-build.dynamodb", count)
    for service in ("dynamodb", "s3"):
        clients.client(service).meta.events.register(f"before-call.{service}", seen)
    with open(path, "rb") as body:
        key = inbox.upload_to_inbox(tenant=tenant, name=Path(path).name, body=body)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    shared.TIMINGS.clear()
    began = time.perf_counter()
    summary = inbox.ingest_inbox_object(key=key)
    closes = [daily.daily_close(tenant=tenant, day=day) for day in summary.get("days", [])]
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "rows": summary.get("rows"), "accepted": summary.get("accepted"),
            "rejected": summary.get("rejected"), "writes": writes["n"],
            "keys": sum(c["keys"] for c in closes), "customers": sum(len(c["costs"]) for c in closes),
            "breakdown": {k: round(v, 2) for k, v in sorted(shared.TIMINGS.items())},
            "requests": dict(sorted(requests.items())),
            "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "rss_before_kib": rss_before}


def duckdb_seconds(path: Path) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 1")
    query = f"""
        SELECT CASE WHEN direction = 'inbound' THEN "to" ELSE trunk_id END AS key,
               CAST("start" AS DATE) AS day,
               count(*) AS processed,
               sum(CASE WHEN disposition = 'ANSWERED' THEN 1 ELSE 0 END) AS completed,
               sum(CASE WHEN disposition = 'ANSWERED' THEN billsec ELSE 0 END) AS billsec
        FROM read_csv('{path}', header = true, columns = {{
            'call_id': 'VARCHAR', 'direction': 'VARCHAR', 'account': 'VARCHAR', 'trunk_id': 'VARCHAR',
            'from': 'VARCHAR', 'to': 'VARCHAR', 'start': 'TIMESTAMP', 'answer': 'TIMESTAMP',
            'end': 'TIMESTAMP', 'billsec': 'INTEGER', 'disposition': 'VARCHAR'}})
        GROUP BY ALL"""
    began = time.perf_counter()
    groups = len(con.execute(query).fetchall())
    return time.perf_counter() - began, groups


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


def io_floor(tenant: str, path: Path, pipeline: dict[str, Any]) -> dict[str, Any]:
    """The emulators' cost of the AWS work the pipeline did for a file, with
    nothing between the requests (same concurrency as the pipeline's): the
    inbox object read once; every object the pipeline stored (parts, export
    files) put again with its size, and the parts read once; as many stats
    items written as BatchWriteItem; one four-item transaction per customer
    charge. The pipeline cannot be faster than this on these emulators."""
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib import settings
    from chalicelib.services.calls import charges, inbox
    from chalicelib.store import blobs, clients
    from chalicelib.store import calls as store
    from chalicelib.store.dynamo.table import Transaction

    s3, bucket = clients.client("s3"), settings.blob_bucket()
    stored = [(o["Key"], o["Size"]) for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=blobs.object_key(tenant, "cdr-")) for o in page.get("Contents", [])]
    parts = [key for key, _ in stored if "/cdr-parts/" in key]
    with open(path, "rb") as body:
        key = inbox.upload_to_inbox(tenant=tenant, name="floor.csv", body=body)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="cdr-floor-") as scratch:
        began = time.perf_counter()
        store.download_landed(key, os.path.join(scratch, "inbox"))
        seconds["s3_inbox_get"] = time.perf_counter() - began
    store.delete_landed(key)

    def put(pair: tuple[str, int]) -> None:
        s3.put_object(Bucket=bucket, Key=pair[0] + ".floor", Body=os.urandom(pair[1]))

    def get(name: str) -> None:
        s3.get_object(Bucket=bucket, Key=name)["Body"].read()

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=store.TRANSFER_THREADS) as pool:
        list(pool.map(put, stored))
        list(pool.map(get, parts))
    seconds["s3_objects"] = time.perf_counter() - began
    items = [store.stats_item("floor" + tenant, "DID", f"{n:010d}", "2026-06-01", n % 500,
                              {"processed": 100, "completed": 60, "billsec": 18000, "peak": 3})
             for n in range(pipeline["keys"])]
    began = time.perf_counter()
    store.put_many(items)
    seconds["dynamodb_stats"] = time.perf_counter() - began

    def charge(n: int) -> None:
        tx = Transaction()
        for k in range(4):  # claim, account state, ledger entry, charge record
            tx.put(settings.main_table(), {"PK": f"FLOOR#{tenant}#{n}", "SK": str(k), "total": "1.00000"})
        tx.execute()

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=charges.CHARGE_THREADS) as pool:
        list(pool.map(charge, range(pipeline["requests"].get("dynamodb.TransactWriteItems", 0))))
    seconds["dynamodb_charges"] = time.perf_counter() - began
    return {k: round(v, 2) for k, v in seconds.items()}


def run(runtime: Any) -> list[dict[str, Any]]:
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
            floor = io_floor(tenant_big, big, second)
        duck, groups = duckdb_seconds(big)
        size_mb = big.stat().st_size / 1e6
    rate = second["rows"] / second["seconds"]
    floor_seconds = sum(floor.values())
    duck_rate = ROWS / duck
    # Peak RSS of the whole worker process (imports, clients, buffers): a
    # pipeline whose memory grew with the file would show it here.
    growth = second["rss_kib"] / first["rss_kib"]
    families: dict[str, float] = {}  # compute / s3 / dynamodb, from "family.step" timings
    for step, seconds in second["breakdown"].items():
        family = step.split(".")[0]
        families[family] = round(families.get(family, 0.0) + seconds, 2)
    per_million = second["writes"] * 1_000_000 / second["rows"]
    # A charge is one ledger transaction per customer-day: claim, state, entry, charge record.
    aggregates = second["keys"] + 4 * second["customers"]
    return [
        {"name": "cdr pipeline rows/s vs DuckDB (1 thread)", "value": round(rate / duck_rate, 3), "target": ">= 0.8",
         "ok": rate / duck_rate >= 0.8,
         "detail": {"rows": second["rows"], "file_mb": round(size_mb, 1), "pipeline_s": round(second["seconds"], 2),
                    "pipeline_rows_per_s": round(rate), "duckdb_s": round(duck, 3),
                    "duckdb_rows_per_s": round(duck_rate), "duckdb_groups": groups,
                    "pipeline_keys": second["keys"],
                    # Where the pipeline's seconds went: the engine (decode, DuckDB) against the
                    # local emulators' round trips (moto S3, DynamoDB Local), busy seconds of each;
                    # a day's storing overlaps the next group's computing, so they may add up to
                    # more than pipeline_s.
                    "breakdown_s": families,
                    "breakdown_detail_s": second["breakdown"],
                    "aws_requests": second["requests"],
                    # The emulators alone, for the same requests: rows/s no pipeline can beat here.
                    "io_floor_s": {**floor, "total": round(floor_seconds, 2)},
                    "io_floor_ratio_vs_duckdb": round(ROWS / floor_seconds / duck_rate, 3),
                    "pipeline_over_io_floor": round(second["seconds"] / floor_seconds, 2),
                    "compute_only_ratio": round(second["rows"] / max(families.get("compute", 0.0), 1e-9) / duck_rate, 3)}},
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
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        from tests.support.runtime import LocalRuntime

        with LocalRuntime() as runtime:
            for result in run(runtime):
                print(json.dumps(result))

"""The CDR pipeline against an independent computation on generated files:
duplicates across files, a re-ingested file, late CDRs, bad rows, a call
spanning midnight, a re-rate; plain, gzip and zstd; Asterisk cdr-csv;
byte-range parts; the S3 notification consumer; the carrier stats endpoints."""
from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from chalicelib.domain.calls import cdrs as rules

from tests.support.harness import events
from tests.support.worlds.cdrs import (  # noqa: F401  (world is a fixture)
    DAY1,
    DAY2,
    HEADER,
    did_key,
    expected,
    generate,
    origination_trunk,
    termination_trunk,
    ts,
    world,
    write,
)


def stored_figures(t: str, keys: Any) -> dict[tuple[str, str, str], dict[str, int]]:
    from chalicelib.store import calls as store

    out = {}
    for kind, ident, day in keys:
        for item in store.stats_days(t, kind, ident, day):
            out[(kind, ident, day)] = {f: int(item[f]) for f in ("processed", "completed", "billsec", "peak")}
    return out


def check_figures(t: str, want: dict[str, Any]) -> None:
    got = stored_figures(t, want["figures"])
    assert got == want["figures"]


# ------------------------------------------------------------ tests

def test_rules_cost_rounding_and_longest_prefix() -> None:
    deck = rules.RateDeck({p: rules.parse_rate([p, r, f, i, n]) for p, r, f, i, n in
                           [("44", "0.05", "0", "60", "60"), ("4420", "0.031", "0.002", "30", "6")]})
    assert deck.match("442071234567").prefix == "4420"
    assert deck.match("447911").prefix == "44"
    assert deck.match("33123") is None
    # 61 s in 6 s steps = 66 s; 0.002 + 0.031 * 66 / 60 = 0.0361
    assert rules.call_cost(deck.match("4420"), 61) == Decimal("0.03610")
    # below the initial increment: billed 30 s
    assert rules.call_cost(deck.match("4420"), 5) == Decimal("0.01750")
    # half-up at the fifth place: 0.00001 * 30 / 60 = 0.000005 -> 0.00001
    tiny = rules.parse_rate(["1", "0.00001", "0", "30", "1"])
    assert rules.call_cost(tiny, 30) == Decimal("0.00001")


@pytest.mark.parametrize("rate, fee, initial, increment", [
    ("1_000", "0", "6", "6"), ("1e3", "0", "6", "6"), ("0.01", "1E-2", "6", "6"), ("Infinity", "0", "6", "6"),
    ("NaN", "0", "6", "6"), ("\u0661", "0", "6", "6"), ("0x10", "0", "6", "6"), ("0.000001", "0", "6", "6"),
    ("0.01", "0", "1_0", "6"), ("0.01", "0", "6", "\u0666"), ("0.01", "0", "+6", "6"), ("-0.01", "0", "6", "6"),
])
def test_a_rate_deck_uses_the_money_grammar(rate: str, fee: str, initial: str, increment: str) -> None:
    """import-rates read rates with Decimal() and increments with int(), which
    take 1_000, 1e3, Arabic-Indic digits and more: a deck row is refused instead."""
    with pytest.raises(rules.BadRow):
        rules.parse_rate(["44", rate, fee, initial, increment])


def test_peak_is_half_open_and_figures_presented() -> None:
    f = rules.Figures()
    for start, end in [(0, 10), (10, 20), (5, 15)]:
        f.add(rules.Cdr("x", "inbound", "", "", "", "1", start, start, end, end - start, "ANSWERED"))
    assert f.peak() == 2  # the call ending at 10 is gone when the one starting at 10 begins
    shown = rules.presented({"processed": 3, "completed": 2, "billsec": 125, "peak": 2})
    assert shown == {"processed": "3", "completed": "2", "acd": "63", "asr": "67%", "mou": "2.08", "peak": "2"}


def test_pipeline_matches_independent_computation(world: dict[str, Any]) -> None:
    from chalicelib.services.calls import charges, daily, ingest, rates

    t, tmp, rng = world["tenant"], world["tmp"], random.Random(6)
    day1 = generate(rng, world, 400, DAY1, "a")
    day2 = generate(rng, world, 300, DAY2, "b")
    # A call spanning midnight belongs to the day it started.
    day1.append(["midnight", "inbound", "acct", world["origination"][0], "1", "12065550101", f"{DAY1}T23:59:00Z",
                 f"{DAY1}T23:59:05Z", f"{DAY2}T00:10:05Z", "660", "ANSWERED"])
    file1 = write(tmp / "one.csv.gz", day1[:250] + day2[:100], compress="gz")
    # The second file repeats 50 calls of the first (a call in two files counts once).
    file2_rows = day1[200:] + day2[100:200]
    bad = [["bad-1", "sideways", "acct", "20", "1", "4420", f"{DAY1}T01:00:00Z", "", f"{DAY1}T01:00:01Z", "0",
            "FAILED"],
           ["bad-2", "outbound", "acct", "20", "1", "4420", "yesterday", "", f"{DAY1}T01:00:01Z", "0", "FAILED"],
           ["bad-3", "outbound", "acct", "99", "1", "4420", f"{DAY1}T01:00:00Z", "", f"{DAY1}T01:00:01Z", "0",
            "FAILED"],
           ["bad-4", "inbound", "acct", "", "1", "12065550101", f"{DAY1}T02:00:00Z", "", f"{DAY1}T01:00:00Z", "0",
            "BUSY"]]
    file2 = write(tmp / "two.csv.zst", file2_rows[:10] + bad + file2_rows[10:], compress="zst")

    first = ingest.import_file(tenant=t, path=str(file1))
    assert (first["rows"], first["accepted"], first["duplicate"], first["rejected"]) == (350, 350, 0, 0)
    second = ingest.import_file(tenant=t, path=str(file2))
    assert second["rows"] == len(file2_rows) + 4
    assert second["rejected"] == 4
    assert second["duplicate"] == 50  # rows 200..250 of day 1 were in the first file
    assert [e["line"] for e in second["errors"]] == [12, 13, 14, 15]
    assert "direction" in second["errors"][0]["reason"] and "unknown trunk" in second["errors"][2]["reason"]
    # The same file again is counted and charged once.
    again = ingest.import_file(tenant=t, path=str(file1))
    assert again["repeated"] and again["accepted"] == 0 and again["duplicate"] == 350

    ingested = day1[:250] + day2[:100] + file2_rows
    check_figures(t, expected(world, ingested))

    # Close day 1: charges posted once, equal to the independent sum.
    want = expected(world, ingested)
    daily.daily_close(tenant=t, day=DAY1)
    daily.daily_close(tenant=t, day=DAY1)  # twice: same files, stats and charges
    for c in world["customers"]:
        record = charges.posted_call_charges(tenant=t, customer_id=c["id"], day=DAY1)
        assert Decimal(record["total"]) == want["costs"][(c["id"], DAY1)]
        assert len(record["entries"]) == 1

    # Late CDRs for the closed day: figures move, only the difference is charged.
    late = generate(rng, world, 40, DAY1, "late") + day1[:5]
    ingest.import_file(tenant=t, path=str(write(tmp / "late.csv", late)))
    ingested += late
    want = expected(world, ingested)
    check_figures(t, want)
    for c in world["customers"]:
        record = charges.posted_call_charges(tenant=t, customer_id=c["id"], day=DAY1)
        assert Decimal(record["total"]) == want["costs"][(c["id"], DAY1)]
        assert sum(Decimal(e["amount"]) for e in record["entries"]) == want["costs"][(c["id"], DAY1)]

    # Re-rate: a new tenant outbound deck, then close again.
    new_deck = [("1", "0.03", "0", "6", "6"), ("44", "0.04", "0.01", "1", "1")]
    path = tmp / "rerate.csv"
    path.write_text("prefix,rate,connect_fee,initial_increment,increment\n" + "\n".join(",".join(r) for r in new_deck))
    rates.import_rates(tenant=t, direction="outbound", path=str(path))
    daily.daily_close(tenant=t, day=DAY1)
    decks = {**world["decks"], ("outbound", None): new_deck}
    want = expected(world, ingested, decks)
    for c in world["customers"]:
        record = charges.posted_call_charges(tenant=t, customer_id=c["id"], day=DAY1)
        assert Decimal(record["total"]) == want["costs"][(c["id"], DAY1)]
        assert sum(Decimal(e["amount"]) for e in record["entries"]) == want["costs"][(c["id"], DAY1)]

    # The ledger holds the same: the day's call charges, and nothing else moved these balances.
    from chalicelib.services.money import ledger
    for c in world["customers"]:
        balance, _ = ledger.balance_of(tenant=t, account=c["id"])
        assert balance == -want["costs"][(c["id"], DAY1)]

    # Exports: the customer's answered and unanswered calls of the day.
    from chalicelib.store import blobs
    c0 = world["customers"][0]["id"]
    success = list(csv.reader(io.StringIO(blobs.get(t, f"cdr-exports/{DAY1}/{c0}-inbound-success.csv").decode())))
    failed = list(csv.reader(io.StringIO(blobs.get(t, f"cdr-exports/{DAY1}/{c0}-inbound-failed.csv").decode())))
    unique = {r[0]: r for r in reversed(ingested)}
    mine = [r for r in unique.values() if r[6].startswith(DAY1) and r[1] == "inbound"
            and world["dids"][r[5]][0] == 0]
    assert {r[0] for r in success[1:]} == {r[0] for r in mine if r[10] == "ANSWERED"}
    assert {r[0] for r in failed[1:]} == {r[0] for r in mine if r[10] != "ANSWERED"}
    assert "midnight" in {r[0] for r in success[1:]}


def test_asterisk_cdr_csv(world: dict[str, Any]) -> None:
    from chalicelib.services.calls import ingest

    t, tmp = world["tenant"], world["tmp"]
    inbound, outbound = world["origination"][0], world["termination"][0]
    lines = [
        '"","15551234567","12065550101","from-pstn","""Bob"" <15551234567>",' f'"PJSIP/{inbound}-00000001","",'
        '"Dial","PJSIP/alice","2026-03-05 10:00:00","2026-03-05 10:00:03","2026-03-05 10:01:03",63,60,'
        '"ANSWERED","DOCUMENTATION","1709632800.1"',
        '"acct","12065550101","442071234567","from-internal","","PJSIP/alice-00000002",'
        f'"PJSIP/{outbound}-00000003",'
        '"Dial","PJSIP/20/442071234567","2026-03-05 10:00:30","","2026-03-05 10:00:40",10,0,'
        '"CONGESTION","DOCUMENTATION","1709632830.2"',
        '"acct","1","2","from-internal","","x","y","Dial","","not a time","","2026-03-05 10:00:40",10,0,'
        '"BUSY","DOCUMENTATION","1709632830.3"',
    ]
    path = tmp / "Master.csv"
    path.write_text("\n".join(lines) + "\n")
    summary = ingest.import_file(tenant=t, path=str(path))
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (3, 2, 1)
    assert summary["errors"][0]["line"] == 3
    from chalicelib.store import calls as store
    did = store.stats_days(t, "DID", "2065550101", "2026-03-05")[0]
    term = store.stats_days(t, "TERM", outbound, "2026-03-05")[0]
    assert (did["processed"], did["completed"], did["billsec"]) == (1, 1, 60)
    assert (term["processed"], term["completed"]) == (1, 0)


def test_byte_range_parts_through_the_queue(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain file bigger than the split size is cut on line boundaries, each
    part a queue message; the merged figures equal the whole file's."""
    from chalicelib.services.calls import inbox, ingest
    from chalicelib.store import clients, queues

    t, rng = world["tenant"], random.Random(9)
    rows = generate(rng, world, 300, "2026-03-07", "p")
    rows += rows[:7]  # duplicates inside the file, possibly across parts
    body = (HEADER + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()
    monkeypatch.setattr(ingest, "SPLIT_BYTES", 2000)
    key = inbox.upload_to_inbox(tenant=t, name="big.csv", body=body)
    sqs = clients.client("sqs")
    url = queues.queue_url("cdr_files")
    sqs.purge_queue(QueueUrl=url)
    event = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": key}}}]}
    fanned = inbox.handle_notification(event)
    parts = fanned[0]["parts"]
    assert parts == -(-len(body) // 2000)
    heads: list[str] = []  # the parts' messages carry the object's size: no part asks S3 for it
    s3_events = clients.client("s3").meta.events

    def count_head(**_: Any) -> None:
        heads.append("HEAD")

    s3_events.register("before-call.s3.HeadObject", count_head)
    results = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        for message in got:
            results += inbox.handle_notification(json.loads(message["Body"]))
            results += inbox.handle_notification(json.loads(message["Body"]))  # redelivered: no effect
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    s3_events.unregister("before-call.s3.HeadObject", count_head)
    final = [r for r in results if "accepted" in r]
    assert len(final) == 1
    assert (final[0]["rows"], final[0]["duplicate"], final[0]["accepted"]) == (307, 7, 300)
    assert heads == []
    check_figures(t, expected(world, rows))
    # The same notification again (S3 delivers at least once) changes nothing.
    assert inbox.handle_notification(event)[0]["ignored"]
    assert inbox.handle_notification({"Event": "s3:TestEvent"}) == []
    wrong = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "cdr-inbox/nobody/x.csv"}}}]}
    assert inbox.handle_notification(wrong)[0]["ignored"] == "unknown tenant"


def drain_cdr_queue(redeliver: bool = True) -> list[dict[str, Any]]:
    """Run every message of the cdr-files queue (each twice: SQS delivers at least once)."""
    from chalicelib.services.calls import inbox
    from chalicelib.store import clients, queues

    sqs, url, results = clients.client("sqs"), queues.queue_url("cdr_files"), []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
        for message in got:
            for _ in range(2 if redeliver else 1):
                results += inbox.handle_notification(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return results


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_big_compressed_file_is_restaged_in_plain_pieces(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                         compression: str) -> None:
    """Compressed bytes cannot be range-split: a compressed file whose plain
    text passes the split size is decoded once and restaged as plain pieces
    (cut on line ends, each behind the header), one part each; errors keep the
    original file's line numbers, a broken stream ends the last piece, and
    the pieces and the inbox object are gone at the end."""
    from chalicelib import settings
    from chalicelib.services.calls import inbox, ingest
    from chalicelib.store import clients, queues

    t = world["tenant"]
    rows = generate(random.Random(21), world, 240, "2026-03-09", "z")
    rows += rows[:5]  # repeats, across pieces
    lines = [HEADER] + [",".join(r) for r in rows]
    lines.insert(100, "bad,inbound")  # line 101 of the file (the header is line 1): a short row
    plain = ("\n".join(lines) + "\n").encode()
    body = gzip.compress(plain) if compression == "gzip" else __import__("zstandard").ZstdCompressor().compress(plain)
    if compression == "gzip":
        body = body[:-20]  # truncated: the stream breaks in the last piece
    monkeypatch.setattr(ingest, "SPLIT_BYTES", 3000)
    sqs, url = clients.client("sqs"), queues.queue_url("cdr_files")
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in got:  # earlier tests' messages (PurgeQueue is once a minute)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    key = inbox.upload_to_inbox(tenant=t, name=f"big.csv.{compression}", body=body)
    event = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": key}}}]}
    assert inbox.handle_notification(event)[0]["restaged"]
    assert inbox.handle_notification(event)[0]["restaged"]  # the notification again: the same pieces
    listed = clients.client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"cdr-staged/{t}/")
    pieces = [o["Key"] for o in listed.get("Contents", [])]
    assert len(pieces) >= len(plain) // 3000
    for name in pieces:
        content = clients.client("s3").get_object(Bucket=settings.blob_bucket(), Key=name)["Body"].read()
        assert content.startswith(HEADER.encode() + b"\n") and content.endswith(b"\n") and len(content) <= 3000
    final = [r for r in drain_cdr_queue() if "accepted" in r]
    assert len(final) == 1
    summary = final[0]
    errors = summary["errors"]
    assert errors[0] == {"line": 101, "reason": "expected 11 fields, found 2"}
    if compression == "gzip":
        kept = len(errors) == 2 and errors[1]["reason"].startswith("unreadable")
        assert kept, errors
        counted = summary["rows"] - 1  # the short row; the broken tail line is not a row
        assert summary["rejected"] == 2 and errors[1]["line"] == counted + 3
    else:
        assert (summary["rows"], summary["rejected"], summary["duplicate"], summary["accepted"]) == (246, 1, 5, 240)
        check_figures(t, expected(world, rows[:240]))
    listed = clients.client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"cdr-staged/{t}/")
    assert listed.get("Contents", []) == []
    assert inbox.handle_notification(event)[0]["ignored"]  # the inbox object is gone


def test_pieces_cut_on_line_ends_behind_the_header(tmp_path: Path) -> None:
    from chalicelib.services.calls import plain as cdr_plain

    text = "h1,h2\n" + "".join(f"{n},{'x' * (n % 7)}\n" for n in range(1, 400))
    shipped: list[tuple[str, int]] = []

    def ship(piece: Any, first_line: int) -> None:
        with open(piece.path) as handle:
            content = handle.read()
        assert content.count("\n") == piece.lines and content.startswith("h1,h2\n") and content.endswith("\n")
        shipped.append((content, first_line))

    assert cdr_plain.to_pieces(io.BytesIO(gzip.compress(text.encode())), str(tmp_path), limit=500,
                               ship=ship) is None
    assert "".join(c[len("h1,h2\n"):] for c, _ in shipped) == text[len("h1,h2\n"):]
    assert all(len(c) <= 500 for c, _ in shipped)
    line = 2
    for content, first_line in shipped:  # the original line of each piece's first row
        assert first_line == line
        line += content.count("\n") - 1
    # Small enough for one piece: returned, nothing shipped.
    small = cdr_plain.to_pieces(io.BytesIO(text.encode()[:300]), str(tmp_path), limit=500, ship=ship)
    assert small is not None and open(small.path).read() == text[:300] and small.lines == text[:300].count("\n") + 1


def test_admin_cli_import_cdrs_rates_and_daily_close(world: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    from chalicelib.admin import cli

    t, tmp = world["tenant"], world["tmp"]
    rows = generate(random.Random(11), world, 50, "2026-05-01", "cli")
    path = write(tmp / "cli.csv", rows + rows[:3])
    assert cli.main(["--stage", "test", "import-cdrs", "--tenant", t, str(path)]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert (summary["rows"], summary["accepted"], summary["duplicate"], summary["rejected"]) == (53, 50, 3, 0)
    assert "cli.csv" in captured.err  # the progress bar, on stderr
    deck = tmp / "bad-deck.csv"
    deck.write_text("prefix,rate,connect_fee,initial_increment,increment\n44,0.1,0,60,60\nx1,0.1,0,60,60\n")
    assert cli.main(["--stage", "test", "import-rates", "--tenant", t, "--direction", "outbound", str(deck)]) == 0
    refused = json.loads(capsys.readouterr().out)
    assert refused["imported"] == 0 and refused["errors"] == [{"line": 3, "reason": "prefix must be digits"}]
    assert cli.main(["--stage", "test", "run-job", "daily-close", "--tenant", t, "--date", "2026-05-01"]) == 0
    closed = json.loads(capsys.readouterr().out)
    assert closed["calls"] == 50 and closed["closed"]
    assert cli.main(["--stage", "test", "import-cdrs", "--tenant", "nobody", "--quiet", str(path)]) == 1


def test_sqs_handler_reports_failures_per_message(world: dict[str, Any]) -> None:
    from chalicelib.services.calls import inbox
    from chalicelib import workers

    t = world["tenant"]
    rows = generate(random.Random(12), world, 20, "2026-05-02", "sqs")
    key = inbox.upload_to_inbox(tenant=t, name="sqs.csv.gz",
                               body=gzip.compress((HEADER + "\n" + "\n".join(",".join(r) for r in rows)).encode()))
    event = events.load("s3_object_created_via_sqs", key=quote_plus(key))  # S3 URL-encodes the key
    event["Records"].append({**event["Records"][0], "messageId": "a-second-message", "body": "not json"})
    answer = workers.cdr_files(event, None)  # Lambda's raw event, as the function gets it
    assert answer == {"batchItemFailures": [{"itemIdentifier": "a-second-message"}]}
    check_figures(t, expected(world, rows))


def test_call_charges_go_below_the_credit_limit_and_then_block_new_spend(world: dict[str, Any]) -> None:
    from chalicelib.auth import api_key
    from chalicelib.domain.money import ledger as ledger_rules
    from chalicelib.domain.errors import InsufficientFundsError
    from chalicelib.services.calls import charges, daily, ingest
    from chalicelib.services.customers import accounts as customers
    from chalicelib.services.money import ledger

    t = world["tenant"]
    principal = api_key.authenticate(world["api_key"], None)
    poor = customers.create_customer(principal=principal, fields={"name": "Poor"})  # credit floor 0
    trunk = termination_trunk(principal, poor)
    row = ["poor-1", "outbound", "a", trunk, "1", "442071234567", "2026-05-03T10:00:00Z", "2026-05-03T10:00:01Z",
           "2026-05-03T10:01:01Z", "60", "ANSWERED"]
    ingest.import_file(tenant=t, path=str(write(world["tmp"] / "poor.csv", [row])))
    closed = daily.daily_close(tenant=t, day="2026-05-03")
    # The calls were made: their charge is posted although it takes the balance
    # below the credit limit (4420 deck: 0.002 + 0.031 * 60 / 60).
    assert closed["posted"][str(poor["id"])] == "0.03300"
    assert charges.posted_call_charges(tenant=t, customer_id=poor["id"], day="2026-05-03")["total"] == \
        Decimal("0.03300")
    assert ledger.balance_of(tenant=t, account=poor["id"]) == (Decimal("-0.03300"), Decimal("0"))
    # A second close posts nothing more.
    assert daily.daily_close(tenant=t, day="2026-05-03")["posted"].get(str(poor["id"])) in (None, "0.00000", "0")
    assert ledger.balance_of(tenant=t, account=poor["id"])[0] == Decimal("-0.03300")
    # Below its limit, the customer's new spend is refused and writes nothing.
    with pytest.raises(InsufficientFundsError):
        ledger.post_movement(tenant=t, account=poor["id"], activity=ledger_rules.ORDER_NEW_DIDS,
                             amount=Decimal("-0.01"), reference="order:x", idempotency_key="order:x")
    assert ledger.balance_of(tenant=t, account=poor["id"])[0] == Decimal("-0.03300")


def test_engine_cost_matches_the_domain_rule(tmp_path: Path) -> None:
    """The engine's exact integer rating (half-up to five places per call)
    gives the domain's Decimal cost for random rates, fees, increments and
    durations, including rates with more than five decimal places."""
    from chalicelib.services.calls import engine

    rng = random.Random(61)
    rates = []
    for n in range(300):
        places = rng.choice([0, 2, 4, 5, 6, 7, 9])
        rate = Decimal(rng.randrange(0, 10**6)).scaleb(-places)
        fee = Decimal(rng.randrange(0, 10**4)).scaleb(-rng.choice([0, 3, 5, 6]))
        rates.append(rules.Rate(f"9{n:03d}", rate, fee, rng.choice([0, 1, 6, 30, 60]), rng.choice([1, 6, 30, 60])))
    con = engine.connect(str(tmp_path))
    engine.load_decks(con, str(tmp_path), [engine.Deck("TENANT", "outbound", {r.prefix: r for r in rates})])
    calls = [(r.prefix, rng.choice([0, 1, 5, 29, 30, 31, 59, 60, 61, rng.randrange(0, 7200)])) for r in rates
             for _ in range(5)]
    engine.load_table(con, str(tmp_path), "probe", {"prefix": "VARCHAR", "billsec": "BIGINT"}, calls)
    got = con.execute("""
        SELECT p.prefix, p.billsec,
               cost_units(d.rate_i, d.fee_i, greatest(d.initial, ((p.billsec + d.step - 1) // d.step) * d.step))
        FROM probe p JOIN deck d USING (prefix)""").fetchall()
    by_prefix = {r.prefix: r for r in rates}
    assert len(got) == len(calls)
    for prefix, billsec, units in got:
        assert engine.cost_of_units(units) == rules.call_cost(by_prefix[prefix], billsec), (prefix, billsec)


def test_api_cold_start_does_not_import_the_engine() -> None:
    import subprocess
    import sys

    code = ("import sys, app; from chalicelib.services.calls import daily, inbox, ingest, rates, stats; "
            "import chalicelib.workers; print('duckdb' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_line_numbers_when_lines_are_not_rows_and_a_truncated_gzip(world: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Blank lines and a quoted field with a line break: the refused row still
    gets its own line; a truncated gzip keeps the complete lines before it;
    a file scanned in pieces reports the file's lines."""
    from chalicelib.services.calls import ingest, scan

    t, tmp = world["tenant"], world["tmp"]
    rows = generate(random.Random(21), world, 6, "2026-05-04", "irr")
    good = [",".join(r) for r in rows]
    quoted = rows[0][:]
    quoted[0], quoted[2] = "irr-q", '"two\nlines"'
    bad = rows[1][:]
    bad[0], bad[1] = "irr-bad", "sideways"
    text = "\n".join([HEADER, good[0], "", good[1], ",".join(quoted), "  ", ",".join(bad), good[2]]) + "\n"
    path = tmp / "irregular.csv"
    path.write_text(text)
    summary = ingest.import_file(tenant=t, path=str(path))
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (5, 4, 1)
    assert summary["errors"] == [{"line": 8, "reason": "direction must be inbound or outbound"}]
    # A too-short row on a regular file: the rows after it keep their lines.
    short = "\n".join([HEADER, good[3], "a,b,c", ",".join(bad).replace("irr-bad", "irr-bad2"), good[4]]) + "\n"
    summary = ingest.import_file(tenant=t, path=str(write_text(tmp / "short.csv", short)))
    assert [e["line"] for e in summary["errors"]] == [3, 4]
    assert summary["errors"][0]["reason"] == "expected 11 fields, found 3"
    monkeypatch.setattr(scan, "SCAN_CHUNK_BYTES", 150)  # a piece or two per row
    summary = ingest.import_file(tenant=t, path=str(write_text(tmp / "short2.csv", short.replace("irr-bad2", "irr-bad3")
                                                             .replace(rows[3][0], "irr-x3").replace(rows[4][0], "irr-x4"))))
    assert [e["line"] for e in summary["errors"]] == [3, 4] and summary["rows"] == 4
    assert summary["accepted"] == 2
    # The slow path in pieces too (the irregular file again, new call ids).
    summary = ingest.import_file(tenant=t, path=str(write_text(tmp / "irregular2.csv", text.replace("irr-", "irs-"))))
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (5, 4, 1)
    assert summary["errors"] == [{"line": 8, "reason": "direction must be inbound or outbound"}]
    whole = gzip.compress(("\n".join([HEADER] + good[3:]) + "\n").encode())
    cut = tmp / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) - 12])
    summary = ingest.import_file(tenant=t, path=str(cut))
    assert summary["rejected"] == 1 and summary["errors"][-1]["reason"].startswith("unreadable")
    # A line that is not UTF-8 is refused alone; the rows around it count.
    body = ("\n".join([HEADER, good[5].replace("irr-", "utf-")]) + "\n").encode() + b"\xff\xfe" + (",".join(rows[3]).replace("irr-", "utf-") + "\n").encode()
    body += (",".join(rows[2]).replace("irr-", "utf-") + "\n").encode()
    (tmp / "utf.csv").write_bytes(body)
    summary = ingest.import_file(tenant=t, path=str(tmp / "utf.csv"))
    assert summary["errors"] == [{"line": 3, "reason": "unreadable: not UTF-8"}]
    assert (summary["rows"], summary["accepted"]) == (3, 2)


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path

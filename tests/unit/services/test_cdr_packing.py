"""The CDR pipeline's fewer requests: figures packed per customer, kind and
day (chunks split and pruned deterministically, the old layout repacked),
export files packed per shard group and cut when first asked for, and call
charges posted for several customers per transaction, once."""
from __future__ import annotations

import csv
import io
import random
from decimal import Decimal
from typing import Any

import pytest

from tests.support.worlds.cdrs import DAY1, did_key, expected, generate, world, write  # noqa: F401  (world is a fixture)


def _figures(n: int) -> dict[str, int]:
    return {"processed": n, "completed": n, "billsec": 60 * n, "peak": 1}


def test_figures_are_chunked_and_stale_chunks_and_customers_pruned(tenant: dict,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.store import call_stats

    t = tenant["tenant"]["id"]
    monkeypatch.setattr(call_stats, "CHUNK", 2)
    first = call_stats.DayFigures(t, DAY1, compare=False)
    first.put([("DID", f"20655501{n:02d}", 7, _figures(n + 1)) for n in range(5)] +
              [("TERM", "12", 8, _figures(3))])
    first.finish()
    assert sorted((i["customerId"], i["chunk"], i["chunks"]) for i in call_stats.day_items(t, DAY1)) == [
        (7, 0, 3), (7, 1, 3), (7, 2, 3), (8, 0, 1)]
    rows = call_stats.customer_days(t, 7, "DID")
    assert [r["id"] for r in rows] == [f"20655501{n:02d}" for n in range(5)]
    assert call_stats.customer_days(t, 7, "DID", DAY1, DAY1, ids=["2065550103"])[0]["processed"] == 4

    # Again with fewer numbers for customer 7 (one moved to customer 9) and none for 8:
    # only what changed is written, and what is no longer needed is deleted.
    again = call_stats.DayFigures(t, DAY1, compare=True)
    assert again.put([("DID", f"20655501{n:02d}", 7, _figures(n + 1)) for n in range(2)]) == 1
    assert again.put([("DID", "2065550104", 9, _figures(5))]) == 1
    again.finish()
    assert sorted((i["customerId"], i["chunk"]) for i in call_stats.day_items(t, DAY1)) == [(7, 0), (9, 0)]
    assert call_stats.customer_days(t, 8, "TERM") == []
    assert call_stats.stats_days(t, "DID", "2065550104", DAY1)[0]["customerId"] == 9
    # The same figures once more write nothing.
    same = call_stats.DayFigures(t, DAY1, compare=True)
    assert same.put([("DID", f"20655501{n:02d}", 7, _figures(n + 1)) for n in range(2)]) == 0


def test_old_layout_is_repacked_by_the_admin_command(tenant: dict, capsys: pytest.CaptureFixture) -> None:
    from chalicelib.admin import cli
    from chalicelib.store import call_stats
    from chalicelib.store import calls as store
    from chalicelib.store.dynamo import keys

    t = tenant["tenant"]["id"]
    old = [{"PK": f"T#{t}#STATS#DID#{number}", "SK": f"D#{day}", "GSI1PK": keys.parent_pk(t, "CUSTOMER", "STATS"),
            "GSI1SK": f"{keys.pad(3)}#DID#{day}#{number}", "kind": "DID", "id": number, "day": day,
            "customerId": 3, **_figures(n)}
           for n, (number, day) in enumerate([("2065550101", DAY1), ("2065550102", DAY1), ("2065550101", "2026-03-02")])]
    store.put_many(old)
    assert cli.main(["--stage", "test", "repack-cdr-stats", "--tenant", t]) == 0
    assert '"old_items": 3' in capsys.readouterr().out
    rows = call_stats.customer_days(t, 3, "DID")
    assert sorted((r["id"], r["day"], r["processed"]) for r in rows) == [
        ("2065550101", DAY1, 0), ("2065550101", "2026-03-02", 2), ("2065550102", DAY1, 1)]
    assert call_stats.repack_old_items(t)["old_items"] == 0


def test_packed_exports_are_cut_when_first_asked_for(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services.calls import daily, exports, ingest, stats
    from chalicelib.store import blobs
    from chalicelib.store import calls as store

    monkeypatch.setattr(exports, "EAGER_FILES", 0)
    t, rng = world["tenant"], random.Random(9)
    rows = generate(rng, world, 300, DAY1, "p")
    ingest.import_file(tenant=t, path=str(write(world["tmp"] / "p.csv", rows)))
    daily.daily_close(tenant=t, day=DAY1)
    c0 = world["customers"][0]
    success_key = exports.export_key(DAY1, c0["id"], "inbound", "success")
    assert blobs.head(t, success_key) is None  # packed: nobody asked yet
    packed = store.get_day(t, DAY1)["exportsPacked"]
    assert packed and all(entry[0].startswith(f"cdr-exports/{DAY1}/packed/") for entry in packed.values())

    def asked() -> None:
        answer = stats.daily_files(principal=world["principal"], customer=c0, direction="inbound", first=DAY1,
                                   last=DAY1)
        assert success_key in answer[0]["success"]

    def mine(rows: list[list[str]], direction: str = "inbound") -> dict[str, set[str]]:
        unique = {r[0]: r for r in reversed(rows)}
        calls = [r for r in unique.values() if r[1] == direction
                 and (world["dids"][r[5]][0] if direction == "inbound" else world["trunks"][r[3]]) == 0]
        return {"success": {r[0] for r in calls if r[10] == "ANSWERED"},
                "failed": {r[0] for r in calls if r[10] != "ANSWERED"}}

    def stored(direction: str = "inbound") -> dict[str, set[str]]:
        out = {}
        for outcome in ("success", "failed"):
            lines = list(csv.reader(io.StringIO(blobs.get(t, exports.export_key(DAY1, c0["id"], direction,
                                                                                  outcome)).decode())))
            assert lines[0][-1] == "cost" and all(len(line) == 12 for line in lines)
            out[outcome] = {line[0] for line in lines[1:]}
        return out

    asked()
    assert stored() == mine(rows)
    assert len(store.get_day(t, DAY1)["exportsCut"]) == 1
    asked()  # cut once: the day record says so
    assert len(store.get_day(t, DAY1)["exportsCut"]) == 1

    # Late CDRs and a close again: new packed objects, the old ones deleted, the files cut anew.
    late = generate(rng, world, 60, DAY1, "q")
    ingest.import_file(tenant=t, path=str(write(world["tmp"] / "q.csv", late)))
    before = store.get_day(t, DAY1)
    daily.daily_close(tenant=t, day=DAY1)
    now = store.get_day(t, DAY1)["exportsPacked"]
    assert {e[0] for e in now.values()}.isdisjoint({e[0] for e in packed.values()})
    assert all(blobs.head(t, e[0]) is None for e in packed.values())
    asked()
    assert stored() == mine(rows + late)
    # A reader holding the day record from before that close reads it again.
    exports.ensure_files(t, {**before, "day": DAY1}, c0["id"], "outbound")
    assert stored("outbound") == mine(rows + late, "outbound")


def test_batched_charges_post_once_when_a_close_is_redelivered(world: dict[str, Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Both customers' charges go in one transaction. A close that did not
    see the first one's records (a redelivery racing it) replays it; one
    with other amounts falls back to posting each customer's difference."""
    from chalicelib.services.calls import charges
    from chalicelib.services.money import ledger
    from chalicelib.store import calls as store
    from chalicelib.store import clients

    t = world["tenant"]
    c0, c1 = (c["id"] for c in world["customers"])
    transactions = []
    events = clients.client("dynamodb").meta.events
    events.register("before-call.dynamodb.TransactWriteItems", lambda **_: transactions.append(1),
                    unique_id="count-charge-transactions")
    costs = {c0: Decimal("1.23456"), c1: Decimal("0.50000")}
    try:
        charges.post_day_charges(t, DAY1, dict(costs))
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="count-charge-transactions")
    assert len(transactions) == 1
    unseen = store.charges_of
    monkeypatch.setattr(store, "charges_of", lambda *a, **k: {})  # as if the first close were not visible yet
    charges.post_day_charges(t, DAY1, dict(costs))
    for customer, cost in costs.items():
        assert ledger.balance_of(tenant=t, account=customer)[0] == -cost
    charges.post_day_charges(t, DAY1, {c0: Decimal("2"), c1: Decimal("0.5")})
    monkeypatch.setattr(store, "charges_of", unseen)
    for customer, cost in {c0: Decimal("2"), c1: Decimal("0.5")}.items():
        record = charges.posted_call_charges(tenant=t, customer_id=customer, day=DAY1)
        assert Decimal(record["total"]) == cost == sum(Decimal(e["amount"]) for e in record["entries"])
        assert ledger.balance_of(tenant=t, account=customer)[0] == -cost

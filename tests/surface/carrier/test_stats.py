"""The carrier API's stats and CDR-file endpoints (seed 002) over the
pipeline's figures, checked against the independent computation of
tests/support/worlds/cdrs.py; a customer sees its own numbers and trunks only."""
from __future__ import annotations

import json
import random
from typing import Any

from chalicelib.domain.calls import cdrs as rules
from tests.support.worlds.cdrs import did_key, expected, generate, world, write  # noqa: F401  (world is a fixture)


def test_carrier_stats_endpoints(world: dict[str, Any], client: Any) -> None:
    from chalicelib.services.calls import daily, ingest

    t, rng = world["tenant"], random.Random(3)
    rows = generate(rng, world, 200, "2026-04-10", "s") + generate(rng, world, 100, "2026-04-11", "u")
    ingest.import_file(tenant=t, path=str(write(world["tmp"] / "s.csv", rows)))
    daily.daily_close(tenant=t, day="2026-04-10")
    want = expected(world, rows)["figures"]
    c0 = world["customers"][0]
    auth = f"token={world['api_key']}&accountno={c0['accountNumber']}"

    def get(path: str) -> dict[str, Any]:
        name, _, extra = path.partition("&")
        answer = client.get(f"/carrier/{name}?{auth}&{extra}")
        return json.loads(answer.body)

    def shown(keys: list[tuple[str, str, str]]) -> dict[str, str]:
        return rules.presented(rules.combine(want[k] for k in keys if k in want))

    answer = get("did_stats&number=12065550101,2065550102")
    assert answer["status"] == "200"
    by_number = {d["number"]: d for d in answer["data"]}
    for number in ("12065550101", "2065550102"):
        expect = shown([("DID", did_key(number), d) for d in ("2026-04-10", "2026-04-11")])
        assert {k: by_number[number][k] for k in expect} == expect
        assert by_number[number]["accountno"] == c0["accountNumber"]
    # Another customer's number is not the caller's to see.
    assert get("did_stats&number=12065550103")["status"] == "404"

    mine, theirs = world["termination"][0], world["origination"][1]
    answer = get(f"tg_stats_termination&tg_id={mine}")
    expect = shown([("TERM", mine, d) for d in ("2026-04-10", "2026-04-11")])
    assert {k: answer["data"][0][k] for k in expect} == expect
    assert get(f"tg_stats&tg_id={theirs}")["status"] == "404"

    answer = get("monthly_summary&year=2026&month=4")
    assert {d["number"] for d in answer["data"]} == {"2065550101", "2065550102"}
    assert answer["data"][0]["month"] == "2026-04-1"

    answer = get("daily_cdrs&from=2026-04-09&to=2026-04-11")
    assert [d["date"] for d in answer["data"]] == ["2026-04-10 00:00:00"]
    assert "cdr-exports/2026-04-10" in answer["data"][0]["success"]

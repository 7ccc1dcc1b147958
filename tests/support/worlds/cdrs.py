"""CDR test worlds: a tenant with customers, numbers and trunks, generated CDR rows,
and the figures an independent computation expects from them."""
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

import pytest

from chalicelib.domain.calls import cdrs as rules

DAY1, DAY2 = "2026-03-01", "2026-03-02"
HEADER = "call_id,direction,account,trunk_id,from,to,start,answer,end,billsec,disposition"


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture()
def world(tenant: dict, tmp_path: Path) -> dict[str, Any]:
    return build_world(tenant, tmp_path)


def build_world(tenant: dict, tmp_path: Path) -> dict[str, Any]:
    """Two customers owning inventory numbers (ordered on a Metered or an
    Unmetered origination trunk group) and termination trunks; decks for both
    directions. CDRs name a DID as 1 + its 10 digits."""
    from chalicelib.auth import api_key
    from chalicelib.services.calls import rates
    from chalicelib.services.customers import accounts as customers
    from tests.support.worlds.numbers import own

    t = tenant["tenant"]["id"]
    principal = api_key.authenticate(tenant["user"]["api_key"], None)
    # A credit floor far below zero: these customers' call charges are never refused.
    custs = [customers.create_customer(principal=principal, fields={"name": f"C{n}", "creditLimit": "-100000"})
             for n in range(2)]
    origination = [origination_trunk(principal, custs[0], "Metered"), origination_trunk(principal, custs[1], "Metered")]
    unmetered = origination_trunk(principal, custs[0], "Unmetered")
    termination = [termination_trunk(principal, custs[0]), termination_trunk(principal, custs[1])]
    dids = {"12065550101": (0, True), "12065550102": (0, False), "12065550103": (1, True)}
    for number, (c, metered) in dids.items():
        own(principal, custs[c], [did_key(number)], trunk_id=int(origination[c] if metered else unmetered))
    trunks = {origination[0]: 0, origination[1]: 1, unmetered: 0, termination[0]: 0, termination[1]: 1}
    decks = {
        ("inbound", None): [("1", "0.01", "0", "60", "60"), ("1206", "0.005", "0.001", "30", "6")],
        ("outbound", None): [("1", "0.02", "0.01", "1", "1"), ("44", "0.05", "0", "60", "60"),
                             ("4420", "0.031", "0.002", "30", "6")],
        ("outbound", 1): [("44", "0.07", "0", "1", "1")],
    }
    for (direction, c), rows in decks.items():
        path = tmp_path / f"deck-{direction}-{c}.csv"
        path.write_text("prefix,rate,connect_fee,initial_increment,increment\n" + "\n".join(",".join(r) for r in rows))
        rates.import_rates(tenant=t, direction=direction, path=str(path),
                           account_number=None if c is None else custs[c]["accountNumber"])
    return {"tenant": t, "customers": custs, "dids": dids, "trunks": trunks, "decks": decks, "tmp": tmp_path,
            "api_key": tenant["user"]["api_key"], "origination": origination, "termination": termination,
            "principal": principal}


def origination_trunk(principal: Any, customer: dict, billing: str) -> str:
    from chalicelib.services.numbers import trunks

    params = {"title": f"in {billing}", "primaryTrunk": "192.0.2.10", "billingType": billing}
    if billing == "Unmetered":
        params["sessions"] = "10"
    return str(trunks.define_origination(principal=principal, customer=customer, params=params)["id"])


def termination_trunk(principal: Any, customer: dict) -> str:
    from chalicelib.services.numbers import trunks

    return str(trunks.define_termination(principal=principal, customer=customer,
                                         params={"title": "out", "ipaddress": "192.0.2.20", "ports": "10"})["id"])


def did_key(to: str) -> str:
    """The inventory's 10 digits of a DID as a CDR names it."""
    digits = to.lstrip("+")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def generate(rng: random.Random, world: dict[str, Any], count: int, day: str, prefix: str) -> list[list[str]]:
    rows = []
    base = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
    for n in range(count):
        start = base + timedelta(seconds=rng.randrange(0, 86400))
        outbound = rng.random() < 0.5
        answered = rng.random() < 0.6
        billsec = rng.randrange(0, 900) if answered else 0
        ring = rng.randrange(0, 20)
        end = start + timedelta(seconds=ring + billsec)
        if outbound:
            trunk = rng.choice(world["termination"])
            to = rng.choice(["4420" + str(rng.randrange(10**6)), "4479" + str(rng.randrange(10**6)),
                             "1212" + str(rng.randrange(10**6)), "33" + str(rng.randrange(10**6))])
        else:
            trunk = rng.choice(world["origination"] + [""])
            to = rng.choice(list(world["dids"]))
        disposition = "ANSWERED" if answered else rng.choice(["NO ANSWER", "BUSY", "FAILED"])
        rows.append([f"{prefix}-{n}", "outbound" if outbound else "inbound", "acct", trunk, "15551234567", to,
                     ts(start), ts(start + timedelta(seconds=ring)) if answered else "", ts(end), str(billsec),
                     disposition])
    return rows


def write(path: Path, rows: list[list[str]], *, compress: str = "") -> Path:
    text = HEADER + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    if compress == "gz":
        path.write_bytes(gzip.compress(text.encode()))
    elif compress == "zst":
        import zstandard
        path.write_bytes(zstandard.ZstdCompressor().compress(text.encode()))
    else:
        path.write_text(text)
    return path


# ------------------------------------------------------------ the independent computation

def expected(world: dict[str, Any], rows: list[list[str]], decks: dict | None = None) -> dict[str, Any]:
    """Straight from the issue text, sharing no code with chalicelib."""
    decks = decks or world["decks"]
    custs = world["customers"]
    owner_of_trunk = {k: custs[v]["id"] for k, v in world["trunks"].items()}
    seen, calls = set(), []
    for r in rows:  # first occurrence wins, in ingestion order
        if r[0] not in seen:
            seen.add(r[0])
            calls.append(r)
    figures: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"processed": 0, "completed": 0, "billsec": 0, "intervals": []})
    costs: dict[tuple[int, str], Decimal] = defaultdict(Decimal)

    def parse(t: str) -> int:
        return int(datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())

    def price(direction: str, customer_index: int, number: str, billsec: int) -> Decimal:
        deck = decks.get((direction, customer_index)) or decks.get((direction, None)) or []
        best = None
        for row in deck:
            if number.startswith(row[0]) and (best is None or len(row[0]) > len(best[0])):
                best = row
        if best is None:
            return Decimal(0)
        _, rate, fee, initial, inc = best
        billed = max(int(initial), math.ceil(billsec / int(inc)) * int(inc))
        return (Decimal(fee) + Decimal(rate) * billed / 60).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)

    for r in calls:
        day = r[6][:10]
        answered = r[10] == "ANSWERED"
        billsec = int(r[9]) if answered else 0
        start, end = parse(r[6]), parse(r[8])
        if r[1] == "inbound":
            c_index, metered = world["dids"][r[5]]
            same_owner = r[3] in world["trunks"] and world["trunks"][r[3]] == c_index
            keys = [("DID", did_key(r[5]), day)] + ([("TG", r[3], day)] if same_owner else [])
            cost = price("inbound", c_index, r[5], billsec) if answered and metered else Decimal(0)
        else:
            c_index = world["trunks"][r[3]]
            keys = [("TERM", r[3], day)]
            cost = price("outbound", c_index, r[5], billsec) if answered else Decimal(0)
        costs[(custs[c_index]["id"], day)] += cost
        for key in keys:
            f = figures[key]
            f["processed"] += 1
            f["completed"] += answered
            f["billsec"] += billsec
            f["intervals"].append((start, end))
    for f in figures.values():  # brute force: calls in progress at every start instant
        f["peak"] = max(sum(1 for s, e in f["intervals"] if s <= t < e) for t, _ in f["intervals"])
        del f["intervals"]
    return {"figures": dict(figures), "costs": dict(costs), "owner_of_trunk": owner_of_trunk}

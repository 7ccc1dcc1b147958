"""A day's calls in DuckDB, a group of shards at a time: dedup, rating,
figures, costs and export files (docs/cdrs.md, "Engine")."""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

from chalicelib.domain.calls import cdrs as rules
from chalicelib.services.calls.engine.tables import load_table, quote

# A day is computed in groups of shards whose part files add up to at most
# this many bytes (≈ 40 bytes of Parquet per call, so ≈ 100k calls): memory
# per group, not per day or file.
GROUP_BYTES = int(os.environ.get("CDR_GROUP_BYTES", str(3 * 1024 * 1024)))
MONEY_PLACES = 5


@dataclass
class Deck:
    owner: str            # "TENANT" or a customer id
    direction: str
    rates: Mapping[str, rules.Rate]


def load_decks(con: Any, scratch: str, decks: Sequence[Deck]) -> None:
    """Decks as exact integers: rate and connect fee scaled by 10^scale
    (the most decimal places in any deck, at least five)."""
    places = [MONEY_PLACES]
    for deck in decks:
        for rate in deck.rates.values():
            places += [-min(0, int(rate.rate.as_tuple().exponent)), -min(0, int(rate.connect_fee.as_tuple().exponent))]
    scale = max(places)
    rows = ((d.owner, d.direction, r.prefix, len(r.prefix), int(r.rate.scaleb(scale)), int(r.connect_fee.scaleb(scale)),
             r.initial_increment, r.increment) for d in decks for r in d.rates.values())
    load_table(con, scratch, "deck", {"deck": "VARCHAR", "direction": "VARCHAR", "prefix": "VARCHAR",
                                      "plen": "INTEGER", "rate_i": "HUGEINT", "fee_i": "HUGEINT",
                                      "initial": "BIGINT", "step": "BIGINT"}, rows)
    con.execute("CREATE OR REPLACE TABLE deck_lengths AS SELECT DISTINCT plen FROM deck")
    con.execute(f"CREATE OR REPLACE MACRO cost_units(rate_i, fee_i, billed) AS "
                f"(2 * (fee_i * 60 + rate_i * billed) + {_divisor(scale)}) // (2 * {_divisor(scale)})")


def _divisor(scale: int) -> str:
    # cost in units of 10^-5 = (fee + rate * billed / 60) * 10^5 = N / (60 * 10^(scale - 5)), N at 10^-scale
    return f"CAST({60 * 10 ** (scale - MONEY_PLACES)} AS HUGEINT)"


def cost_of_units(units: int) -> Decimal:
    return Decimal(int(units)).scaleb(-MONEY_PLACES)


@dataclass
class DayResult:
    figures: list[tuple[str, str, int, dict[str, int]]] = field(default_factory=list)  # kind, id, customer, totals
    costs: dict[int, Decimal] = field(default_factory=dict)
    calls: int = 0
    unrated: int = 0
    duplicates_by_file: dict[str, int] = field(default_factory=dict)
    # customer, direction, outcome, offset and length of the file's rows in export_path
    exports: list[tuple[int, str, str, int, int]] = field(default_factory=list)
    export_path: str | None = None

    def merge(self, other: "DayResult") -> None:
        """Add another group's result (groups hold disjoint customers)."""
        self.figures += other.figures
        self.costs.update(other.costs)
        self.calls += other.calls
        self.unrated += other.unrated
        for file_id, count in other.duplicates_by_file.items():
            self.duplicates_by_file[file_id] = self.duplicates_by_file.get(file_id, 0) + count
        self.exports += other.exports  # (offsets into each group's own export_path)


def shard_groups(parts: Sequence[tuple[int, int, str, str]]) -> list[list[tuple[int, int, str, str]]]:
    """(shard, order, file id, local path) grouped by whole shards, each group
    at most GROUP_BYTES of parts (a bigger shard is a group of its own)."""
    by_shard: dict[int, list[tuple[int, int, str, str]]] = {}
    for part in parts:
        by_shard.setdefault(part[0], []).append(part)
    groups: list[list[tuple[int, int, str, str]]] = []
    current: list[tuple[int, int, str, str]] = []
    size = 0
    for shard in sorted(by_shard):
        weight = sum(os.path.getsize(p[3]) for p in by_shard[shard])
        if current and size + weight > GROUP_BYTES:
            groups.append(current)
            current, size = [], 0
        current += by_shard[shard]
        size += weight
    if current:
        groups.append(current)
    return groups


def compute_group(con: Any, scratch: str, parts: Sequence[tuple[int, int, str, str]], result: DayResult, *,
                  export_dir: str | None, figures: bool = True, rating: bool = True) -> None:
    """One group of shards of a day into ``result`` (decks, deck choice and
    owners loaded). Without ``rating`` (a refresh of an open day: charges are
    posted only at close) costs are not computed; exports need rating (their
    rows carry the cost)."""
    if export_dir is not None and not rating:
        raise ValueError("export files carry costs: they need rating")
    load_table(con, scratch, "part_files", {"filename": "VARCHAR", "shard": "INTEGER", "part_no": "BIGINT",
                                            "file_id": "VARCHAR"},
               ((p[3], p[0], p[1], p[2]) for p in parts))
    files = [p[3] for p in parts]
    # An open day's refresh needs the figures' columns only (Parquet reads no others).
    unique = _unique_calls(con, files, result, columns=None if rating else FIGURE_COLUMNS)
    calls = unique
    if rating:
        con.execute(f"""
          CREATE OR REPLACE TEMP TABLE calls AS
          SELECT u.*, coalesce(dc.deck, 'TENANT') AS deck, ltrim(u.dst, '+') AS digits,
                 (u.disposition = 'ANSWERED' AND (u.direction = 'outbound' OR coalesce(nm.metered, true))) AS billable,
                 row_number() OVER () AS rid
          FROM {unique} u
          LEFT JOIN deck_choice dc ON dc.customer = u.customer_id AND dc.direction = u.direction
          LEFT JOIN numbers nm ON nm.number = CASE WHEN u.direction = 'inbound' THEN u.did END""")
        _rate(con)
        calls = "priced"
        totals = con.execute("""
          SELECT customer_id, sum(units), count(*), count(*) FILTER (WHERE unrated) FROM priced GROUP BY 1""").fetchall()
    else:
        totals = []
        result.calls += int(con.execute(f"SELECT count(*) FROM {calls}").fetchone()[0])
    for customer, units, count, unrated in totals:
        result.costs[int(customer)] = cost_of_units(units)
        result.calls += int(count)
        result.unrated += int(unrated)
    if figures:
        _figures(con, calls, result)
    if export_dir is not None:
        _exports(con, export_dir, result)


FIGURE_COLUMNS = ("call_id", "seq", "direction", "did", "trunk_id", "customer_id", "start_e", "end_e", "disposition",
                  "billsec")


def _unique_calls(con: Any, files: Sequence[str], result: DayResult, *, columns: Sequence[str] | None) -> str:
    """The group's calls, each call id once per shard (the first ingested wins:
    part order, then row order); returns the table's name. Repeats are counted
    per file into ``result``. A day without repeats (the usual case: a hash
    count tells) skips the sort that ranking needs. ``columns``: only these of
    the parts (all by default)."""
    picked = ", ".join(f"r.{c}" for c in columns) if columns else "r.* EXCLUDE (filename, reason)"
    # Rating (all columns) copies the calls into its own table: a view here,
    # so the repeat count reads two columns of the parts and that table is
    # the only copy. The figures alone read the calls three times: a table.
    listed = ", ".join(f"'{quote(f)}'" for f in files)
    con.execute(f"""
      CREATE OR REPLACE TEMP {"TABLE" if columns else "VIEW"} loaded AS
      SELECT {picked}, f.shard, f.file_id, f.part_no
      FROM read_parquet([{listed}], filename = true) r JOIN part_files f ON f.filename = r.filename""")
    repeats, = con.execute("SELECT count(*) - count(DISTINCT (shard, call_id)) FROM loaded").fetchone()
    if not repeats:
        return "loaded"
    con.execute("""
      CREATE OR REPLACE TEMP TABLE ranked AS
      SELECT *, row_number() OVER (PARTITION BY shard, call_id ORDER BY part_no, seq) AS k
      FROM loaded""")
    for file_id, count in con.execute("SELECT file_id, count(*) FROM ranked WHERE k > 1 GROUP BY 1").fetchall():
        result.duplicates_by_file[file_id] = result.duplicates_by_file.get(file_id, 0) + int(count)
    con.execute("CREATE OR REPLACE TEMP VIEW unique_calls AS SELECT * EXCLUDE (k) FROM ranked WHERE k = 1")
    return "unique_calls"


def _rate(con: Any) -> None:
    con.execute("""
      CREATE OR REPLACE TEMP TABLE priced AS
      WITH best AS (
        SELECT c.rid, arg_max({'r': d.rate_i, 'f': d.fee_i, 'i': d.initial, 's': d.step}, d.plen) AS m
        FROM calls c JOIN deck_lengths l ON len(c.digits) >= l.plen
             JOIN deck d ON d.deck = c.deck AND d.direction = c.direction AND d.plen = l.plen
                            AND d.prefix = left(c.digits, l.plen)
        WHERE c.billable
        GROUP BY c.rid)
      SELECT c.*, b.rid IS NULL AND c.billable AS unrated,
             CASE WHEN b.rid IS NULL THEN CAST(0 AS HUGEINT)
                  ELSE cost_units(b.m.r, b.m.f,
                                  greatest(b.m.i, ((c.billsec + b.m.s - 1) // b.m.s) * b.m.s)) END AS units
      FROM calls c LEFT JOIN best b ON b.rid = c.rid""")


def _figures(con: Any, calls: str, result: DayResult) -> None:
    rows = con.execute(f"""
      WITH keyed AS (
        SELECT 'DID' AS kind, did AS id, customer_id, start_e, end_e, disposition, billsec FROM {calls}
        WHERE direction = 'inbound'
        UNION ALL
        SELECT 'TG', c.trunk_id, c.customer_id, c.start_e, c.end_e, c.disposition, c.billsec
        FROM {calls} c JOIN trunks t ON t.id = c.trunk_id AND t.customer = c.customer_id
                                      AND t.direction = 'origination'
        WHERE c.direction = 'inbound'
        UNION ALL
        SELECT 'TERM', trunk_id, customer_id, start_e, end_e, disposition, billsec FROM {calls}
        WHERE direction = 'outbound'),
      sums AS (
        SELECT kind, id, max(customer_id) AS customer, count(*) AS processed,
               count(*) FILTER (WHERE disposition = 'ANSWERED') AS completed, sum(billsec) AS billsec
        FROM keyed GROUP BY kind, id),
      events AS (
        SELECT kind, id, start_e AS t, 1 AS step FROM keyed
        UNION ALL SELECT kind, id, end_e, -1 FROM keyed),
      levels AS (
        SELECT kind, id, sum(step) OVER (PARTITION BY kind, id ORDER BY t, step
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS level
        FROM events),
      peaks AS (SELECT kind, id, max(level) AS peak FROM levels GROUP BY kind, id)
      SELECT s.kind, s.id, s.customer, s.processed, s.completed, s.billsec, greatest(p.peak, 0)
      FROM sums s JOIN peaks p USING (kind, id) ORDER BY s.kind, s.id""").fetchall()
    for kind, ident, customer, processed, completed, billsec, peak in rows:
        result.figures.append((kind, ident, int(customer), {"processed": int(processed), "completed": int(completed),
                                                            "billsec": int(billsec), "peak": int(peak)}))


def _iso(column: str) -> str:
    return (f"CASE WHEN {column} IS NULL THEN '' "
            f"ELSE strftime(make_timestamp({column} * 1000000), '%Y-%m-%dT%H:%M:%SZ') END")


def _exports(con: Any, export_dir: str, result: DayResult) -> None:
    """Per customer, direction and outcome, one CSV's rows (calls by start,
    call id), all in one file written by DuckDB, ordered by customer,
    direction and outcome (failed before success): ``result.export_path``,
    and each file's (customer, direction, outcome, offset, length) in it,
    from the row counts of each. The header (``EXPORT_HEADER``) is not in
    it: a file is the header (services/calls/exports.py) and its range. (A partitioned COPY holds
    buffers per open partition: thousands of customers would not fit the
    memory limit.)"""
    os.makedirs(export_dir, exist_ok=True)
    flat = "replace(replace({0}, chr(10), ' '), chr(13), ' ')"
    columns = ", ".join(f'{c} AS "{h}"' for c, h in zip(
        (flat.format("call_id"), "direction", flat.format("account"), flat.format("trunk_id"), flat.format("src"),
         flat.format("dst"), "start_iso", "answer_iso", "end_iso", "billsec", "disposition", "cost"),
        rules.HEADER + ("cost",)))
    body = os.path.join(export_dir, "all.csv")
    outcome = "CASE WHEN disposition = 'ANSWERED' THEN 'success' ELSE 'failed' END"
    start = _iso("start_e")
    con.execute(f"""
      COPY (
        SELECT {columns} FROM (
          SELECT *, {start} AS start_iso, {_iso('answer_e')} AS answer_iso, {_iso('end_e')} AS end_iso,
                 CAST(units // 100000 AS VARCHAR) || '.' || lpad(CAST(units % 100000 AS VARCHAR), 5, '0') AS cost
          FROM priced)
        ORDER BY customer_id, direction, {outcome}, start_e, call_id
      ) TO '{quote(body)}' (FORMAT csv, HEADER false)""")
    counts = con.execute(f"""
      SELECT customer_id, direction, {outcome}, count(*) FROM priced GROUP BY ALL""").fetchall()
    sizes = {(int(c), d, o): int(n) for c, d, o, n in counts}
    offset = 0
    with open(body, "rb") as rows:
        for customer, direction in sorted({(c, d) for c, d, _ in sizes}):
            for outcome in ("failed", "success"):  # the order of the body
                length = sum(map(len, itertools.islice(rows, sizes.get((customer, direction, outcome), 0))))
                result.exports.append((customer, direction, outcome, offset, length))
                offset += length
    result.export_path = body


"""The vectorised core of the CDR pipeline: DuckDB over local files
(docs/cdrs.md, "Engine"). The services download objects from S3 into a
scratch directory, hand the paths here, and upload what this module writes.

- ``scan``: one pass over a plain CSV file (the Dialtone columns, optionally
  a 12th column ``line`` with the source line): every row validated by SQL
  expressions in the order of the domain's rules (``domain/cdrs.build``),
  owners joined, accepted rows written as Parquet per (day, shard), refused
  rows with their reason.
- ``compute_day``: a day's parts, a group of shards at a time: dedup (first
  ingested wins), rating (longest prefix, customer deck over tenant deck,
  Unmetered DIDs free; exact integer arithmetic, half-up to five places per
  call), figures per number / trunk (peak by an event sweep), costs per
  customer, export files.

``duckdb`` is imported inside the functions: a cold start of the API never
loads it. Memory is bounded: ``memory_limit`` with spilling to the scratch
directory, and a day is computed in groups of shards of bounded size.
"""
from __future__ import annotations

import bisect
import itertools
import csv
import glob
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from chalicelib.domain.calls import cdrs as rules

MEMORY_LIMIT = os.environ.get("CDR_DUCKDB_MEMORY", "128MB")
THREADS = int(os.environ.get("CDR_DUCKDB_THREADS", "1"))
# A day is computed in groups of shards whose part files add up to at most
# this many bytes (≈ 40 bytes of Parquet per call, so ≈ 100k calls): memory
# per group, not per day or file.
GROUP_BYTES = int(os.environ.get("CDR_GROUP_BYTES", str(3 * 1024 * 1024)))
WHITESPACE = " \t\r\n\x0b\x0c"
MONEY_PLACES = 5


def connect(scratch: str) -> Any:
    import duckdb

    con = duckdb.connect(":memory:")
    spill = os.path.join(scratch, "spill")
    os.makedirs(spill, exist_ok=True)
    con.execute(f"SET threads = {THREADS}")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{_quote(spill)}'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET partitioned_write_max_open_files = 64")
    try:
        con.execute("SET TimeZone = 'UTC'")  # a time without an offset is UTC (with ICU; UTC without it)
    except Exception:  # noqa: BLE001 - a build without ICU is UTC already
        pass
    return con


def _quote(text: str) -> str:
    return text.replace("'", "''")


def load_table(con: Any, scratch: str, name: str, columns: Mapping[str, str], rows: Iterable[Sequence[Any]]) -> None:
    """A small table (owners, decks) through a CSV file: one read, not one INSERT per row."""
    path = os.path.join(scratch, f"{name}.csv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    spec = ", ".join(f"'{c}': '{t}'" for c, t in columns.items())
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv('{_quote(path)}', header = true, "
                f"auto_detect = false, quote = '\"', escape = '\"', columns = {{{spec}}})")


def load_owners(con: Any, scratch: str, numbers: Mapping[str, Any], trunks: Mapping[str, Any],
                shard_of: Any) -> None:
    load_table(con, scratch, "numbers", {"number": "VARCHAR", "customer": "BIGINT", "shard": "INTEGER",
                                         "metered": "BOOLEAN"},
               ((n, o.customer_id, shard_of(o.customer_id), o.metered) for n, o in numbers.items()))
    load_table(con, scratch, "trunks", {"id": "VARCHAR", "customer": "BIGINT", "shard": "INTEGER",
                                        "direction": "VARCHAR"},
               ((t, o.customer_id, shard_of(o.customer_id), o.direction) for t, o in trunks.items()))


# ------------------------------------------------------------ scan

@dataclass
class Scan:
    rows: int = 0
    rejected: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), first ones
    parts: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (day, shard) -> local files
    regular: bool = True


def _trimmed(column: str) -> str:
    """Python's str.strip() of a field, paid only by fields that start or end
    with whitespace (a first and last character above space skip the trim)."""
    return (f"CASE WHEN ascii({column}) > 32 AND ascii(right({column}, 1)) > 32 THEN {column} "
            f"ELSE trim(coalesce({column}, ''), '{WHITESPACE}') END")


def _times(name: str) -> str:
    return f"epoch_ms(TRY_CAST({name}_s AS TIMESTAMPTZ)) // 1000"


def scan_csv(con: Any, path: str, out_dir: str, *, with_line: bool, physical_lines: int | None,
         max_errors: int) -> Scan:
    """Validate and split one plain CSV file (header on line 1). Without a
    ``line`` column, a row's line is computed from its ordinal and the lines
    refused by the CSV reader; when the file is not one row per line (blank
    lines, quoted line breaks) ``regular`` is False and the caller reads it
    again with a line column."""
    columns = {name: "VARCHAR" for name in ("call_id", "direction", "account", "trunk_id", "from", "to", "start",
                                            "answer", "end", "billsec", "disposition")}
    if with_line:
        columns["line"] = "VARCHAR"
    spec = ", ".join(f"'{c}': '{t}'" for c, t in columns.items())
    con.execute("CREATE OR REPLACE SEQUENCE cdr_ordinal START 1")
    for table in ("scan_rejects", "scan_scans"):  # a second scan on the connection starts afresh
        con.execute(f"DROP TABLE IF EXISTS {table}")
    source = (f"read_csv('{_quote(path)}', header = true, auto_detect = false, columns = {{{spec}}}, "
              f"quote = '\"', escape = '\"', ignore_errors = true, store_rejects = true, "
              f"rejects_table = 'scan_rejects', rejects_scan = 'scan_scans', null_padding = false, "
              f"parallel = false)")
    w = f"'{WHITESPACE}'"
    ordinal = "CAST(line AS BIGINT)" if with_line else "nextval('cdr_ordinal')"
    over = 256
    query = f"""
    COPY (
      WITH raw AS (SELECT {ordinal} AS n, * FROM {source}),
      t AS (SELECT n,
          {_trimmed('call_id')} AS call_id,
          CASE WHEN direction IN ('inbound', 'outbound') THEN direction
               ELSE lower(trim(coalesce(direction, ''), {w})) END AS direction,
          {_trimmed('account')} AS account,
          {_trimmed('trunk_id')} AS trunk_id,
          {_trimmed('"from"')} AS src,
          {_trimmed('"to"')} AS dst,
          {_trimmed('"start"')} AS start_s,
          {_trimmed('answer')} AS answer_s,
          {_trimmed('"end"')} AS end_s,
          {_trimmed('billsec')} AS billsec_s,
          CASE WHEN disposition IN ('ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED') THEN disposition
               ELSE upper(trim(coalesce(disposition, ''), {w})) END AS disposition
        FROM raw),
      p AS (SELECT *, {_times('start')} AS start_e, {_times('end')} AS end_e, {_times('answer')} AS answer_e,
          TRY_CAST(billsec_s AS BIGINT) AS billsec_n,
          CASE WHEN len(ltrim(dst, '+')) = 11 AND starts_with(ltrim(dst, '+'), '1')
               THEN substr(ltrim(dst, '+'), 2) ELSE ltrim(dst, '+') END AS did
        FROM t),
      o AS (SELECT p.*, nm.customer AS n_customer, nm.shard AS n_shard, tr.customer AS t_customer,
               tr.shard AS t_shard
        -- Equalities only (a condition on the left side alone would make a nested-loop join).
        FROM p LEFT JOIN numbers nm ON nm.number = CASE WHEN p.direction = 'inbound' THEN p.did END
               LEFT JOIN (SELECT * FROM trunks WHERE direction = 'termination') tr
                      ON tr.id = CASE WHEN p.direction = 'outbound' THEN p.trunk_id END),
      v AS (SELECT *, CASE
          WHEN direction NOT IN ('inbound', 'outbound') THEN 'direction must be inbound or outbound'
          WHEN disposition NOT IN ('ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED')
            THEN 'disposition must be ANSWERED, NO ANSWER, BUSY or FAILED'
          WHEN start_s = '' THEN 'start is empty'
          WHEN start_e IS NULL THEN 'start is not an ISO 8601 time'
          WHEN end_s = '' THEN 'end is empty'
          WHEN end_e IS NULL THEN 'end is not an ISO 8601 time'
          WHEN end_e < start_e THEN 'end is before start'
          WHEN answer_s <> '' AND answer_e IS NULL THEN 'answer is not an ISO 8601 time'
          WHEN billsec_n IS NULL THEN 'billsec is not a whole number'
          WHEN billsec_n < 0 THEN 'billsec is negative'
          WHEN disposition = 'ANSWERED' AND answer_s = '' THEN 'an answered call needs answer'
          WHEN dst = '' THEN 'to is empty'
          WHEN len(dst) > {over} THEN 'to is too long'
          WHEN direction = 'outbound' AND trunk_id = '' THEN 'trunk_id is empty'
          WHEN len(trunk_id) > {over} THEN 'trunk_id is too long'
          WHEN call_id = '' THEN 'call_id is empty'
          WHEN len(call_id) > {over} THEN 'call_id is too long'
          WHEN len(account) > {over} THEN 'account is too long'
          WHEN len(src) > {over} THEN 'from is too long'
          WHEN direction = 'inbound' AND n_customer IS NULL THEN 'unknown number ' || dst
          WHEN direction = 'outbound' AND t_customer IS NULL THEN 'unknown trunk ' || trunk_id
        END AS reason FROM o)
      SELECT CASE WHEN reason IS NULL THEN strftime(make_timestamp(start_e * 1000000), '%Y-%m-%d')
                  ELSE 'rejected' END AS day,
             CASE WHEN reason IS NULL THEN coalesce(n_shard, t_shard) ELSE 0 END AS shard,
             n AS seq, reason, call_id, direction, coalesce(n_customer, t_customer) AS customer_id, account,
             trunk_id, src, dst, did, start_e, answer_e, end_e,
             CASE WHEN disposition = 'ANSWERED' THEN billsec_n ELSE 0 END AS billsec, disposition
      FROM v
    ) TO '{_quote(out_dir)}' (FORMAT parquet, PARTITION_BY (day, shard), OVERWRITE_OR_IGNORE true,
                              ROW_GROUP_SIZE 4096)"""
    con.execute(query)
    result = Scan()
    emitted = con.execute("SELECT count(*) FROM read_parquet(?)", [os.path.join(out_dir, "*", "*", "*.parquet")]
                          ).fetchone()[0] if glob.glob(os.path.join(out_dir, "*", "*", "*.parquet")) else 0
    structural = con.execute("SELECT line, min(error_type), min(csv_line) FROM scan_rejects GROUP BY line "
                             "ORDER BY line").fetchall()
    result.rows = emitted + len(structural)
    if physical_lines is not None and not with_line:
        result.regular = physical_lines == 1 + result.rows
    bad_files = glob.glob(os.path.join(out_dir, "day=rejected", "*", "*.parquet"))
    bad: list[tuple[int, str]] = []
    if bad_files:
        count, = con.execute("SELECT count(*) FROM read_parquet(?)", [bad_files]).fetchone()
        result.rejected += count
        bad = con.execute(f"SELECT seq, reason FROM read_parquet(?) ORDER BY seq LIMIT {max_errors}",
                          [bad_files]).fetchall()
    result.rejected += len(structural)
    found: list[tuple[int, str]] = [(int(line), _structural_reason(kind, text)) for line, kind, text in structural]
    if with_line:
        found += [(int(seq), reason) for seq, reason in bad]
    else:
        # Row k (1-based among the rows the reader returned) is on line 1 + k + the
        # refused lines before it: R_j comes before k when R_j - j - 2 < k.
        shifted = [int(line) - j - 2 for j, (line, _, _) in enumerate(structural)]
        found += [(1 + int(seq) + bisect.bisect_left(shifted, int(seq)), reason) for seq, reason in bad]
    result.errors = sorted(found)[:max_errors]
    for directory in glob.glob(os.path.join(out_dir, "day=*", "shard=*")):
        day = os.path.basename(os.path.dirname(directory))[4:]
        if day == "rejected":
            continue
        result.parts[(day, int(os.path.basename(directory)[6:]))] = sorted(glob.glob(os.path.join(directory, "*")))
    return result


def _structural_reason(kind: str, text: str | None) -> str:
    if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        fields = next(csv.reader([text or ""]), [])
        return f"expected {len(rules.HEADER)} fields, found {len(fields)}"
    if kind in ("INVALID ENCODING", "INVALID UNICODE"):
        return "unreadable: not UTF-8"
    return f"unreadable: {kind.lower()}"


# ------------------------------------------------------------ a day

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
    exports: list[tuple[int, str, str, str]] = field(default_factory=list)  # customer, direction, outcome, path

    def merge(self, other: "DayResult") -> None:
        """Add another group's result (groups hold disjoint customers)."""
        self.figures += other.figures
        self.costs.update(other.costs)
        self.calls += other.calls
        self.unrated += other.unrated
        for file_id, count in other.duplicates_by_file.items():
            self.duplicates_by_file[file_id] = self.duplicates_by_file.get(file_id, 0) + count
        self.exports += other.exports


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
    con.execute(f"""
      CREATE OR REPLACE TEMP TABLE loaded AS
      SELECT {picked}, f.shard, f.file_id, f.part_no
      FROM read_parquet(?, filename = true) r JOIN part_files f ON f.filename = r.filename""", [files])
    repeats, = con.execute("SELECT count(*) - count(DISTINCT (shard, call_id)) FROM loaded").fetchone()
    if not repeats:
        return "loaded"
    con.execute("""
      CREATE OR REPLACE TEMP TABLE ranked AS
      SELECT *, row_number() OVER (PARTITION BY shard, call_id ORDER BY part_no, seq) AS k
      FROM loaded""")
    for file_id, count in con.execute("SELECT file_id, count(*) FROM ranked WHERE k > 1 GROUP BY 1").fetchall():
        result.duplicates_by_file[file_id] = result.duplicates_by_file.get(file_id, 0) + int(count)
    con.execute("CREATE OR REPLACE TEMP TABLE unique_calls AS SELECT * EXCLUDE (k) FROM ranked WHERE k = 1")
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
    """Per customer, direction and outcome, one CSV (header + calls by start,
    call id): one ordered CSV of the group written by DuckDB, cut into the
    files by the row counts of each (customer, direction, outcome) in Python.
    (A partitioned COPY holds buffers per open partition: thousands of
    customers would not fit the memory limit.)"""
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
      ) TO '{_quote(body)}' (FORMAT csv, HEADER false)""")
    counts = con.execute(f"""
      SELECT customer_id, direction, {outcome}, count(*) FROM priced GROUP BY ALL""").fetchall()
    sizes = {(int(c), d, o): int(n) for c, d, o, n in counts}
    header = ",".join(rules.HEADER + ("cost",)) + "\n"
    with open(body, encoding="utf-8", newline="") as rows:
        for customer, direction in sorted({(c, d) for c, d, _ in sizes}):
            for outcome in ("failed", "success"):  # the order of the body
                target = os.path.join(export_dir, f"{customer}-{direction}-{outcome}.csv")
                with open(target, "w", encoding="utf-8", newline="") as out:
                    out.write(header)
                    out.writelines(itertools.islice(rows, sizes.get((customer, direction, outcome), 0)))
                result.exports.append((customer, direction, outcome, target))

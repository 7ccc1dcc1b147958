"""The CDR pipeline's computation as one DuckDB script, one thread, on the same
plain CSV file: the baseline of the pipeline's compute time (bench_cdrs).

Everything the pipeline computes for a file and the close of its days, and
nothing it stores: validation (the engine's rules, in its order, owners
joined), dedup by call id per day (first line wins; the hash count first, as
the pipeline, so a file without repeats skips the ranking sort), rating with
the same decks by longest prefix (customer deck over tenant deck, Unmetered
DIDs free, exact integers, half-up to five places per call), the figures per
number, origination trunk and termination trunk and day (processed,
completed, billsec, peak by an event sweep), the cost per customer and day,
and the export files' content (every rated call in file order: customer,
direction, outcome, start, call id; the columns formatted as in the files)
written as CSV. Owners and decks are small inputs written before the clock
starts, as the pipeline reads them from DynamoDB before computing.
"""
from __future__ import annotations

import csv
import os
import time
from decimal import Decimal
from typing import Any, Iterable, Mapping

MONEY_PLACES = 5
WHITESPACE = " \t\r\n\x0b\x0c"


def write_inputs(scratch: str, owners: Any, decks: Iterable[Any]) -> dict[str, Any]:
    """Owners (services/calls/owners.Owners) and decks (services/calls/rates.decks)
    as CSV files in scratch; returns their paths and the decks' decimal scale."""
    paths = {name: os.path.join(scratch, f"baseline-{name}.csv") for name in ("numbers", "trunks", "decks")}
    places = [MONEY_PLACES]
    with open(paths["numbers"], "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("number", "customer", "metered"))
        writer.writerows((n, o.customer_id, o.metered) for n, o in owners.numbers.items())
    with open(paths["trunks"], "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("id", "customer", "direction"))
        writer.writerows((t, o.customer_id, o.direction) for t, o in owners.trunks.items())
    decks = list(decks)
    for deck in decks:
        for rate in deck.rates.values():
            places += [-min(0, int(rate.rate.as_tuple().exponent)), -min(0, int(rate.connect_fee.as_tuple().exponent))]
    scale = max(places)
    with open(paths["decks"], "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("deck", "direction", "prefix", "rate_i", "fee_i", "initial", "step"))
        writer.writerows((d.owner, d.direction, r.prefix, int(r.rate.scaleb(scale)), int(r.connect_fee.scaleb(scale)),
                          r.initial_increment, r.increment) for d in decks for r in d.rates.values())
    return {**paths, "scale": scale}


def _trimmed(column: str) -> str:
    # str.strip() of a field, paid only by fields that start or end with a blank (as the engine does).
    return (f"CASE WHEN ascii({column}) > 32 AND ascii(right({column}, 1)) > 32 THEN {column} "
            f"ELSE trim(coalesce({column}, ''), '{WHITESPACE}') END")


def _iso(column: str) -> str:
    return (f"CASE WHEN {column} IS NULL THEN '' "
            f"ELSE strftime(make_timestamp({column} * 1000000), '%Y-%m-%dT%H:%M:%SZ') END")


def _each(con: Any, script: str) -> None:
    """A script's statements one by one (each timed on its own by a profiling proxy)."""
    for statement in script.split(";"):
        if statement.strip():
            con.execute(statement)


def run(path: str, inputs: Mapping[str, Any], scratch: str) -> dict[str, Any]:
    """The whole computation, timed; returns seconds and what it found (to check
    it against the pipeline's results)."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET TimeZone = 'UTC'")
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in ("call_id", "direction", "account", "trunk_id", "from", "to",
                                                      "start", "answer", "end", "billsec", "disposition"))
    divisor = f"CAST({60 * 10 ** (inputs['scale'] - MONEY_PLACES)} AS HUGEINT)"
    export = os.path.join(scratch, "baseline-exports.csv")
    began = time.perf_counter()
    _each(con, f"""
      CREATE TABLE numbers AS SELECT * FROM read_csv('{inputs["numbers"]}', header = true,
          columns = {{'number': 'VARCHAR', 'customer': 'BIGINT', 'metered': 'BOOLEAN'}});
      CREATE TABLE trunks AS SELECT * FROM read_csv('{inputs["trunks"]}', header = true,
          columns = {{'id': 'VARCHAR', 'customer': 'BIGINT', 'direction': 'VARCHAR'}});
      CREATE TABLE deck AS SELECT *, len(prefix) AS plen FROM read_csv('{inputs["decks"]}', header = true,
          columns = {{'deck': 'VARCHAR', 'direction': 'VARCHAR', 'prefix': 'VARCHAR', 'rate_i': 'HUGEINT',
                     'fee_i': 'HUGEINT', 'initial': 'BIGINT', 'step': 'BIGINT'}});
      CREATE TABLE deck_lengths AS SELECT DISTINCT plen FROM deck;
      -- Validation: every row, the engine's rules in its order, owners joined.
      CREATE TABLE checked AS
      WITH raw AS (SELECT row_number() OVER () AS n, * FROM read_csv('{path}', header = true, auto_detect = false,
                       columns = {{{columns}}}, quote = '"', escape = '"', ignore_errors = true, parallel = false)),
      t AS (SELECT n, {_trimmed('call_id')} AS call_id,
                   CASE WHEN direction IN ('inbound', 'outbound') THEN direction
                        ELSE lower({_trimmed('direction')}) END AS direction,
                   {_trimmed('account')} AS account, {_trimmed('trunk_id')} AS trunk_id, {_trimmed('"from"')} AS src,
                   {_trimmed('"to"')} AS dst, {_trimmed('"start"')} AS start_s, {_trimmed('answer')} AS answer_s,
                   {_trimmed('"end"')} AS end_s, {_trimmed('billsec')} AS billsec_s,
                   CASE WHEN disposition IN ('ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED') THEN disposition
                        ELSE upper({_trimmed('disposition')}) END AS disposition FROM raw),
      p AS (SELECT *, epoch_ms(TRY_CAST(start_s AS TIMESTAMPTZ)) // 1000 AS start_e,
                   epoch_ms(TRY_CAST(end_s AS TIMESTAMPTZ)) // 1000 AS end_e,
                   epoch_ms(TRY_CAST(answer_s AS TIMESTAMPTZ)) // 1000 AS answer_e,
                   TRY_CAST(billsec_s AS BIGINT) AS billsec_n,
                   CASE WHEN len(ltrim(dst, '+')) = 11 AND starts_with(ltrim(dst, '+'), '1')
                        THEN substr(ltrim(dst, '+'), 2) ELSE ltrim(dst, '+') END AS did FROM t),
      o AS (SELECT p.*, nm.customer AS n_customer, nm.metered, tr.customer AS t_customer
            FROM p LEFT JOIN numbers nm ON nm.number = CASE WHEN p.direction = 'inbound' THEN p.did END
                   LEFT JOIN (SELECT * FROM trunks WHERE direction = 'termination') tr
                          ON tr.id = CASE WHEN p.direction = 'outbound' THEN p.trunk_id END)
      SELECT *, CASE
          WHEN direction NOT IN ('inbound', 'outbound') THEN 'direction'
          WHEN disposition NOT IN ('ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED') THEN 'disposition'
          WHEN start_s = '' OR start_e IS NULL THEN 'start'
          WHEN end_s = '' OR end_e IS NULL THEN 'end'
          WHEN end_e < start_e THEN 'end before start'
          WHEN answer_s <> '' AND answer_e IS NULL THEN 'answer'
          WHEN billsec_n IS NULL OR billsec_n < 0 THEN 'billsec'
          WHEN disposition = 'ANSWERED' AND answer_s = '' THEN 'answered without answer'
          WHEN dst = '' OR len(dst) > 256 THEN 'to'
          WHEN direction = 'outbound' AND trunk_id = '' OR len(trunk_id) > 256 THEN 'trunk_id'
          WHEN call_id = '' OR len(call_id) > 256 THEN 'call_id'
          WHEN len(account) > 256 OR len(src) > 256 THEN 'account or from'
          WHEN direction = 'inbound' AND n_customer IS NULL THEN 'unknown number'
          WHEN direction = 'outbound' AND t_customer IS NULL THEN 'unknown trunk'
        END AS reason,
        strftime(make_timestamp(start_e * 1000000), '%Y-%m-%d') AS day,
        coalesce(n_customer, t_customer) AS customer_id,
        CASE WHEN disposition = 'ANSWERED' THEN billsec_n ELSE 0 END AS billsec
      FROM o;
      CREATE VIEW accepted AS SELECT * EXCLUDE (reason) FROM checked WHERE reason IS NULL;
    """)
    rows, rejected = con.execute("SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL) FROM checked").fetchone()
    # Dedup by call id per day, the first line wins (the ranking only when there are repeats).
    repeats, = con.execute("SELECT count(*) - count(DISTINCT (day, call_id)) FROM accepted").fetchone()
    calls = "accepted"
    if repeats:
        con.execute("CREATE TABLE unique_calls AS SELECT * FROM accepted "
                    "QUALIFY row_number() OVER (PARTITION BY day, call_id ORDER BY n) = 1")
        calls = "unique_calls"
    _each(con, f"""
      CREATE TABLE calls AS
      SELECT u.*, coalesce(dc.deck, 'TENANT') AS deck, ltrim(u.dst, '+') AS digits,
             (u.disposition = 'ANSWERED' AND (u.direction = 'outbound' OR coalesce(u.metered, true))) AS billable
      FROM {calls} u LEFT JOIN (SELECT DISTINCT deck, direction FROM deck WHERE deck <> 'TENANT') dc
                            ON dc.deck = CAST(u.customer_id AS VARCHAR) AND dc.direction = u.direction;
      -- Rating: the longest prefix of the chosen deck.
      CREATE TABLE priced AS
      WITH best AS (
        SELECT c.n, arg_max({{'r': d.rate_i, 'f': d.fee_i, 'i': d.initial, 's': d.step}}, d.plen) AS m
        FROM calls c JOIN deck_lengths l ON len(c.digits) >= l.plen
             JOIN deck d ON d.deck = c.deck AND d.direction = c.direction AND d.plen = l.plen
                            AND d.prefix = left(c.digits, l.plen)
        WHERE c.billable GROUP BY c.n)
      SELECT c.*, b.n IS NULL AND c.billable AS unrated,
             CASE WHEN b.n IS NULL THEN CAST(0 AS HUGEINT)
                  ELSE (2 * (b.m.f * 60 + b.m.r * greatest(b.m.i, ((c.billsec + b.m.s - 1) // b.m.s) * b.m.s))
                        + {divisor}) // (2 * {divisor}) END AS units
      FROM calls c LEFT JOIN best b ON b.n = c.n;
    """)
    costs = con.execute("SELECT day, customer_id, sum(units) FROM priced GROUP BY ALL").fetchall()
    figures = con.execute("""
      WITH keyed AS (
        SELECT 'DID' AS kind, did AS id, day, customer_id, start_e, end_e, disposition, billsec FROM priced
        WHERE direction = 'inbound'
        UNION ALL
        SELECT 'TG', c.trunk_id, c.day, c.customer_id, c.start_e, c.end_e, c.disposition, c.billsec
        FROM priced c JOIN trunks t ON t.id = c.trunk_id AND t.customer = c.customer_id
                                     AND t.direction = 'origination'
        WHERE c.direction = 'inbound'
        UNION ALL
        SELECT 'TERM', trunk_id, day, customer_id, start_e, end_e, disposition, billsec FROM priced
        WHERE direction = 'outbound'),
      sums AS (
        SELECT kind, id, day, max(customer_id) AS customer, count(*) AS processed,
               count(*) FILTER (WHERE disposition = 'ANSWERED') AS completed, sum(billsec) AS billsec
        FROM keyed GROUP BY ALL),
      events AS (SELECT kind, id, day, start_e AS t, 1 AS step FROM keyed
                 UNION ALL SELECT kind, id, day, end_e, -1 FROM keyed),
      levels AS (SELECT kind, id, day, sum(step) OVER (PARTITION BY kind, id, day ORDER BY t, step
                                                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS level
                 FROM events),
      peaks AS (SELECT kind, id, day, max(level) AS peak FROM levels GROUP BY ALL)
      SELECT s.kind, s.id, s.day, s.customer, s.processed, s.completed, s.billsec, greatest(p.peak, 0)
      FROM sums s JOIN peaks p USING (kind, id, day)""").fetchall()
    outcome = "CASE WHEN disposition = 'ANSWERED' THEN 'success' ELSE 'failed' END"
    flat = "replace(replace({0}, chr(10), ' '), chr(13), ' ')"
    con.execute(f"""
      COPY (
        SELECT {flat.format('call_id')}, direction, {flat.format('account')}, {flat.format('trunk_id')},
               {flat.format('src')}, {flat.format('dst')}, {_iso('start_e')}, {_iso('answer_e')}, {_iso('end_e')},
               billsec, disposition,
               CAST(units // 100000 AS VARCHAR) || '.' || lpad(CAST(units % 100000 AS VARCHAR), 5, '0')
        FROM priced ORDER BY day, customer_id, direction, {outcome}, start_e, call_id
      ) TO '{export}' (FORMAT csv, HEADER false)""")
    exports = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT day, customer_id, direction, {outcome} "
                          "FROM priced)").fetchone()[0]
    seconds = time.perf_counter() - began
    con.close()
    return {"seconds": seconds, "rows": int(rows), "rejected": int(rejected), "duplicates": int(repeats),
            "figures": len(figures), "export_files": int(exports),
            "export_bytes": os.path.getsize(export),
            "costs": {(d, int(c)): Decimal(int(u)).scaleb(-MONEY_PLACES) for d, c, u in costs}}

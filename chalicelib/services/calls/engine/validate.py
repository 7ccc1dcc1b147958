"""Validate and split one plain CSV file in one DuckDB pass (docs/cdrs.md, "Engine")."""
from __future__ import annotations

import bisect
import csv
import glob
import os
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.calls import cdrs as rules
from chalicelib.services.calls.engine.tables import quote

WHITESPACE = " \t\r\n\x0b\x0c"


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
    source = (f"read_csv('{quote(path)}', header = true, auto_detect = false, columns = {{{spec}}}, "
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
    ) TO '{quote(out_dir)}' (FORMAT parquet, PARTITION_BY (day, shard), OVERWRITE_OR_IGNORE true,
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


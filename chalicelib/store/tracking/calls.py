"""Tracked calls, read from the CDR pipeline's part objects (store/calls.py):
per day and shard, in key order (= ingestion order), first row of a call id
wins."""
from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable, Mapping

from chalicelib.store import calls as cdr_store


def call_rows(tenant: str, *, day: str, shard: int, numbers_by_customer: Mapping[int, Iterable[str]]
              ) -> list[dict[str, Any]]:
    """The calls of one day, from the accepted part objects of one shard, to
    the numbers of each customer given (all customers of the request whose
    calls are in that shard: the shard-day is listed and its parts downloaded
    once, not once per customer), each call id once (the first ingested:
    part key order, then file order), ordered by start; each row names its
    ``customerId``."""
    wanted = sorted({(int(c), n) for c, numbers in numbers_by_customer.items() for n in numbers})
    if not wanted:
        return []
    names = cdr_store.list_keys(tenant, f"cdr-parts/{day}/{shard:02d}/")
    if not names:
        return []
    import duckdb  # imported here: only statistics requests pay for it

    with tempfile.TemporaryDirectory(prefix="trk-calls-") as scratch:
        pairs = [(name, os.path.join(scratch, f"{n:06d}.parquet")) for n, name in enumerate(names)]
        cdr_store.download_many(tenant, pairs)
        con = duckdb.connect(config={"threads": 1})
        try:
            con.execute("CREATE TEMP TABLE wanted (customer_id BIGINT, number VARCHAR)")
            con.executemany("INSERT INTO wanted VALUES (?, ?)", [list(w) for w in wanted])
            rows = con.execute("""
              WITH r AS (
                SELECT r.*, regexp_extract(r.filename, '([0-9]+)\\.parquet$', 1) AS part_no
                FROM read_parquet(?, filename = true) r
                JOIN wanted w ON w.customer_id = r.customer_id AND w.number = r.did
                WHERE r.direction = 'inbound'),
              ranked AS (SELECT *, row_number() OVER (PARTITION BY call_id ORDER BY part_no, seq) AS k FROM r)
              SELECT call_id, src, did, start_e, answer_e, end_e, billsec, disposition, customer_id
              FROM ranked WHERE k = 1 ORDER BY start_e, call_id""",
                               [[p for _, p in pairs]]).fetchall()
        finally:
            con.close()
    return [{"callId": r[0], "caller": r[1], "number": r[2], "start": r[3], "answer": r[4], "end": r[5],
             "billsec": r[6], "disposition": r[7], "customerId": int(r[8])} for r in rows]

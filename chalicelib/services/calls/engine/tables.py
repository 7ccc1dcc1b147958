"""The engine's DuckDB connection and its small input tables (owners, decks)."""
from __future__ import annotations

import csv
import os
from typing import Any, Iterable, Mapping, Sequence

MEMORY_LIMIT = os.environ.get("CDR_DUCKDB_MEMORY", "128MB")
THREADS = int(os.environ.get("CDR_DUCKDB_THREADS", "1"))


def connect(scratch: str) -> Any:
    import duckdb

    con = duckdb.connect(":memory:")
    spill = os.path.join(scratch, "spill")
    os.makedirs(spill, exist_ok=True)
    con.execute(f"SET threads = {THREADS}")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{quote(spill)}'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET partitioned_write_max_open_files = 64")
    try:
        con.execute("SET TimeZone = 'UTC'")  # a time without an offset is UTC (with ICU; UTC without it)
    except Exception:  # noqa: BLE001 - a build without ICU is UTC already
        pass
    return con


def quote(text: str) -> str:
    return text.replace("'", "''")


def load_table(con: Any, scratch: str, name: str, columns: Mapping[str, str], rows: Iterable[Sequence[Any]]) -> None:
    """A small table (owners, decks) through a CSV file: one read, not one INSERT per row."""
    path = os.path.join(scratch, f"{name}.csv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    spec = ", ".join(f"'{c}': '{t}'" for c, t in columns.items())
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv('{quote(path)}', header = true, "
                f"auto_detect = false, quote = '\"', escape = '\"', columns = {{{spec}}})")


def load_owners(con: Any, scratch: str, numbers: Mapping[str, Any], trunks: Mapping[str, Any],
                shard_of: Any) -> None:
    load_table(con, scratch, "numbers", {"number": "VARCHAR", "customer": "BIGINT", "shard": "INTEGER",
                                         "metered": "BOOLEAN"},
               ((n, o.customer_id, shard_of(o.customer_id), o.metered) for n, o in numbers.items()))
    load_table(con, scratch, "trunks", {"id": "VARCHAR", "customer": "BIGINT", "shard": "INTEGER",
                                        "direction": "VARCHAR"},
               ((t, o.customer_id, shard_of(o.customer_id), o.direction) for t, o in trunks.items()))


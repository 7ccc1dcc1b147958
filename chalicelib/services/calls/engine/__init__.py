"""The vectorised core of the CDR pipeline: DuckDB over local files
(docs/cdrs.md, "Engine"). The services download objects from S3 into a
scratch directory, hand the paths here, and upload what this package writes.

- ``tables``: the connection (memory limit, spilling) and small input tables
  (owners, decks) loaded from CSV.
- ``validate``: one pass over a plain CSV file (the Dialtone columns,
  optionally a 12th column ``line`` with the source line): every row
  validated by SQL expressions in the order of the domain's rules
  (``domain/calls/cdrs.build``), owners joined, accepted rows written as Parquet
  per (day, shard), refused rows with their reason.
- ``day``: a day's parts, a group of shards at a time: dedup (first ingested
  wins), rating (longest prefix, customer deck over tenant deck, Unmetered
  DIDs free; exact integer arithmetic, half-up to five places per call),
  figures per number / trunk (peak by an event sweep), costs per customer,
  export files.

``duckdb`` is imported inside the functions: a cold start of the API never
loads it. Memory is bounded: ``memory_limit`` with spilling to the scratch
directory, and a day is computed in groups of shards of bounded size.
"""
from chalicelib.services.calls.engine.day import (DayResult, Deck, compute_group, cost_of_units, load_decks,
                                                  shard_groups)
from chalicelib.services.calls.engine.tables import connect, load_owners, load_table
from chalicelib.services.calls.engine.validate import Scan, scan_csv

__all__ = ["DayResult", "Deck", "Scan", "compute_group", "connect", "cost_of_units", "load_decks", "load_owners",
           "load_table", "scan_csv", "shard_groups"]

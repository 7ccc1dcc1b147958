"""Calls: CDR files in, figures, export files and call charges out (docs/cdrs.md).

- ``inbox``: where files land, and the cdr-files queue's messages about them
- ``ingest``: a file or one part of it to Parquet part objects, then its days refreshed
- ``plain``: decompression to a local plain CSV
- ``scan``: validate and split a plain file by (day, shard) with the engine
- ``engine/``: the DuckDB core (validation, dedup, rating, figures, export files)
- ``owners``: who owns each DID and trunk group, and whether a DID is metered
- ``rates``: rate decks (import, read for rating)
- ``daily``: a day's figures, and its close (``daily_close``, the scheduled ``close_yesterday``)
- ``charges``: posting a day's call charges to the ledger, the difference only
- ``exports``: a closed day's export files
- ``stats``: figures for the carrier API
- ``uploads``: presigned CDR uploads and their status
- ``shared``: the tenant check, error bound and timings the modules share
"""

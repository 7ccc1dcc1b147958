"""Settings read from the environment when needed, never at import.

The Chalice test client swaps ``os.environ`` per call and Lambda sets it once
per container, so every accessor reads it afresh (a dict lookup is cheap).
Names come from ``.chalice/config.json`` per stage.
"""
from __future__ import annotations

import os


def stage() -> str:
    return os.environ.get("DIALTONE_STAGE", "local")


def main_table() -> str:
    return os.environ["MAIN_TABLE"]


def ledger_table() -> str:
    return os.environ["LEDGER_TABLE"]


def audit_table() -> str:
    return os.environ["AUDIT_TABLE"]


def blob_bucket() -> str:
    return os.environ["BLOB_BUCKET"]


def queue_name(logical: str) -> str:
    """Physical queue name for a logical one ('orders' -> ORDERS_QUEUE)."""
    return os.environ[f"{logical.upper()}_QUEUE"]


def auth_cache_seconds() -> int:
    # How long a resolved API key is trusted by one warm process before it is
    # read again. Revocation elsewhere takes effect within this time.
    return int(os.environ.get("AUTH_CACHE_SECONDS", "5"))


def audit_sink() -> str:
    """'direct' writes audit records synchronously; 'log' emits a log line
    that the log-subscription consumer ingests (see docs/architecture.md)."""
    return os.environ.get("AUDIT_SINK", "direct")


def audit_retention_days() -> int:
    return int(os.environ.get("AUDIT_RETENTION_DAYS", "400"))


def presign_seconds() -> int:
    return int(os.environ.get("PRESIGN_SECONDS", "900"))


def password_hash_cost() -> int:
    """log2 of scrypt's N. 15 in production (~60 ms); lowered only in tests."""
    return int(os.environ.get("PASSWORD_HASH_LOG2N", "15"))

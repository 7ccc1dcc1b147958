"""The per-tenant audit log: who did what, when, and what it touched.

A request records the resources it touches in a context variable; the surface
writes one record per request when it answers. With AUDIT_SINK=log (deployed
stages and the local runtime) the record is one JSON log line, shipped by the
log subscription to ``ingest`` off the request path; with AUDIT_SINK=direct it
is written before the response (in-process tests).
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
from typing import Any, Iterable, Mapping

from chalicelib import settings
from chalicelib.store import audit as audit_store

AUDIT_MARKER = "dialtone_audit"
_touched: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("audit_touched", default=None)
_log = logging.getLogger(__name__)


def begin() -> contextvars.Token:
    return _touched.set([])


def touch(kind: str, ident: Any) -> None:
    """Note that the current request read or changed ``kind`` ``ident``."""
    found = _touched.get()
    if found is not None:
        entry = f"{kind}:{ident}"
        if entry not in found:
            found.append(entry)


def touched() -> list[str]:
    return list(_touched.get() or [])


def end(token: contextvars.Token) -> None:
    _touched.reset(token)


def record(entry: Mapping[str, Any]) -> None:
    if settings.audit_sink() == "log":
        # One line, stdout: Lambda ships it to CloudWatch Logs without a network
        # call on the request path; the subscription filter matches the marker.
        sys.stdout.write(json.dumps({AUDIT_MARKER: entry}, default=str, separators=(",", ":")) + "\n")
        sys.stdout.flush()
    else:
        ingest([entry])


def ingest(entries: Iterable[Mapping[str, Any]]) -> int:
    """Store audit records. Idempotent: a record is keyed by its request id."""
    return audit_store.write(list(entries), retention_days=settings.audit_retention_days())


def parse_log_line(line: str) -> dict[str, Any] | None:
    """The audit record in one log line, or None for other lines."""
    start = line.find('{"' + AUDIT_MARKER + '"')
    if start < 0:
        return None
    try:
        entry = json.loads(line[start:])[AUDIT_MARKER]
    except (ValueError, KeyError, TypeError):
        _log.warning("unparseable audit line skipped")
        return None
    return entry if isinstance(entry, dict) and entry.get("tenantId") else None


def list_entries(*, tenant: str, since: str | None = None, until: str | None = None,
                 limit: int = 100) -> list[dict[str, Any]]:
    """Newest first, at most ``limit``, between two ISO times (default: last 7 days)."""
    return audit_store.list_entries(tenant=tenant, since=since, until=until, limit=limit)


def list_visible(*, principal: Any, since: str | None = None, until: str | None = None,
                 limit: int = 100) -> list[dict[str, Any]]:
    """The request log as the caller may see it: administrators every request
    of the tenant, everyone else their own (newest first)."""
    principal.require_read()
    if principal.is_admin:
        return list_entries(tenant=principal.tenant_id, since=since, until=until, limit=limit)
    # One tenant-day is one partition; a user's own requests are picked out of
    # a bounded window of the newest entries.
    window = list_entries(tenant=principal.tenant_id, since=since, until=until, limit=min(10 * limit, 5000))
    return [e for e in window if e.get("userId") == principal.user_id][:limit]

"""audit_ingest: audit records from the API's log lines into the audit table.

On AWS a CloudWatch Logs subscription filter on the API function's log group
delivers batches of lines (base64 gzip JSON); locally the runtime's log
shipper calls ``ingest_lines`` with the API server's output. Writing is keyed
by request id, so a batch delivered twice stores each record once.
"""
from __future__ import annotations

import base64
import gzip
import json
from typing import TYPE_CHECKING, Any, Iterable

from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.common import audit
else:
    audit = lazy("chalicelib.services.common.audit")


def handle(event: dict[str, Any]) -> dict[str, int]:
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload.get("messageType") != "DATA_MESSAGE":
        return {"ingested": 0}  # CONTROL_MESSAGE: CloudWatch checking the destination
    return {"ingested": ingest_lines(e["message"] for e in payload.get("logEvents", []))}


def ingest_lines(lines: Iterable[str]) -> int:
    records = [r for r in (audit.parse_log_line(line) for line in lines) if r]
    return audit.ingest(records) if records else 0

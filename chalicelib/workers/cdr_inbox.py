"""cdr_files: the cdr-files queue. S3 notifications of new objects under
cdr-inbox/<tenant>/, and the byte-range parts of split files, which the
ingest publishes back to the same queue (one part per message).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.lazy import lazy
from chalicelib.workers.batch import BatchResponse, each_message

if TYPE_CHECKING:
    from chalicelib.services.calls import inbox
else:
    inbox = lazy("chalicelib.services.calls.inbox")


def handle(event: Any) -> BatchResponse:
    return each_message(event, inbox.handle_notification, what="CDR")

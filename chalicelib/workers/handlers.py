"""Every event handler, on one blueprint. Handlers stay thin: decode the
event, call one service, report what failed so only that is retried.

They are module-level functions of this module on purpose: Lambda imports the
handler string Chalice writes (``chalicelib.workers.handlers.<name>``), so a
handler defined inside a function would not be found (Runtime.HandlerNotFound).
"""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

bp = Blueprint(__name__)


@bp.lambda_function(name="audit_ingest")
def audit_ingest(event: dict[str, Any], context: Any) -> dict[str, int]:
    # CloudWatch Logs subscription: the API function's audit lines, batched.
    from chalicelib.workers.audit_ingest import handle_log_subscription

    return handle_log_subscription(event)

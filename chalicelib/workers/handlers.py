"""Registers every event handler on the app. Handlers stay thin: decode the
event, call one service, report what failed so only that is retried."""
from __future__ import annotations

from typing import Any

from chalice import Chalice


def register(app: Chalice) -> None:
    @app.lambda_function(name="audit_ingest")
    def audit_ingest(event: dict[str, Any], context: Any) -> dict[str, int]:
        # CloudWatch Logs subscription: the API handler's audit lines, batched.
        from chalicelib.workers.audit_ingest import handle_log_subscription

        return handle_log_subscription(event)

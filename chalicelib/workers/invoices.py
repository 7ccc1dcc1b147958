"""The monthly invoice run: close_invoices (the schedule) queues one job per
tenant whose previous month is not done yet; invoice_jobs (the consumer)
closes each tenant's month, tenants in parallel. A job stopped by its time
budget queues its own continuation.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.lazy import lazy
from chalicelib.workers.batch import BatchResponse, each_message

if TYPE_CHECKING:
    from chalicelib.services.money import invoices
else:
    invoices = lazy("chalicelib.services.money.invoices")

# What a job may use when the event carries no Lambda context (a test, the CLI).
DEFAULT_SECONDS = 780
# Stop starting new pages this long before Lambda would cut the run off.
MARGIN_SECONDS = 60


def queue_jobs() -> dict[str, Any]:
    """The schedule's part. Once every tenant is done, a run costs one GetItem
    per tenant and sends nothing."""
    return invoices.fan_out(month=invoices.month_to_close())


def handle(event: Any) -> BatchResponse:
    """``{"tenant", "month"}`` per message. Small tenants take seconds, so a
    few share an invocation; each later one gets what is left of the time."""
    context = getattr(event, "context", None)
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else DEFAULT_SECONDS
    deadline = time.monotonic() + max(remaining - MARGIN_SECONDS, 1)

    def run_job(message: Mapping[str, Any]) -> None:
        invoices.run_job(tenant=str(message["tenant"]), month=str(message["month"]), deadline=deadline)

    return each_message(event, run_job, what="invoice job")

"""voice_webhooks: delivery of call events to event.generic hooks, one message
per (call, hook) flush (``{"tenant", "call", "hook"}``): services.voice.events.flush
sends the pending events in order under a lease, and schedules its own retries."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.lazy import lazy
from chalicelib.workers.batch import BatchResponse, each_message

if TYPE_CHECKING:
    from chalicelib.services.voice import events
else:
    events = lazy("chalicelib.services.voice.events")


def handle(event: Any) -> BatchResponse:
    return each_message(event, process, what="voice webhook")


def process(message: Mapping[str, Any]) -> None:
    events.flush(message)

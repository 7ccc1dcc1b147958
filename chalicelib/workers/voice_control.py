"""voice_calls: call control, one message per voice call (``{"tenant", "call"}``).

services.voice.control.run claims the call with one conditional write
(queued -> initiated), so a message delivered twice runs the call once."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.lazy import lazy
from chalicelib.workers.batch import BatchResponse, each_message

if TYPE_CHECKING:
    from chalicelib.services.voice import control
else:
    control = lazy("chalicelib.services.voice.control")


def handle(event: Any) -> BatchResponse:
    return each_message(event, process, what="voice call")


def process(message: Mapping[str, Any]) -> None:
    control.run(tenant=str(message["tenant"]), call_id=int(message["call"]))

"""A voice call's control message again: SQS delivers at least once, and
brings a message back when its worker failed (an AWS error that outlived
botocore's retries, a crash, the function's timeout) after claiming the call.

The call's worker may have stopped anywhere after the claim: with the call
live (its state never written final), or ended but with its last steps not
done (an event's deliveries not recorded or not queued, the CDR not handed
off). ``again`` finishes what is missing, and every step of it happens
once however often the message comes: a live call whose worker is gone ends
``failed`` (one conditional write), each event's delivery records are written
only where missing (deliveries.put_deliveries keeps a record already there, with its
deliveryId), and the CDR is handed off unless the call records it (``cdr``)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Mapping

from chalicelib import clock
from chalicelib.services.voice import events
from chalicelib.store.voice import calls as call_store, deliveries as delivery_store

_log = logging.getLogger(__name__)
LIVE = ("initiated", "ringing", "answered")
# The voice_calls function's timeout (.chalice/config.json): a call claimed
# longer ago has no worker running it any more (SQS brings a failed message
# back after 960 s, the queue's visibility timeout).
CONTROL_SECONDS = 900
# History fields that are not the event's data.
_ENTRY_FIELDS = ("event", "at", "sequence")


def again(tenant: str, call: Mapping[str, Any]) -> str:
    """Handle the message of a call that is no longer queued; what was done."""
    state = call.get("state")
    if state in LIVE:
        claimed = _moment(call.get("initiatedAt"))
        now = clock.now().timestamp()
        if claimed is not None and now - claimed < CONTROL_SECONDS:
            return "skipped"  # its worker may still be running it (a duplicate message)
        history = list(call.get("history") or [])
        entry = {"event": "call.completed", "at": events.iso(now), "sequence": last_sequence(history) + 1,
                 "duration": 0, "cause": "internal-error", "state": "failed"}
        call_store.set_call(tenant, call["id"], {"state": "failed", "endedAt": entry["at"], "duration": 0,
                                                 "cause": "internal-error"},
                            expect_states=[state], append_history=[entry], expect_history=len(history))
        _log.warning("call %s: its worker stopped in state %s; ended failed", call["id"], state)
        call = call_store.get_call(tenant, call["id"]) or {}
        if call.get("state") in LIVE:
            return "skipped"  # its worker wrote in between: it is alive after all
    if call.get("state") in ("queued", "canceled", None) or not call.get("history"):
        return "skipped"
    resend(tenant, call)
    if not call.get("cdr"):
        from chalicelib.services.voice import cdr

        cdr.hand_off(tenant=tenant, call=call)
    return "finished"


def resend(tenant: str, call: Mapping[str, Any]) -> None:
    """Record the deliveries of the call's events that are missing, oldest
    first, and queue a flush for every hook with deliveries pending (a record
    written whose flush was never queued): nothing when all is there."""
    from chalicelib.services.voice.hooks import event_hooks
    from chalicelib.store import queues

    history = sorted((h for h in call.get("history") or [] if "sequence" in h), key=lambda h: h["sequence"])
    for hook in event_hooks(tenant, call["customerId"]):
        records = delivery_store.call_deliveries(tenant, hook["id"], call["id"])
        recorded = {int(r["seq"]) for r in records}
        missing = [entry for entry in history if int(entry["sequence"]) not in recorded]
        for entry in missing:
            at = _moment(entry.get("at"))
            events.emit(tenant=tenant, call=call, hooks=[hook], seq=int(entry["sequence"]), event=str(entry["event"]),
                        at=clock.now().timestamp() if at is None else at,
                        data={k: v for k, v in entry.items() if k not in _ENTRY_FIELDS})
        if not missing and any(r.get("status") == "pending" for r in records):
            queues.publish(events.QUEUE, {"tenant": tenant, "call": call["id"], "hook": hook["id"]})


def last_sequence(history: list[Mapping[str, Any]]) -> int:
    """The sequence number of the call's last history entry (0: none)."""
    return max((int(h["sequence"]) for h in history if "sequence" in h), default=0)


def _moment(text: Any) -> float | None:
    if not text:
        return None
    try:
        return datetime.strptime(str(text), clock.ISO_FORMAT).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None

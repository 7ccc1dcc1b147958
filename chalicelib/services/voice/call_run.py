"""One call's run as call control (services/voice/control.py) holds it: the
call record, its media server and hooks, the simulated time since it
started, and where its history stands; ``event`` records a step and sends
it to the hooks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from chalicelib.services.voice import events, recovery
from chalicelib.store.voice import calls as store


class Ended(Exception):
    """The call ends here, in ``state`` for ``cause`` (raised by any step of a run)."""

    def __init__(self, state: str, cause: str) -> None:
        super().__init__(cause)
        self.state, self.cause = state, cause


@dataclass
class CallRun:
    """One call as call control runs it: the record, its media server, its hooks,
    the simulated time, and where its history stands."""

    tenant: str
    call: dict[str, Any]
    media: Any
    hooks: list[Mapping[str, Any]]
    started: float
    offset: float = 0.0             # simulated seconds since the call started
    seq: int = 0
    answered_at: float | None = None
    control: int = 0
    history: int = 1                # entries in the call's history (call.queued)
    resend: bool = False            # an event's deliveries may not all be recorded (its emit failed)
    unsure: bool = False            # a history write raised: it may have been made
    verbs_run: list[dict[str, Any]] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)

    @property
    def now(self) -> float:
        return self.started + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += float(seconds)

    def _resync(self) -> None:
        history = (store.get_call(self.tenant, self.call["id"]) or {}).get("history") or []
        self.history = len(history)
        self.seq = recovery.last_sequence(history)
        self.unsure = False

    def event(self, name: str, data: Mapping[str, Any] | None = None, *, state: str | None = None,
              fields: Mapping[str, Any] | None = None) -> None:
        """Record a step on the call (history, state) and send it to the hooks.

        The history grows by one entry even when botocore sends the write
        twice (its answer lost), and the sequence has no gap: after a write
        whose outcome is unknown (it raised), the next step reads where the
        history stands."""
        if self.unsure:
            self._resync()
        seq = self.seq + 1
        entry = {"event": name, "at": events.iso(self.now), "sequence": seq, **(dict(data or {}))}
        changes: dict[str, Any] = dict(fields or {})
        if state:
            changes["state"] = state
            entry["state"] = state
        changes["verbsRun"] = self.verbs_run
        changes["digits"] = self.digits
        try:
            written = store.set_call(self.tenant, self.call["id"], changes, append_history=[entry],
                                     expect_history=self.history)
        except Exception:
            self.unsure = self.resend = True  # in the history or not; its deliveries not recorded
            raise
        if written:
            self.seq, self.history = seq, self.history + 1
        else:  # the history is not as this run left it: its own write, sent twice?
            self._resync()
            if self.seq != seq:
                raise RuntimeError(f"call {self.call['id']}: its history changed under call control")
        try:
            events.emit(tenant=self.tenant, call=self.call, hooks=self.hooks, seq=seq, event=name, at=self.now,
                        data={**(data or {}), **({"state": state} if state else {})})
        except Exception:
            self.resend = True  # the call ends (internal-error) and _finish records it again
            raise

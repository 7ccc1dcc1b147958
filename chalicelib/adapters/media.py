"""The media server behind call control: the interface a real one implements,
and the simulator that stands in for the telephone network here.

A ``MediaServer`` is asked to place a leg, play media, collect digits, bridge
and hang up; each answer says what happened and how long it took on the call's
clock (seconds). Call control (services/voice/control.py) turns those answers
into the call's states and events. A real adapter (a FreeSWITCH or Asterisk
ARI client, a CPaaS) is named by VOICE_MEDIA_ADAPTER=<module>:<class>;
the default is the simulator.

Targets are the call's target shapes (``phoneNumber``, ``sipUri``, ``device``,
``extension``). A leg to a customer's PBX — a device or extension target whose
device is a SIP_GATEWAY, and the gateway step of an inbound flow — also carries
``route`` (call control resolves it: ``services/voice/control.py``)::

    "sipUri": {"uri": "sip:201@203.0.113.10:5060"},          # the first of the uris
    "route": {"uris": ["sip:201@203.0.113.10:5060",          # one per gateway trunk, in the
                       "sip:201@[2001:db8::5]:5070"],       # gateway's order: try the next
              "trunks": ["<trunk id>", ...],                  # when one fails (failover)
              "present": "pass-through" | "mbn" | "withheld", # caller id presentation
              "record": false, "caller": "+44..."}            # the call's own caller

``caller_id`` is the number to present (already chosen by ``present``; with
``withheld`` the adapter withholds it, e.g. ``Privacy: id``). The answer's
``LegResult.route_index`` says which of the uris took the call.

SimulatorMediaServer — documented test numbers (docs/voice-api.md):
  +15005550001  busy                 +15005550002  no answer (rings until the timeout)
  +15005550003  fails (network)      +15005550006  answers and holds the line after the
                                                   verbs until the call is updated or ended
  +15005558<d>  answers; a gather collects the digits <d> (e.g. +150055581234 -> "1234")
  any other number, SIP URI, extension or device: answers after one ring (2 s) and the
  far end talks 20 s when bridged by a dial.
Simulated seconds pass as ``seconds x VOICE_SIMULATOR_SCALE`` of real time (0 by default: no waiting).
"""
from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

BUSY, NO_ANSWER, FAILED, ANSWERED = "busy", "no-answer", "failed", "answered"
HOLD_NUMBER = "+15005550006"
DIGITS_PREFIX = "+15005558"
RING_SECONDS = 2
TALK_SECONDS = 20
SPEECH_CHARS_PER_SECOND = 15


@dataclass
class LegResult:
    outcome: str                 # answered, busy, no-answer, failed
    ring_seconds: float
    cause: str = ""
    route_index: int = 0         # a routed target: which of route.uris took (or last tried) the call


@dataclass
class MediaResult:
    seconds: float
    digits: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class MediaServer(Protocol):
    """What call control needs of a media server (one instance per call)."""

    def originate(self, target: Mapping[str, Any], *, caller_id: str, ring_timeout: int) -> LegResult: ...

    def say(self, say: Mapping[str, Any]) -> MediaResult: ...

    def play(self, play: Mapping[str, Any]) -> MediaResult: ...

    def gather(self, gather: Mapping[str, Any], *, target: Mapping[str, Any]) -> MediaResult: ...

    def bridge(self, targets: list[Mapping[str, Any]], *, caller_id: str, timeout: int,
               time_limit: int) -> tuple[LegResult, MediaResult]: ...

    def holds_line(self, target: Mapping[str, Any]) -> bool: ...

    def wait(self, seconds: float) -> None: ...

    def hangup(self, reason: str) -> None: ...


def _number(target: Mapping[str, Any]) -> str:
    return str((target.get("phoneNumber") or {}).get("number") or "")


class SimulatorMediaServer:
    """The stand-in for a media server and the network behind it (see the module docstring)."""

    def __init__(self, scale: float | None = None) -> None:
        self.scale = float(os.environ.get("VOICE_SIMULATOR_SCALE", "0")) if scale is None else scale

    def wait(self, seconds: float) -> None:
        if self.scale > 0 and seconds > 0:
            time.sleep(seconds * self.scale)

    def _leg(self, target: Mapping[str, Any], ring_timeout: int) -> LegResult:
        # A PBX behind a SIP gateway answers as the call's own caller would: an inbound call
        # from a test number reaches the flow's onBusy / onNoAnswer / onFail branches.
        number = _number(target) or str((target.get("route") or {}).get("caller") or "")
        if number == "+15005550001":
            return LegResult(BUSY, 1, "user-busy")
        if number == "+15005550002":
            return LegResult(NO_ANSWER, ring_timeout, "no-answer")
        if number == "+15005550003":
            return LegResult(FAILED, 0, "network-failure")
        return LegResult(ANSWERED, min(RING_SECONDS, ring_timeout))

    def originate(self, target: Mapping[str, Any], *, caller_id: str, ring_timeout: int) -> LegResult:
        result = self._leg(target, ring_timeout)
        self.wait(result.ring_seconds)
        return result

    def say(self, say: Mapping[str, Any]) -> MediaResult:
        chars = sum(len(t) for t in say["text"]) * int(say.get("loop", 1))
        seconds = max(1.0, round(chars / SPEECH_CHARS_PER_SECOND, 1))
        self.wait(seconds)
        return MediaResult(seconds)

    def play(self, play: Mapping[str, Any]) -> MediaResult:
        seconds = 5.0 * int(play.get("loop", 1))
        self.wait(seconds)
        return MediaResult(seconds)

    def gather(self, gather: Mapping[str, Any], *, target: Mapping[str, Any]) -> MediaResult:
        number = _number(target)
        if number.startswith(DIGITS_PREFIX) and len(number) > len(DIGITS_PREFIX):
            pressed = number[len(DIGITS_PREFIX):]
            finish = gather.get("finishOnKey")
            if finish and finish in pressed:
                pressed = pressed[:pressed.index(finish)]
            digits = pressed[:int(gather["numDigits"])]
            seconds = float(len(digits))
            self.wait(seconds)
            return MediaResult(seconds, digits)
        self.wait(gather["timeout"])
        return MediaResult(float(gather["timeout"]), "", {"timedOut": True})

    def bridge(self, targets: list[Mapping[str, Any]], *, caller_id: str, timeout: int,
               time_limit: int) -> tuple[LegResult, MediaResult]:
        last = LegResult(FAILED, 0, "no-targets")
        for target in targets:  # sequentially, as a hunt group would
            last = self.originate(target, caller_id=caller_id, ring_timeout=timeout)
            if last.outcome == ANSWERED:
                talk = min(TALK_SECONDS, time_limit)
                self.wait(talk)
                return last, MediaResult(float(talk), detail={"target": target})
        return last, MediaResult(0.0)

    def holds_line(self, target: Mapping[str, Any]) -> bool:
        return _number(target) == HOLD_NUMBER

    def hangup(self, reason: str) -> None:
        return None


def is_simulator() -> bool:
    """Whether calls run on the simulator (no VOICE_MEDIA_ADAPTER, or ``simulator``)."""
    return os.environ.get("VOICE_MEDIA_ADAPTER", "") in ("", "simulator")


def simulator_endpoint() -> bool:
    """Whether the API's simulator endpoint (``POST /account/{id}/simulator/inbound``)
    exists: only with the simulator adapter, and only where VOICE_SIMULATOR_ENDPOINT=1
    (the local and test stages' default; off on deployed stages, where it would
    let any caller with the calls role start calls that nobody dialled)."""
    from chalicelib import settings

    default = "1" if settings.stage() in ("local", "test") else "0"
    return is_simulator() and os.environ.get("VOICE_SIMULATOR_ENDPOINT", default) == "1"


def media_server() -> MediaServer:
    """The configured adapter: VOICE_MEDIA_ADAPTER=<module>:<class>, else the simulator."""
    named = os.environ.get("VOICE_MEDIA_ADAPTER", "")
    if is_simulator():
        return SimulatorMediaServer()
    module, _, cls = named.partition(":")
    return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]

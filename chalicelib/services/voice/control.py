"""Call control: the voice-calls worker runs one call from ``queued`` to its end.

It claims the call (``queued`` -> ``initiated``, one conditional write: a
message delivered twice runs the call once; services/voice/recovery.py
handles the message again), places the first leg on the media
server, runs the verbs in order (re-reading the call between verbs, so a PUT's
new verbs or a DELETE take effect at the next verb; a PUT made while the call
was queued replaces the verbs it starts with, and one made as it ends still
runs: see ``_close``), and ends it with a final state, duration and cause.
Inbound calls (simulated to a DDI) run the account's flow from the ROUTE_START
of that DDI instead (legs to a PBX: services/voice/routing.py). Every step is an
event for the account's event.generic hooks (services/voice/events.py).
A completed call is handed to the CDR pipeline (services/voice/cdr.py).
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any, Callable, Mapping

from chalicelib import clock
from chalicelib.adapters import media as media_adapter
from chalicelib.domain import voice as rules
from chalicelib.observability import metrics
from chalicelib.services.voice import events, recovery, routing
from chalicelib.services.voice.call_run import CallRun, Ended
from chalicelib.services.voice.common import DEVICE_KIND, HOOK_KIND, oid
from chalicelib.store.voice import calls as call_store, children as child_store

_log = logging.getLogger(__name__)
HOLD_REAL_SECONDS = 30.0
MAX_FLOW_STEPS = 50
ANSWER_RING_TIMEOUT = 60


def run(*, tenant: str, call_id: int) -> str:
    """Run the call if it is still queued; the final state (or why nothing ran)."""
    from chalicelib.services.voice.hooks import event_hooks

    call = call_store.get_call(tenant, call_id)
    if call is None:
        return "skipped"
    if call.get("state") != "queued":
        return recovery.again(tenant, call)  # the message again: SQS delivers at least once
    started = clock.now().timestamp()
    if call.get("hangupRequested"):
        if call_store.set_call(tenant, call_id, {"state": "canceled", "endedAt": events.iso(started),
                                                 "cause": "api-hangup", "duration": 0}, expect_states=["queued"],
                               append_history=[{"event": "call.completed", "state": "canceled",
                                                "at": events.iso(started)}]):
            return "canceled"
        return "skipped"
    claim = uuid.uuid4().hex
    if not call_store.set_call(tenant, call_id, {"state": "initiated", "initiatedAt": events.iso(started),
                                                 "claimedBy": claim}, expect_states=["queued"]) \
            and (call_store.get_call(tenant, call_id) or {}).get("claimedBy") != claim:
        # Another delivery of the message got there first. (Not this one's own claim, which
        # botocore sent again after its answer was lost and found the call initiated.)
        return "skipped"
    # Control version 0 is the call as created: a PUT made while the call was
    # queued (before or during the claim) is a change this run has not seen yet.
    run_ = CallRun(tenant, call, media_adapter.media_server(), list(event_hooks(tenant, call["customerId"])), started,
                   control=0, history=len(call.get("history") or []))
    run_.event("call.initiated", state="initiated")
    state, cause = _attempt(run_, lambda: _inbound(run_) if call.get("direction") == "inbound" else _outbound(run_))
    return _finish(run_, *_close(run_, state, cause))


def _attempt(run_: CallRun, steps: Callable[[], None]) -> tuple[str, str]:
    """Run ``steps``; the state and cause the call ends with."""
    try:
        steps()
    except Ended as ended:
        return ended.state, ended.cause
    except Exception:  # noqa: BLE001 - the call must still end and say why
        _log.exception("call %s failed in call control", run_.call["id"])
        return "failed", "internal-error"
    return "completed", "normal-clearing"


def _close(run_: CallRun, state: str, cause: str) -> tuple[str, str]:
    """Mark the call closing if no PUT or DELETE came since the last check (one
    conditional write; both are 409 from then on). A PUT that did come runs
    first while the line is up (answered, ending by its own verbs): a 204 is
    never ignored. A call that never connected had nothing to run its verbs on."""
    for _ in range(MAX_FLOW_STEPS):
        if call_store.set_call(run_.tenant, run_.call["id"], {"closing": True}, expect_control=run_.control):
            break
        seen = run_.control
        try:
            verbs = _check_control(run_)
        except Ended:
            continue  # a DELETE: the call is ending already, as it is
        if run_.control == seen:
            break  # not a client's change (the call item is gone): nothing to run
        line_up = run_.answered_at is not None and state == "completed" and cause != "api-hangup"
        if verbs is not None and line_up:
            state, cause = _attempt(run_, lambda: _run_verbs(run_, verbs))
    return state, cause


def _finish(run_: CallRun, state: str, cause: str) -> str:
    if state == "completed" and run_.answered_at is None:
        state = "failed"
    duration = int(round(run_.now - run_.answered_at)) if run_.answered_at is not None else 0
    run_.media.hangup(cause)
    if run_.resend:
        recovery.resend(run_.tenant, call_store.get_call(run_.tenant, run_.call["id"]) or run_.call)
    run_.event("call.completed", {"duration": duration, "cause": cause}, state=state,
               fields={"endedAt": events.iso(run_.now), "duration": duration, "cause": cause})
    metrics.count("VoiceCalls", Outcome=state)
    if state != "canceled":
        # A failure here fails the message: SQS brings it back and recovery.again hands the CDR off.
        from chalicelib.services.voice import cdr

        cdr.hand_off(tenant=run_.tenant, call=call_store.get_call(run_.tenant, run_.call["id"]) or run_.call)
    return state


def _ring_and_answer(run_: CallRun, target: Mapping[str, Any], ring_timeout: int) -> None:
    run_.event("call.ringing", state="ringing")
    target = _resolved_target(run_, target)
    caller = routing.presented(run_.tenant, run_.call, target, run_.call.get("callerId") or "")
    leg = run_.media.originate(target, caller_id=caller, ring_timeout=ring_timeout)
    run_.advance(leg.ring_seconds)
    if "route" in target:
        _record_trunk(run_, target, leg)
    if leg.outcome != media_adapter.ANSWERED:
        raise Ended(leg.outcome, leg.cause or leg.outcome)
    run_.answered_at = run_.now
    run_.event("call.answered", state="answered", fields={"answeredAt": events.iso(run_.now)})


def _outbound(run_: CallRun) -> None:
    replaced = _check_control(run_)  # a PUT while the call was queued replaces the verbs it was created with
    _ring_and_answer(run_, run_.call["target"], ANSWER_RING_TIMEOUT)
    _run_verbs(run_, replaced if replaced is not None else list(run_.call["verbs"]))
    if run_.media.holds_line(run_.call["target"]):
        _hold(run_)


def _check_control(run_: CallRun) -> list[dict[str, Any]] | None:
    """New verbs from a PUT since the last check (None: none); Ended on a DELETE."""
    fresh = call_store.get_call(run_.tenant, run_.call["id"]) or {}
    version = int(fresh.get("controlVersion", 0))
    if version == run_.control:
        return None
    run_.control = version
    if fresh.get("hangupRequested"):
        raise Ended("completed" if run_.answered_at is not None else "canceled", "api-hangup")
    verbs = fresh.get("pendingVerbs")
    if verbs:
        run_.event("call.updated", {"verbs": len(verbs)})
        return list(verbs)
    return None


def _hold(run_: CallRun) -> None:
    # The hold test number keeps the line open until the client updates or ends the call.
    deadline = time.monotonic() + HOLD_REAL_SECONDS
    while time.monotonic() < deadline:
        verbs = _check_control(run_)
        if verbs:
            _run_verbs(run_, verbs)
            deadline = time.monotonic() + HOLD_REAL_SECONDS
        time.sleep(0.1)
    raise Ended("completed", "hold-timeout")


def _run_verbs(run_: CallRun, verbs: list[dict[str, Any]]) -> None:
    index = 0
    while index < len(verbs):
        replaced = _check_control(run_)
        if replaced is not None:
            verbs, index = replaced, 0
            continue
        (name, config), = verbs[index].items()
        began = run_.now
        outcome = _verb(run_, name, config)
        run_.verbs_run.append({"index": index, "verb": name, "startedAt": events.iso(began),
                               "endedAt": events.iso(run_.now), **({"outcome": outcome} if outcome else {})})
        run_.event("call.verb", {"index": index, "verb": name, **({"outcome": outcome} if outcome else {})})
        if name == "redirect":
            redirected = _redirect(run_, config)
            if redirected is not None:
                verbs, index = redirected, 0
                continue
        index += 1


def _verb(run_: CallRun, name: str, config: Mapping[str, Any]) -> str | None:
    if name == "say":
        run_.advance(run_.media.say(config).seconds)
    elif name == "play":
        run_.advance(run_.media.play(config).seconds)
    elif name == "gather":
        for prompt in config.get("prompt", []):
            (kind, media), = prompt.items()
            run_.advance(getattr(run_.media, kind)(media).seconds)
        result = run_.media.gather(config, target=run_.call.get("target") or {})
        run_.advance(result.seconds)
        run_.digits.append(result.digits)
        run_.event("call.gather", {"digits": result.digits, "timedOut": not result.digits})
        return "digits" if result.digits else "timeout"
    elif name == "dial":
        targets = [_resolved_target(run_, t) for t in config["targets"]]
        # One presentation for the hunt: the first gateway's, if any target is one.
        gateway = next((t for t in targets if "route" in t), {})
        caller = routing.presented(run_.tenant, run_.call, gateway,
                                   config.get("callerId") or run_.call.get("callerId") or "")
        leg, talk = run_.media.bridge(targets, caller_id=caller, timeout=config["timeout"],
                                      time_limit=config["timeLimit"])
        run_.advance(leg.ring_seconds + talk.seconds)
        return leg.outcome
    elif name == "hangup":
        raise Ended("completed", config.get("reason", "normal"))
    elif name == "reject":
        raise Ended("busy" if config.get("reason") == "busy" else "failed", f"rejected-{config.get('reason')}")
    return None


def _resolved_target(run_: CallRun, target: Mapping[str, Any]) -> Mapping[str, Any]:
    resolved = routing.resolved_target(run_.tenant, run_.call, target)
    if resolved is None:
        raise Ended("failed", "gateway-has-no-trunk")
    return resolved


def _record_trunk(run_: CallRun, target: Mapping[str, Any], leg: media_adapter.LegResult) -> None:
    """The call's CDR counts on the gateway trunk that took the leg (after any failover)."""
    trunks = target["route"]["trunks"]
    used = trunks[min(max(leg.route_index, 0), len(trunks) - 1)]
    if run_.call.get("trunkRef") != used:
        run_.call["trunkRef"] = used
        call_store.set_call(run_.tenant, run_.call["id"], {"trunkRef": used})


def _redirect(run_: CallRun, config: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    if "hook" in config:
        return _ask_flow_hook(run_, config["hook"], timeout=5)
    device = _device(run_, config["device"])
    if device is None:
        raise Ended("completed", "redirect-to-unknown-device")
    _walk_flow(run_, config["device"])
    raise Ended("completed", "normal-clearing")


def _device(run_: CallRun, ref: str) -> dict[str, Any] | None:
    number = rules.parse_opaque_id(run_.tenant, DEVICE_KIND, ref, uuid=True)
    return child_store.child(child_store.DEVICE, run_.tenant, run_.call["customerId"], number)


def _ask_flow_hook(run_: CallRun, hook_ref: str, *, timeout: int) -> list[dict[str, Any]] | None:
    """POST the call to a flow.generic hook; its answer ``{"verbs": [...]}`` replaces the verbs."""
    from chalicelib.adapters import webhooks
    from chalicelib.services.voice.hooks import credentials_of

    number = rules.parse_opaque_id(run_.tenant, HOOK_KIND, hook_ref, uuid=True)
    hook = child_store.child(child_store.HOOK, run_.tenant, run_.call["customerId"], number)
    if hook is None or hook.get("app") != rules.FLOW_APP:
        return None
    body = json.dumps({"call": {"id": oid(run_.tenant, "VCALL", run_.call["id"]), "from": run_.call.get("callerId"),
                                "to": run_.call.get("to"), "digits": run_.digits,
                                "tag": run_.call.get("tag", {"data": {}})}}).encode()
    answer = webhooks.fetch_verbs(hook={**hook, "credentials": credentials_of(hook)}, body=body, timeout=timeout)
    if answer is not None and not routing.presents_own_numbers(run_.tenant, run_.call, answer):
        answer = None  # refused as a call's verbs would be (services/voice/calls.py): the hook failed
    run_.event("call.flow-hook", {"hook": hook_ref, "ok": answer is not None})
    return answer


def _inbound(run_: CallRun) -> None:
    """The account's flow from the DDI's ROUTE_START (answered by the platform)."""
    run_.answered_at = run_.now
    run_.event("call.answered", state="answered", fields={"answeredAt": events.iso(run_.now)})
    _take_over(run_)
    start = run_.call.get("startDevice")
    if not start:
        raise Ended("completed", "no-route")
    _walk_flow(run_, start)


def _take_over(run_: CallRun) -> None:
    """A PUT's verbs replace an inbound call's flow: they run, then the call ends."""
    verbs = _check_control(run_)
    if verbs is not None:
        _run_verbs(run_, verbs)
        raise Ended("completed", "normal-clearing")


def _walk_flow(run_: CallRun, first: str) -> None:
    current: str = first
    for _ in range(MAX_FLOW_STEPS):
        if current == rules.HANGUP:
            raise Ended("completed", "normal-clearing")
        _take_over(run_)
        device = _device(run_, current)
        if device is None:
            raise Ended("completed", "device-missing")
        kind = device["type"]
        section = device[rules.DEVICE_TYPES[kind]]
        run_.event("call.device", {"device": current, "type": kind, "name": device.get("name")})
        if kind == rules.ROUTE_START or kind == rules.ANNOUNCEMENT:
            if kind == rules.ANNOUNCEMENT:
                media = section.get("say") or section.get("play")
                run_.advance((run_.media.say if "say" in section else run_.media.play)(media).seconds)
            current = section["connectTo"]
        elif kind == rules.TIME_SWITCH:
            current = section["onMatch"] if routing.in_ranges(section, run_.now) else section["onNoMatch"]
        elif kind == rules.MENU:
            run_.advance(run_.media.say(section["say"]).seconds)
            result = run_.media.gather({"numDigits": 1, "timeout": section["timeout"]},
                                       target={"phoneNumber": {"number": run_.call.get("callerId") or ""}})
            run_.advance(result.seconds)
            run_.digits.append(result.digits)
            run_.event("call.gather", {"digits": result.digits, "timedOut": not result.digits})
            current = section["options"].get(result.digits[:1], section["onNoInput"]) if result.digits else \
                section["onNoInput"]
        elif kind == rules.FLOW_HOOK:
            verbs = _ask_flow_hook(run_, section["hook"], timeout=section["timeout"])
            if verbs is None:
                current = section["onFail"]
                continue
            _run_verbs(run_, verbs)
            raise Ended("completed", "normal-clearing")
        elif kind == rules.SIP_GATEWAY:
            # The PBX is asked for the number the caller dialled (the DDI, E.164 digits).
            dialled = str(run_.call.get("to") or "").lstrip("+")
            target = routing.gateway_target(run_.tenant, run_.call, device, dialled)
            if target is None:  # its trunks are gone: the leg fails
                run_.event("call.bridged", {"device": current, "outcome": media_adapter.FAILED})
                current = section["onFail"]
                continue
            caller = routing.presented(run_.tenant, run_.call, target, run_.call.get("callerId") or "")
            leg, talk = run_.media.bridge([target], caller_id=caller, timeout=section["ringTime"],
                                          time_limit=section["maxCallTime"])
            run_.advance(leg.ring_seconds + talk.seconds)
            _record_trunk(run_, target, leg)
            run_.event("call.bridged", {"device": current, "outcome": leg.outcome})
            current = {"answered": section["onComplete"], "busy": section["onBusy"],
                       "no-answer": section["onNoAnswer"]}.get(leg.outcome, section["onFail"])
    raise Ended("completed", "flow-step-limit")

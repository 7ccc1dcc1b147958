"""Webhook delivery of call events (voice API) with a fault at each AWS call.

The contract (docs/voice-api.md, "Events"): a webhook is delivered at least
once, with a stable id (``Dialtone-Delivery-Id``, also ``deliveryId`` in the
body): a retry sends the same id and the same body, so the receiver
de-duplicates on it, as Stripe's and Twilio's receivers do. Events of one
call reach a hook in order (the first arrival of each), a delivery is
``delivered`` only once a 2xx answered it, and one that fails every attempt is
``dead-lettered`` with a message on the voice-webhooks-dead queue.

The flows: a call runs (call control, without faults, or with them in the
second flow) and its events go to two hooks of the account, one answering 204
(but 500 to the first try of each call's second event, so the retry path is in
the flow) and one always 500 (dead letters). The ``voice_webhooks`` consumer
(and in the second flow ``voice_calls``, whose events it delivers) gets the
fault; afterwards SQS redelivers what was not acknowledged, the clock moved on
by the queue's visibility timeout, until nothing is in flight. Then, for every
call so far: each event is recorded once per hook, the 204 hook got each at
least once with the recorded body, in order, and every recorded attempt was a
real request; the 500 hook's events are dead-lettered after exactly the
configured attempts, each with its message on the dead queue."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.injection.fault_sweep import sweep
from tests.support.injection.faults import LOST_ANSWER, Fault, Faults
from tests.support.injection.webhook_flows import WebhookDelivery
from tests.support.surfaces.voice_queues import Receiver, Sqs


class CallEvents(WebhookDelivery):
    """The events' side: call control records each event and queues its
    flushes (services/voice/events.emit) with the fault; the delivery consumer
    then runs in the same (faulty) process."""
    name = "voice call events (recorded and queued)"
    faulty = ("voice_calls", "voice_webhooks")


@pytest.mark.parametrize("flow_class,offset", [(WebhookDelivery, 2), (CallEvents, 5)], ids=["delivery", "call-events"])
def test_webhook_events_survive_a_fault_at_each_aws_call(tenant: dict[str, Any], flow_class: type[WebhookDelivery],
                                                        offset: int,
                                                        receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    """The delivery consumer alone with the fault, then call control and it together (CallEvents)."""
    flow = flow_class(tenant, *receivers)
    with Faults() as faults:
        coverage = sweep(faults, flow, offset=offset, sample=6)
    assert coverage.calls and coverage.injected == coverage.scenarios


def _with_one_fault(flow: WebhookDelivery, fault_at: str, kind: str, *, nth: int = 0, last: bool = False,
                    persistent: bool = True) -> list[str]:
    """A clean run of the flow, then one with ``kind`` at the nth (or last) call
    named ``fault_at``; SQS settles, and the flow's invariants must hold."""
    from tests.support.injection.faults import Crash

    with Faults() as faults:
        ctx = flow.prepare()
        faults.record()
        flow.act(ctx)
        flow.check()
        named = [n for n, name in enumerate(faults.calls) if name == fault_at]
        index = named[-1] if last else named[nth]
        ctx = flow.prepare()
        faults.arm(Fault(kind, index, persistent=persistent))
        try:
            flow.act(ctx)
        except Crash:
            pass
        finally:
            faults.arm(None)
        fired = list(faults.fired)
    flow.recover(ctx)
    flow.check()
    return fired


def test_a_lease_whose_answer_was_lost_is_still_the_workers(tenant: dict[str, Any],
                                                           receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    """Taking the (call, hook) lease commits, its answer is lost, botocore's
    retry finds the lease held, by this very worker: it goes on (it used to
    take itself for another worker and drop the message: the call's events
    waited for a message that never came)."""
    flow = WebhookDelivery(tenant, *receivers, hook_names=("up",))
    with Faults() as faults:
        call = flow.prepare()
        faults.record()
        flow.act(call)
        take = faults.calls.index("dynamodb.UpdateItem")
        call = flow.prepare()
        faults.arm(Fault(LOST_ANSWER, take, persistent=False))
        flow.sqs.drain("voice_webhooks")  # no redelivery, no retry: the first pass sends
        assert faults.fired == [f"lost_answer(once)@{take} at dynamodb.UpdateItem"]
    sent = {b["sequence"] for b in receivers[0].first_arrivals() if b["deliveryId"] in _ids(flow, "up", call)}
    assert sent == {1, 2}  # the first event and the second one's first try (answered 500)
    flow.recover(call)
    flow.check()


def _ids(flow: WebhookDelivery, hook: str, call_id: int) -> set[str]:
    from chalicelib.store.voice import deliveries as store

    return {d["deliveryId"] for d in store.deliveries_of_hook(flow.tenant, flow.hooks[hook], limit=1000)
            if d["callId"] == call_id}


def test_an_attempt_whose_record_answer_was_lost_counts_once(tenant: dict[str, Any],
                                                             receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    """The write of an attempt commits, its answer is lost, botocore sends it
    again: one request, one attempt recorded (the second append made it two,
    and a failing hook was dead-lettered an attempt early)."""
    flow = WebhookDelivery(tenant, *receivers, hook_names=("up",))
    fired = _with_one_fault(flow, "dynamodb.UpdateItem", LOST_ANSWER, nth=1, persistent=False)
    assert fired and "lost_answer(once)" in fired[0]


def test_a_worker_dying_with_the_lease_loses_no_event(tenant: dict[str, Any],
                                                      receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    """The process dies in the middle of a pass, holding the lease for 120 s;
    SQS brings its message back after 120 s, when the lease is still held: the
    message comes again when the lease ends (it used to be dropped, and the
    call's remaining events were never sent)."""
    from tests.support.injection.faults import CRASH

    flow = WebhookDelivery(tenant, *receivers, hook_names=("up",))
    fired = _with_one_fault(flow, "dynamodb.UpdateItem", CRASH, nth=2)
    assert fired and fired[0].startswith("crash@")


def test_a_dead_letter_whose_message_failed_is_dead_lettered_again(tenant: dict[str, Any],
                                                                   receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    """The dead-queue message of a delivery that failed its last attempt cannot
    be sent: the delivery is not marked dead-lettered without it (it was), so it
    is tried once more and dead-lettered with its message."""
    from tests.support.injection.faults import SERVER_ERROR

    fired = _with_one_fault(WebhookDelivery(tenant, *receivers), "sqs.SendMessage", SERVER_ERROR, last=True)
    assert fired and "sqs.SendMessage" in fired[0]


def test_a_call_whose_worker_died_after_the_claim_ends_and_says_so(tenant: dict[str, Any],
                                                                  receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    """Call control dies after claiming the call (before its first event's
    deliveries are written): SQS brings the message back after 960 s, and the
    call, which used to stay ``initiated`` for good (the message skipped any
    call not queued), ends ``failed`` with its call.completed delivered and its
    CDR handed off."""
    from chalicelib.store.voice import calls as store
    from tests.support.injection.faults import CRASH

    flow = CallEvents(tenant, *receivers, hook_names=("up",))
    fired = _with_one_fault(flow, "dynamodb.PutItem", CRASH)
    assert fired and "dynamodb.PutItem" in fired[0]
    call = store.get_call(flow.tenant, flow.calls[-1]) or {}
    assert (call["state"], call["cause"]) == ("failed", "internal-error")
    assert [h["event"] for h in call["history"]] == ["call.queued", "call.initiated", "call.completed"]


def test_a_live_call_is_taken_for_dead_only_after_its_worker_must_have_stopped() -> None:
    """recovery.CONTROL_SECONDS is the voice_calls function's timeout on every
    stage (a worker still running is never taken for dead), and the queue
    brings a failed message back only after it (so the redelivery ends the call)."""
    import json
    from pathlib import Path

    from chalicelib.services.voice import recovery

    root = Path(__file__).resolve().parents[2]
    stages = json.loads((root / ".chalice" / "config.json").read_text())["stages"]
    assert {name: stage["lambda_functions"]["voice_calls"]["lambda_timeout"] for name, stage in stages.items()} == \
        {name: recovery.CONTROL_SECONDS for name in stages}
    queue = json.loads((root / "infra" / "resources.json").read_text())["Resources"]["VoiceCallsQueue"]
    assert queue["Properties"]["VisibilityTimeout"] > recovery.CONTROL_SECONDS


def test_a_call_whose_claim_answer_was_lost_still_runs(tenant: dict[str, Any],
                                                       receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    """The claim (queued -> initiated, conditional) commits, its answer is
    lost, botocore's retry finds the call initiated: the claim is this
    worker's own, and the call runs (it was taken for another delivery's and
    skipped: the call stayed initiated for good; found by the full sweep)."""
    from chalicelib.store.voice import calls as store

    flow = CallEvents(tenant, *receivers, hook_names=("up",))
    fired = _with_one_fault(flow, "dynamodb.UpdateItem", LOST_ANSWER, persistent=False)
    assert fired and fired[0].startswith("lost_answer(once)@1 at dynamodb.UpdateItem")
    assert (store.get_call(flow.tenant, flow.calls[-1]) or {})["cause"] == "user-busy"  # it ran, as it would have


def test_a_step_whose_write_answer_was_lost_leaves_no_gap_and_no_stuck_call(
        tenant: dict[str, Any], receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    """The write of call.ringing commits but every answer is lost (botocore
    gives up): the call ends failed with call.ringing in its history once,
    delivered, and call.completed next in sequence (call control used to
    write call.completed as the ringing step's sequence, conditional on a
    history that had moved on: it stayed ringing for good; found by the full sweep)."""
    from chalicelib.store.voice import calls as store

    flow = CallEvents(tenant, *receivers, hook_names=("up",))
    fired = _with_one_fault(flow, "dynamodb.UpdateItem", LOST_ANSWER, nth=2)
    assert fired and fired[0].startswith("lost_answer@") and fired[0].endswith(" at dynamodb.UpdateItem")
    call = store.get_call(flow.tenant, flow.calls[-1]) or {}
    assert [h["event"] for h in call["history"]] == ["call.queued", "call.initiated", "call.ringing", "call.completed"]
    assert (call["state"], call["cause"]) == ("failed", "internal-error")

"""Call events to event.generic hooks: recorded, then delivered in order.

``emit`` (call control) writes one delivery record per event and hook (the
delivery log, deliveries.put_deliveries) and queues a flush of that (call, hook) on
the voice-webhooks queue, hooks in priority order.

What order is guaranteed: per (call, hook), strictly the call's order
(``sequence``): the flush sends the pending events oldest first under the
(call, hook) lease and stops at the first failure, so event n+1 never reaches
a hook before event n has (or has been dead-lettered). Nothing more: each hook
has its own deliveries, messages and retries, so a hook of lower priority may
get an event before one of higher priority (priority only orders the records
and messages emit writes, a head start), one hook's failures never hold back
another's, and events of different calls are independent of each other.

``flush`` (the webhook worker) takes the (call, hook) lease and sends the
pending events oldest first, each signed (adapters/webhooks.py). The first
failure stops the pass (later events never overtake an earlier one): the lease
records the attempt and when the next is due, and a delayed message brings the
retry (backoff VOICE_WEBHOOK_BACKOFF, seconds; default 30 s doubling to 15 min,
then every 15 min: about 5.5 hours). A delivery that fails every attempt is
marked ``dead-lettered`` and sent to the voice-webhooks-dead queue; the events
after it carry on. A delivery succeeds once: its record turns ``delivered`` and
is never sent again.
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from chalicelib import clock
from chalicelib.observability import metrics
from chalicelib.services.voice.common import CALL_KIND, HOOK_KIND, oid
from chalicelib.store import queues
from chalicelib.store.voice import children as child_store, deliveries as delivery_store

_log = logging.getLogger(__name__)
QUEUE = "voice_webhooks"
DEAD_QUEUE = "voice_webhooks_dead"
LEASE_SECONDS = 120
DEFAULT_BACKOFF = (30, 60, 120, 300, 600) + (900,) * 20


def backoff() -> tuple[int, ...]:
    text = os.environ.get("VOICE_WEBHOOK_BACKOFF", "")
    if not text:
        return DEFAULT_BACKOFF
    return tuple(min(900, max(0, int(v))) for v in text.split(",") if v.strip())


def max_attempts() -> int:
    return len(backoff()) + 1


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def emit(*, tenant: str, call: Mapping[str, Any], hooks: Sequence[Mapping[str, Any]], seq: int, event: str,
         at: float, data: Mapping[str, Any]) -> None:
    """Record event ``seq`` of the call for every hook and queue their flushes."""
    if not hooks:
        return
    from chalicelib.domain import voice as rules

    call_ref = oid(tenant, CALL_KIND, call["id"])
    account = rules.opaque_id(tenant, "ACCOUNT", call["customerId"])
    rows = []
    for hook in hooks:
        delivery_id = str(uuid.uuid4())
        body = {"deliveryId": delivery_id, "event": event, "sequence": seq, "occurredAt": iso(at),
                "account": account, "hook": oid(tenant, HOOK_KIND, hook["id"]),
                "call": {"id": call_ref, "direction": call.get("direction", "outbound"),
                         "from": call.get("callerId"), "to": call.get("to"), "tag": call.get("tag", {"data": {}})},
                "data": dict(data)}
        rows.append({"hookId": hook["id"], "callId": call["id"], "seq": seq, "deliveryId": delivery_id,
                     "event": event, "callRef": call_ref, "body": json.dumps(body, separators=(",", ":")),
                     "createdAt": iso(clock.now().timestamp())})
    delivery_store.put_deliveries(tenant, rows)
    queues.publish_batch(QUEUE, [{"tenant": tenant, "call": call["id"], "hook": h["id"]} for h in hooks])


def flush(message: Mapping[str, Any]) -> dict[str, int]:
    """Deliver a call's pending events to one hook, in order (see the module docstring)."""
    from chalicelib.adapters import webhooks
    from chalicelib.services.voice.hooks import credentials_of
    from chalicelib.store.dynamo import entities

    tenant, call_id, hook_id = str(message["tenant"]), int(message["call"]), int(message["hook"])
    owner = uuid.uuid4().hex
    sent = failed = 0
    while True:
        lease = delivery_store.take_lease(tenant, call_id, hook_id, owner, LEASE_SECONDS)
        if lease is None:  # another worker, or a scheduled retry, has it
            _pass_on(tenant, call_id, hook_id)
            return {"sent": sent, "failed": failed}
        hook = entities.get_one(child_store.HOOK, tenant, hook_id)
        pending = delivery_store.pending_deliveries(tenant, hook_id, call_id)
        if hook is None:  # deleted: nothing is sent to it any more
            for delivery in pending:
                delivery_store.record_attempt(tenant, delivery,
                                              {"at": iso(clock.now().timestamp()), "error": "hook deleted"}, "canceled")
            delivery_store.set_lease(tenant, call_id, hook_id, owner, attempt=0, release=True)
            return {"sent": sent, "failed": failed}
        if not pending:
            delivery_store.set_lease(tenant, call_id, hook_id, owner, attempt=0, release=True)
            if not delivery_store.pending_deliveries(tenant, hook_id, call_id):
                return {"sent": sent, "failed": failed}
            continue  # an event landed between the read and the release
        for delivery in pending:
            # Its failed attempts as its record counts them (a pending delivery's attempts all
            # failed); a count kept beside it would miss one whose write failed after the attempt.
            attempt = len(delivery.get("attempts") or [])
            outcome = webhooks.deliver(url=hook["url"], method=hook.get("method", "POST"),
                                       body=delivery["body"].encode(), secret=hook["signingSecret"],
                                       delivery_id=delivery["deliveryId"], auth_type=hook.get("authType", "DISABLED"),
                                       credentials=credentials_of(hook))
            record = {"at": iso(clock.now().timestamp()), "status": outcome.status, "error": outcome.error,
                      "ms": outcome.ms}
            if outcome.ok:
                delivery_store.record_attempt(tenant, delivery, record, "delivered")
                metrics.count("WebhookDeliveries", Outcome="delivered")
                sent += 1
                continue
            failed += 1
            attempt += 1
            if attempt >= max_attempts():
                # The dead-queue message first: a failure between the two leaves the delivery
                # pending, tried once more and dead-lettered again (the same deliveryId twice
                # on the dead queue), never dead-lettered without its message.
                queues.publish(DEAD_QUEUE, {"tenant": tenant, "hook": hook_id, "call": call_id,
                                            "deliveryId": delivery["deliveryId"], "event": delivery["event"],
                                            "attempts": attempt, "lastError": outcome.error})
                delivery_store.record_attempt(tenant, delivery, {**record, "final": True}, "dead-lettered")
                metrics.count("WebhookDeliveries", Outcome="dead")
                continue
            delivery_store.record_attempt(tenant, delivery, record, "pending")
            metrics.count("WebhookDeliveries", Outcome="retried")
            delay = backoff()[attempt - 1]
            # The retry's message before the lease says a retry is due: a lease with a
            # future nextAt always has its message in the queue (see _pass_on). And nextAt
            # read before the message is sent, so the message never comes before it.
            next_at = clock.epoch() + delay
            queues.publish(QUEUE, {"tenant": tenant, "call": call_id, "hook": hook_id}, delay_seconds=delay)
            delivery_store.set_lease(tenant, call_id, hook_id, owner, attempt=attempt, next_at=next_at, release=True)
            return {"sent": sent, "failed": failed}
        delivery_store.set_lease(tenant, call_id, hook_id, owner, attempt=0, release=True)


def _pass_on(tenant: str, call_id: int, hook_id: int) -> None:
    """The lease was refused: make sure a message comes for the events still pending.

    A retry that is due later (``nextAt`` ahead) has its delayed message in the
    queue already. A lease held by a worker may be a dead one's (a crash, a
    timeout, an AWS error that ended the pass): SQS brings its message back
    after the visibility timeout, which is no longer than the lease, so that
    message would find the lease still held and be dropped, and the call's
    remaining events would never be sent. So while events are pending, this
    message is sent again for when the lease ends: at worst one extra message
    that finds nothing to do."""
    lease = delivery_store.get_lease(tenant, call_id, hook_id) or {}
    now = clock.epoch()
    if int(lease.get("nextAt", 0)) > now or not delivery_store.pending_deliveries(tenant, hook_id, call_id):
        return
    delay = min(900, max(1, int(lease.get("until", 0)) - now + 1))
    queues.publish(QUEUE, {"tenant": tenant, "call": call_id, "hook": hook_id}, delay_seconds=delay)

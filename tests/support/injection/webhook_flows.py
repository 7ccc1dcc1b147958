"""The voice webhook flow the fault sweeps and the twice-and-out-of-order
tests drive (tests/faults/test_webhook_faults.py, test_voice_twice.py): a call
runs and its events go to two hooks of the account, one answering 204 (but
500 to the first try of each call's second event) and one always 500; the
checks after it are the delivery contract of docs/voice-api.md, "Events"."""
from __future__ import annotations

from typing import Any

from tests.support.injection.fault_sweep import Flow
from tests.support.surfaces.voice import DOCUMENT_NUMBER, EVENT_HOOK, EXAMPLE_1, TRUNK, account_ref, make_account
from tests.support.surfaces.voice_queues import Receiver, Sqs

BUSY = {**EXAMPLE_1, "target": {"phoneNumber": {"number": "+15005550001"}}}  # initiated, ringing, completed


class WebhookDelivery(Flow):
    name = "voice webhook delivery"
    faulty = ("voice_webhooks",)  # the consumers run in act(); the others run cleanly in prepare()

    def __init__(self, tenant: dict[str, Any], up: Receiver, down: Receiver, sqs: Sqs, *,
                 hook_names: tuple[str, ...] = ("up", "down")) -> None:
        self.up, self.down, self.sqs, self.hook_names = up, down, sqs, hook_names
        self._start(tenant)

    def _start(self, tenant: dict[str, Any]) -> None:
        from chalicelib.auth import api_key
        from chalicelib.services.voice import events, hooks, trunks
        from chalicelib.store import queues

        self.principal = api_key.authenticate(tenant["user"]["api_key"], None)
        self.tenant = self.principal.tenant_id
        self.account = account_ref(self.principal, make_account(self.principal, name="Hooked Co",
                                                                 own_numbers=(DOCUMENT_NUMBER,)))
        trunks.create_trunk(principal=self.principal, account=self.account, body=TRUNK)  # the calls' CDRs name it
        self.hooks: dict[str, int] = {}
        for name, receiver, priority in (("up", self.up, 1), ("down", self.down, 2))[:len(self.hook_names)]:
            record, _ = hooks.create_hook(principal=self.principal, account=self.account,
                                          body={**EVENT_HOOK, "url": receiver.url, "priority": priority})
            self.hooks[name] = record["id"]
        for queue in (*Sqs.QUEUES, events.DEAD_QUEUE):
            queues.queue_url(queue)  # looked up once per process: not a call of the flows
        self.calls: list[int] = []
        self.dead: set[str] = set()

    def renew(self) -> None:
        from chalicelib.services.identity import users
        from tests.support.harness.in_process import empty_aws

        empty_aws()
        self._start(users.create_tenant(name="Test Tenant"))

    def prepare(self) -> int:
        from chalicelib.services.voice import calls

        call = calls.create_call(principal=self.principal, account=self.account, body=BUSY)
        self.calls.append(call["id"])
        for queue in Sqs.QUEUES:
            if queue not in self.faulty:
                self.sqs.drain(queue)
        return int(call["id"])

    def act(self, ctx: int) -> None:
        for queue in Sqs.QUEUES:
            if queue in self.faulty:
                self.sqs.drain(queue)
        self.sqs.settle()  # the retries (delayed messages) and redeliveries, in the same faulty process

    def recover(self, ctx: int) -> None:
        self.sqs.settle()

    def check(self) -> None:
        from chalicelib.services.voice import events
        from chalicelib.services.voice.cdr import DISPOSITIONS
        from chalicelib.store.voice import calls as call_store, deliveries as delivery_store

        self.dead |= {m["deliveryId"] for m in self.sqs.purge(events.DEAD_QUEUE)}
        up, down = self.up.received(), self.down.received()
        first_up = self.up.first_arrivals()
        logs = {name: delivery_store.deliveries_of_hook(self.tenant, hook, limit=10_000)
                for name, hook in self.hooks.items()}
        for call_id in self.calls:
            call = call_store.get_call(self.tenant, call_id) or {}
            assert call.get("state") in DISPOSITIONS, f"call {call_id} did not end: {call.get('state')}"
            sequences = [h["sequence"] for h in call["history"] if h["event"] != "call.queued"]
            assert sequences == list(range(1, len(sequences) + 1)) and sequences, call["history"]
            self._check_cdr(call)
            for name, received in (("up", up), ("down", down))[:len(self.hooks)]:
                log = [d for d in logs[name] if d["callId"] == call_id]
                assert sorted(d["seq"] for d in log) == sequences, f"{name}: events recorded {log}"
                for record in log:
                    got = received.get(record["deliveryId"], [])
                    attempts = record["attempts"]
                    # Every attempt recorded is a request the receiver got (none counted twice) ...
                    assert len(attempts) <= len(got), f"{name}: {len(attempts)} attempts, {len(got)} requests"
                    # ... and every request carried the recorded body under the recorded id.
                    assert set(got) <= {record["body"].encode()}, f"{name}: a retry changed the body"
                    if name == "up":
                        assert record["status"] == "delivered", f"up: {record['seq']} is {record['status']}"
                        assert got and 200 <= int(attempts[-1]["status"] or 0) < 300, attempts
                        assert all(not 200 <= int(a["status"] or 0) < 300 for a in attempts[:-1]), attempts
                    else:
                        assert record["status"] == "dead-lettered", f"down: {record['seq']} is {record['status']}"
                        assert len(attempts) == events.max_attempts(), attempts
                        assert record["deliveryId"] in self.dead, "dead-lettered without its dead-queue message"
                if name == "up":
                    ids = {d["deliveryId"] for d in log}
                    order = [b["sequence"] for b in first_up if b["deliveryId"] in ids]
                    assert order == sorted(order), f"call {call_id}: a later event overtook an earlier one: {order}"


    def _check_cdr(self, call: dict[str, Any]) -> None:
        """The call's CDR is in the tenant's inbox, once (its key is the call's), with the call's row."""
        import csv
        import io

        from chalicelib import settings
        from chalicelib.services.calls import inbox
        from chalicelib.services.voice.cdr import DISPOSITIONS
        from chalicelib.services.voice.common import CALL_KIND, oid
        from chalicelib.store.clients import client

        name = f"voice-{oid(self.tenant, CALL_KIND, call['id'])}"
        assert call.get("cdr") == inbox.inbox_key(self.tenant, f"{name}.csv"), f"call {call['id']}: no CDR"
        body = client("s3").get_object(Bucket=settings.blob_bucket(), Key=call["cdr"])["Body"].read().decode()
        rows = list(csv.DictReader(io.StringIO(body)))
        assert [(r["call_id"], r["disposition"]) for r in rows] == [(name, DISPOSITIONS[call["state"]])]

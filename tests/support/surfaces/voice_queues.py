"""The voice pipeline in process, as Lambda and SQS run it: the queue
consumers invoked by their handlers with batches received from the (moto)
queues, and an HTTP receiver on 127.0.0.1 standing for a customer's
event.generic hook.

:class:`Sqs` keeps what Lambda's event source mapping would: a message whose
record the handler reported in ``batchItemFailures`` (or whose whole batch
died with the process) stays in flight and comes back after the queue's
visibility timeout; :meth:`Sqs.settle` moves the clock on until every message
was handled."""
from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from tests.support.harness import events

# infra/resources.json: a failed message comes back after this long.
VISIBILITY = {"voice_calls": 960, "voice_webhooks": 120}
BATCH = {"voice_calls": 1, "voice_webhooks": 10}  # chalicelib/workers/__init__.py


class Receiver:
    """A hook's receiver on 127.0.0.1: records every request (its
    Dialtone-Delivery-Id and raw body in ``requests``; its headers too in
    ``deliveries``, for the signature and auth checks) and answers 500 when
    ``fail(body, times_seen)`` says so, else 204."""

    def __init__(self, fail: Callable[[dict[str, Any], int], bool] = lambda body, seen: False) -> None:
        self.fail = fail
        self.requests: list[tuple[str, bytes]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                delivery = self.headers.get("Dialtone-Delivery-Id", "")
                with owner._lock:
                    seen = sum(1 for d, _ in owner.requests if d == delivery)
                    owner.requests.append((delivery, body))
                    owner.deliveries.append({"headers": dict(self.headers), "body": body})
                    status = 500 if owner.fail(json.loads(body), seen) else 204
                    owner.answers.append(status)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self) -> dict[str, list[bytes]]:
        """The bodies received per delivery id, in arrival order."""
        found: dict[str, list[bytes]] = defaultdict(list)
        with self._lock:
            for delivery, body in self.requests:
                found[delivery].append(body)
        return dict(found)

    def first_arrivals(self) -> list[dict[str, Any]]:
        """Each delivery's body, the first time it arrived, in arrival order."""
        seen: set[str] = set()
        found = []
        with self._lock:
            for delivery, body in self.requests:
                if delivery not in seen:
                    seen.add(delivery)
                    found.append(json.loads(body))
        return found


def invoke(name: str, event: dict[str, Any]) -> Any:
    from chalice.local import LambdaContext

    from app import app

    context = LambdaContext(function_name=f"dialtone-test-{name}", memory_size=1024, max_runtime_ms=60_000)
    return app.handler_map[name](event, context)


class Sqs:
    """Lambda's SQS event source for the voice queues (see the module docstring).

    SQS keeps Dialtone's clock (chalicelib.clock, stopped by the test), not
    moto's wall clock: a message sent with a delay, or in flight, comes due
    when :meth:`settle` moves the clock on, and never by the wall clock while a
    batch is handled."""

    QUEUES = ("voice_calls", "voice_webhooks")

    def __init__(self, monkeypatch: Any, order: Callable[[list[Any]], list[Any]] | None = None) -> None:
        """``order``: what the consumers get of each batch received (by default the batch as received)."""
        import os

        import botocore.session
        from moto.sqs import models

        from chalicelib import clock

        monkeypatch.setattr(models, "unix_time", lambda dt=None: clock.now().timestamp())
        monkeypatch.setattr(models, "unix_time_millis", lambda dt=None: clock.now().timestamp() * 1000)
        self.handled = 0
        self.order = order
        # Lambda's own client, not one of chalicelib.store.clients: its receives and deletes
        # are no calls of Dialtone's (the faults kit instruments those).
        self.sqs = botocore.session.Session().create_client(
            "sqs", region_name=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")

    def url(self, queue: str) -> str:
        from chalicelib import settings

        return str(self.sqs.get_queue_url(QueueName=settings.queue_name(queue))["QueueUrl"])

    def drain(self, queue: str, *, order: Callable[[list[Any]], list[Any]] | None = None) -> None:
        """Hand every visible message of ``queue`` to its consumer, batch by
        batch (the function's batch size), until none is visible. A message the
        handler reports failed stays in flight for the queue's visibility
        timeout; so does the whole batch when the process dies (the faults
        kit's Crash, raised on)."""
        url = self.url(queue)
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH[queue],
                                           VisibilityTimeout=VISIBILITY[queue]).get("Messages", [])
            if not got:
                return
            order = order or self.order
            if order is not None:
                got = order(got)
            template = events.load("sqs_orders")["Records"][0]
            batch = {"Records": [{**template, "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                                  "body": m["Body"], "messageAttributes": {}} for m in got]}
            answer = invoke(queue, batch)
            failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
            self.handled += len(got)
            for message in got:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def waiting(self) -> int:
        """Messages of the voice queues not yet deleted (visible, in flight or delayed)."""
        return sum(len(q._messages) for q in self._queues())

    def settle(self, rounds: int = 40) -> None:
        """What SQS does next, until no message is left: the clock moves on to
        when the next message is due (one in flight comes back after the
        visibility timeout, a delayed one after its delay) and the consumers
        take what is visible."""
        from datetime import datetime, timezone

        from chalicelib import clock

        for _ in range(rounds):
            messages = [m for q in self._queues() for m in q._messages]
            if not messages:
                return
            due = min(max(m.visible_at, m.delayed_until) for m in messages) / 1000 + 0.001  # moto: visible after
            if due > clock.now().timestamp():
                clock.set_now(datetime.fromtimestamp(due, timezone.utc))
            for queue in self.QUEUES:
                self.drain(queue)
        assert not self.waiting(), f"{self.waiting()} messages still not handled after {rounds} rounds"

    def purge(self, queue: str) -> list[dict[str, Any]]:
        """Every visible message's body, taken off the queue (the dead-letter
        queue's, for the check)."""
        url, bodies = self.url(queue), []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=3600).get(
                "Messages", [])
            if not got:
                return bodies
            for message in got:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def _queues(self) -> list[Any]:
        import os

        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        from chalicelib import settings

        backend = sqs_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"]
        return [backend.queues[settings.queue_name(q)] for q in self.QUEUES]

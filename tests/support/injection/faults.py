"""Faults at the AWS calls Dialtone makes, injected through botocore's event
system on the very clients chalicelib.store.clients builds (nothing of
Dialtone's own is replaced).

    with Faults() as faults:                 # instruments DynamoDB, S3 and SQS clients
        faults.record(); run_the_flow()      # a clean run: the calls it makes, in order
        for fault in every_fault(len(faults.calls)):
            faults.arm(fault); ...            # the fault fires at the fault.index-th call

Each call goes through four events; the kit listens to three:

- ``before-call`` (once per API call): counts calls and decides whether this
  is the armed one; a crash raises here, and so does every later call until
  the next ``arm`` (a dead process's ``except BaseException`` clean-up
  reaches AWS no more than the rest of it);
- ``before-send`` (once per attempt): the kit owns this step. It answers a
  throttle or a 500 itself, sends the request and then loses the answer (a
  read timeout after the write committed), raises :class:`Crash`, or lets the
  request through (to moto's in-process stubber, or over HTTP);
- ``needs-retry``: botocore's own standard retry handler decides, but the kit
  takes away its back-off sleep and refills its retry quota, so a sweep of
  hundreds of faults takes seconds and a late fault is retried like an early one.

A *transient* fault hits the call's first attempt only (botocore retries it);
a *persistent* one hits every attempt, so it survives botocore's retries and
reaches Dialtone. A lost answer commits on the first attempt only (the retries
time out before reaching the service) unless it is transient, in which case the
retry really reaches the service again: the duplicate request AWS sees after a
timeout. DynamoDB answers a TransactWriteItems retried with the same
ClientRequestToken (botocore fills one in per call) with success and no second
write; moto does not, so the kit answers such a retry as DynamoDB would.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

THROTTLE = "throttle"
SERVER_ERROR = "server_error"
LOST_ANSWER = "lost_answer"
CRASH = "crash"
KINDS = (THROTTLE, SERVER_ERROR, LOST_ANSWER, CRASH)
# The clients chalicelib.store.clients builds for the store (SES and SSM are adapters' and not on these flows).
SERVICES = (("dynamodb", False), ("s3", False), ("s3", True), ("sqs", False))


class Crash(BaseException):
    """The process stopping between two AWS calls: not an Exception, so no
    handler of Dialtone's (nor botocore's retry) catches it."""


@dataclass(frozen=True)
class Fault:
    kind: str
    index: int | None  # the index-th call (0-based) of the flow gets it; None: every call
    persistent: bool = True

    def __str__(self) -> str:
        return f"{self.kind}{'' if self.persistent else '(once)'}@{'*' if self.index is None else self.index}"


def every_fault(calls: int, *, kinds: tuple[str, ...] = KINDS, transient: bool = True) -> Iterator[Fault]:
    """Each kind at each call index; with ``transient``, also the one-attempt
    variants of the throttle and the lost answer (botocore's retry must absorb them)."""
    for index in range(calls):
        for kind in kinds:
            yield Fault(kind, index)
            if transient and kind in (THROTTLE, LOST_ANSWER):
                yield Fault(kind, index, persistent=False)


@dataclass
class _Call:
    index: int
    name: str
    armed: bool
    attempts: int = 0


@dataclass
class Faults:
    calls: list[str] = field(default_factory=list)  # "dynamodb.PutItem", in the order made since record()/arm()
    injected: int = 0  # faults that fired, over the kit's life
    fired: list[str] = field(default_factory=list)  # "<fault> at <call>" for each
    _fault: Fault | None = None
    _dead: bool = False  # a crash fired: every later call fails too (no clean-up handler gets through)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)
    _tokens: set[str] = field(default_factory=set)  # ClientRequestTokens of transactions that committed
    _clients: list[Any] = field(default_factory=list)
    _saved: dict[Any, Any] = field(default_factory=dict)

    def __enter__(self) -> "Faults":
        from chalicelib.store import clients

        # Fresh clients, instrumented below; on exit the uninstrumented ones come back.
        with clients._lock:
            self._saved = dict(clients._cache)
            clients._cache.clear()
        for service, unsigned in SERVICES:
            self._instrument(clients.client(service, unsigned_payload=unsigned))
        return self

    def __exit__(self, *exc: object) -> None:
        from chalicelib.store import clients

        self._fault = None
        with clients._lock:
            clients._cache.clear()
            clients._cache.update(self._saved)

    def record(self) -> None:
        """Count calls from now on, with no fault armed."""
        self.arm(None)

    def arm(self, fault: Fault | None) -> None:
        with self._lock:
            self.calls = []
            self._fault = fault
            self._dead = False

    @property
    def armed(self) -> Fault | None:
        return self._fault

    # ------------------------------------------------------------ the events

    def _instrument(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        events = client.meta.events
        events.register_first(f"before-call.{service}", self._before_call)
        # moto's stubber is a before-send handler of every client (BUILTIN_HANDLERS);
        # the kit takes its place and calls it only when the request goes through.
        stubber = _moto_stubber()
        if stubber is not None:
            events.unregister("before-send", stubber)
        events.register_first(f"before-send.{service}", _Sender(self, client, stubber))
        retry_id = f"retry-config-{service}"
        standard = events._emitter._unique_id_handlers[retry_id]["handler"]  # botocore's RetryHandler.needs_retry
        events.unregister(f"needs-retry.{service}", unique_id=retry_id)
        quota = standard.__self__._retry_quota._quota

        def needs_retry(**kwargs: Any) -> Any:
            delay = standard(**kwargs)
            quota._available_capacity = quota._max_capacity
            return None if delay is None else 0

        events.register(f"needs-retry.{service}", needs_retry, unique_id=retry_id)
        self._clients.append(client)

    def _before_call(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        name = f"{model.service_model.endpoint_prefix}.{model.name}"
        with self._lock:
            index = len(self.calls)
            self.calls.append(name)
            armed = self._fault is not None and self._fault.index in (None, index)
            if armed:
                self.injected += 1
                self.fired.append(f"{self._fault} at {name}")
        self._local.call = _Call(index, name, armed)
        if self._dead:
            raise Crash(f"{name} (call {index}) after the crash: the process is gone")
        if armed and self._fault is not None and self._fault.kind == CRASH:
            self._dead = True
            raise Crash(f"crash before {name} (call {index})")


class _Sender:
    """The before-send step of one client."""

    def __init__(self, kit: Faults, client: Any, stubber: Any) -> None:
        self.kit, self.client, self.stubber = kit, client, stubber
        self.service = client.meta.service_model.endpoint_prefix

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> Any:
        call: _Call | None = getattr(self.kit._local, "call", None)
        fault = self.kit.armed
        if call is None or not call.armed or fault is None:
            return self._through(request, event_name, **kwargs)
        call.attempts += 1
        first = call.attempts == 1
        if not fault.persistent and not first:
            return self._through(request, event_name, **kwargs)
        if fault.kind == THROTTLE:
            return _throttle(self.service, request.url, call.index)
        if fault.kind == SERVER_ERROR:
            return _server_error(self.service, request.url)
        if fault.kind == LOST_ANSWER:
            from botocore.exceptions import ReadTimeoutError

            if first:
                if self._through(request, event_name, **kwargs) is None:  # a real endpoint: send it ourselves
                    self.client._endpoint.http_session.send(request)
            raise ReadTimeoutError(endpoint_url=request.url)
        return self._through(request, event_name, **kwargs)

    def _through(self, request: Any, event_name: str, **kwargs: Any) -> Any:
        token = _transaction_token(event_name, request)
        if token is not None and token in self.kit._tokens:
            return _answer(request.url, 200, {})  # DynamoDB's idempotent TransactWriteItems
        answer = self.stubber(event_name=event_name, request=request, **kwargs) if self.stubber else None
        if token is not None and answer is not None and answer.status_code == 200:
            self.kit._tokens.add(token)
        return answer


def _transaction_token(event_name: str, request: Any) -> str | None:
    if not event_name.endswith(".TransactWriteItems"):
        return None
    token = json.loads(request.body or b"{}").get("ClientRequestToken")
    return str(token) if token else None


def _moto_stubber() -> Any:
    try:
        from moto.core.models import botocore_stubber
    except ImportError:
        return None
    return botocore_stubber


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


def _answer(url: str, status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    from botocore.awsrequest import AWSResponse

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return AWSResponse(url, status, {"Content-Type": "application/x-amz-json-1.0", **(headers or {})}, _Raw(raw))


def _s3_error(url: str, status: int, code: str, message: str) -> Any:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    return _answer(url, status, body, {"Content-Type": "application/xml"})


def _throttle(service: str, url: str, index: int) -> Any:
    if service == "s3":
        return _s3_error(url, 503, "SlowDown", "Please reduce your request rate.")
    if service == "dynamodb" and index % 2 == 0:
        return _answer(url, 400, {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                                  "message": "The level of configured provisioned throughput for the table was exceeded"})
    return _answer(url, 400, {"__type": "com.amazon.coral.availability#ThrottlingException", "message": "Rate exceeded"})


def _server_error(service: str, url: str) -> Any:
    if service == "s3":
        return _s3_error(url, 500, "InternalError", "We encountered an internal error. Please try again.")
    return _answer(url, 500, {"__type": "com.amazon.coral.service#InternalFailure", "message": "internal failure"})

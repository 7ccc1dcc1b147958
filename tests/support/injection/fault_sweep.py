"""Sweeps a flow with a fault at each AWS call it makes.

A flow is one use case as a client and the platform live it:

- ``prepare()``: what must exist before (made without faults); returns the scenario's context;
- ``act(ctx)``: the request (or the message, or the job run) that gets the fault;
- ``recover(ctx)``: what happens next without faults: the client retries with
  the same Idempotency-Key, SQS redelivers, the sweeper or the reconciliation
  job runs once the lease or the pending time has passed;
- ``check()``: the invariants over everything the flow did so far (numbers with
  one owner, balances equal to their ledger sums, nothing charged twice or lost,
  no orphaned object);
- ``renew()`` (optional): start again in a fresh world (the in-process AWS
  emptied, a new tenant). A flow that keeps adding to its world (a day of calls
  or a month of invoices per run) and checks all of it after each run grows
  slower with every run: moto copies each table a transaction touches, whole,
  and the check reads every earlier run again. So in a long sweep such a flow
  renews every RENEW_EVERY runs, right after a check that covered its whole
  world; each run is still checked against everything since the last renewal.

The calls are enumerated by a clean run of the flow (``Faults.record``), so a
call added to the flow later gets its faults without editing the test. In
``make test`` a sample of the writes get one fault kind each, the kinds taking
turns (see plan()); ``DIALTONE_FAULTS=all`` (``make soak``) gives every call,
reads too, every kind.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from tests.support.injection.faults import Crash, Fault, Faults, every_fault

# Every kind, with the one-attempt variants botocore's retry must absorb.
VARIANTS = [Fault("throttle", 0), Fault("throttle", 0, persistent=False), Fault("server_error", 0),
            Fault("lost_answer", 0), Fault("lost_answer", 0, persistent=False), Fault("crash", 0)]
# Totals over the session, for the note of issue 15 (tests/faults/conftest.py prints them).
TOTALS: Counter[str] = Counter()


class Flow:
    name = "flow"

    def prepare(self) -> Any:
        return None

    def act(self, ctx: Any) -> int | None:
        """The faulty step; returns an HTTP status when it is a request."""
        raise NotImplementedError

    def recover(self, ctx: Any) -> None:
        pass

    def check(self) -> None:
        pass

    def renew(self) -> None:
        """Start again in a fresh world (see the module's docstring); by default the world only grows."""


@dataclass
class Coverage:
    flow: str
    calls: list[str]
    scenarios: int = 0
    injected: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        return (f"{self.flow}: {len(self.calls)} calls, {self.scenarios} faulted runs, {self.injected} faults "
                f"injected; outcomes {dict(self.outcomes)}")


def full_sweep() -> bool:
    return os.environ.get("DIALTONE_FAULTS") == "all"


# Calls that change something: where a fault can leave half a change behind.
WRITES = frozenset({
    "TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "SendMessage",
    "SendMessageBatch", "DeleteMessage", "PutObject", "PutObjectTagging", "CopyObject", "DeleteObject",
    "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload",
})


# Faulted runs per flow in `make test` (a flow run costs seconds on moto).
SAMPLE = 8
# Faulted runs per world of a flow that renews it (more than SAMPLE: `make test` never renews).
RENEW_EVERY = 10


def plan(calls: list[str], offset: int = 0, sample: int = SAMPLE) -> Iterator[Fault]:
    """Every kind at every call (``DIALTONE_FAULTS=all``, `make soak`);
    otherwise one kind at each of SAMPLE writes spread over the flow, the kinds
    taking turns (every kind is hit)."""
    if full_sweep():
        yield from every_fault(len(calls))
        return
    writes = [n for n, name in enumerate(calls) if name.rpartition(".")[2] in WRITES]
    if len(writes) > sample:  # spread over the flow, first and last write included
        writes = [writes[round(n * (len(writes) - 1) / (sample - 1))] for n in range(sample)]
    for turn, index in enumerate(writes):
        variant = VARIANTS[(turn + offset) % len(VARIANTS)]
        yield Fault(variant.kind, index, variant.persistent)


def clean_failure(error: BaseException) -> bool:
    """A failure a surface answers without a 500: a domain error (its own
    status) or AWS still busy after retries (503)."""
    from chalicelib.domain.errors import DialtoneError
    from chalicelib.store.clients import transient

    return isinstance(error, DialtoneError) or transient(error)


def sweep(faults: Faults, flow: Flow, *, offset: int = 0,
          on_outcome: Callable[[Fault, str], None] | None = None, sample: int = SAMPLE) -> Coverage:
    """``sample``: faulted runs in `make test` (fewer for a flow whose run is slow)."""
    ctx = flow.prepare()
    faults.record()
    status = flow.act(ctx)
    calls = list(faults.calls)
    assert status is None or status < 400, f"{flow.name}: the clean run failed with {status}"
    flow.recover(ctx)
    flow.check()
    print(f"{flow.name}: {len(calls)} calls: {', '.join(calls)}")
    coverage = Coverage(flow.name, calls)
    before = faults.injected
    for run, fault in enumerate(plan(calls, offset, sample)):
        if run and run % RENEW_EVERY == 0:
            flow.renew()
        ctx = flow.prepare()
        faults.arm(fault)
        try:
            status = flow.act(ctx)
            outcome = "ok" if status is None or status < 400 else f"http {status}"
        except Crash:
            outcome = "crashed"
        except Exception as error:  # noqa: BLE001 - classified just below
            assert clean_failure(error), f"{flow.name}, {fault} at {calls[fault.index or 0]}: {error!r}"
            outcome = type(error).__name__
        finally:
            faults.arm(None)
        assert not outcome.startswith("http 5") or outcome == "http 503", \
            f"{flow.name}, {fault} at {calls[fault.index or 0]}: answered {outcome}"
        coverage.outcomes[outcome] += 1
        coverage.scenarios += 1
        if on_outcome:
            on_outcome(fault, outcome)
        try:
            flow.recover(ctx)
            flow.check()
        except AssertionError as error:
            raise AssertionError(f"{flow.name}, {fault} at {calls[fault.index or 0]}: {error}") from error
    coverage.injected = faults.injected - before
    assert coverage.injected == coverage.scenarios > 0, f"{flow.name}: a fault did not fire: the flow changed its path"
    TOTALS["flows"] += 1
    TOTALS["calls"] += len(calls)
    TOTALS["faulted runs"] += coverage.scenarios
    TOTALS["faults injected"] += coverage.injected
    print(coverage)
    return coverage

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.support.surfaces.voice_queues import Receiver, Sqs


@pytest.fixture(scope="session")
def client(aws: None) -> Iterator[Any]:
    """The app in process (Chalice's test client), as the surface tests use it."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client.http


@pytest.fixture()
def receivers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Receiver, Receiver, Sqs]]:
    """Two webhook receivers on 127.0.0.1 (one failing each call's second event once, one always) and
    the voice queues driven in process (tests/support/injection/webhook_flows.py)."""
    from chalicelib import clock

    monkeypatch.setenv("VOICE_HOOKS_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("VOICE_WEBHOOK_BACKOFF", "30")  # 2 attempts
    clock.set_now("2026-06-01T10:00:00")
    up = Receiver(fail=lambda body, seen: body["sequence"] == 2 and seen == 0)
    down = Receiver(fail=lambda body, seen: True)
    yield up, down, Sqs(monkeypatch)
    up.close()
    down.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The counts the note of issue 15 asks for (this process's sweeps; under
    xdist each worker keeps its own, so `make soak` runs without it)."""
    from tests.support.injection.fault_sweep import TOTALS

    if TOTALS:
        # A sweep stops at its first discrepancy (an invariant broken, a 500): it fails its test.
        failed = sum(1 for report in terminalreporter.stats.get("failed", []) if "tests/faults/" in report.nodeid)
        terminalreporter.write_line("fault sweeps: " + ", ".join(f"{v} {k}" for k, v in TOTALS.items())
                                    + f", {failed} discrepancies (failed tests)")

from __future__ import annotations

from typing import Any, Iterator

import pytest


@pytest.fixture(scope="session")
def client(aws: None) -> Iterator[Any]:
    """The app in process (Chalice's test client), as the surface tests use it."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client.http


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The counts the note of issue 15 asks for (this process's sweeps; under
    xdist each worker keeps its own, so `make soak` runs without it)."""
    from tests.support.fault_sweep import TOTALS

    if TOTALS:
        # A sweep stops at its first discrepancy (an invariant broken, a 500): it fails its test.
        failed = sum(1 for report in terminalreporter.stats.get("failed", []) if "tests/faults/" in report.nodeid)
        terminalreporter.write_line("fault sweeps: " + ", ".join(f"{v} {k}" for k, v in TOTALS.items())
                                    + f", {failed} discrepancies (failed tests)")

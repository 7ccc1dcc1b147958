"""Business events as CloudWatch embedded metrics (chalicelib/observability/
metrics.py): valid EMF documents, one per dimension set, counts summed over
an invocation and flushed once at its end."""
from __future__ import annotations

import io
import json
from typing import Iterator

import pytest

from chalicelib.observability import invocations, metrics
from tests.support.checks import emf


@pytest.fixture(autouse=True)
def nothing_pending() -> Iterator[None]:
    metrics.discard()  # what earlier tests counted without an invocation to flush it
    yield
    metrics.discard()


def test_counts_of_an_invocation_become_one_valid_document_per_dimension_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALTONE_STAGE", "prod")
    metrics.count("OrdersProcessed", Outcome="complete")
    metrics.count("OrdersProcessed", Outcome="complete")
    metrics.count("OrdersProcessed", Outcome="failed")
    metrics.count("CdrRows", 120, Outcome="ingested")
    metrics.count("CdrFilesIngested")
    metrics.count("CdrRows", 0, Outcome="rejected")  # nothing to say: no data point
    out = io.StringIO()

    written = metrics.flush(out)

    found = emf.documents(out.getvalue())
    assert found == written and len(found) == 4  # (complete), (failed), (ingested), (no Outcome)
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Dialtone" and d["Stage"] == "prod" for d in found)
    assert emf.totals(found) == {
        ("OrdersProcessed", (("Outcome", "complete"),)): 2,
        ("OrdersProcessed", (("Outcome", "failed"),)): 1,
        ("CdrRows", (("Outcome", "ingested"),)): 120,
        ("CdrFilesIngested", ()): 1,
    }
    plain = next(d for d in found if "CdrFilesIngested" in d)
    assert plain["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stage"]]
    assert metrics.pending() == {} and metrics.flush(out) == []  # flushed once, then nothing to write


def test_more_than_a_hundred_metrics_are_split_across_documents() -> None:
    for n in range(130):
        metrics.count(f"Event{n:03d}")
    found = emf.documents("".join(json.dumps(d) + "\n" for d in metrics.flush(io.StringIO())))
    assert [len(d["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for d in found] == [100, 30]


def test_the_validator_refuses_what_cloudwatch_would_drop() -> None:
    good = metrics.document({"Outcome": "ok"}, {"Payments": 1}, 1_800_000_000_000)
    emf.check(good)
    for broken in ({**good, "Payments": "1"}, {k: v for k, v in good.items() if k != "Outcome"},
                   {**good, "_aws": {**good["_aws"], "Timestamp": "now"}}):
        with pytest.raises((AssertionError, KeyError)):
            emf.check(broken)


def test_an_event_handler_flushes_what_its_invocation_counted(capsys: pytest.CaptureFixture[str]) -> None:
    @invocations.handler("reconcile_payments", "schedule")
    def job(event: object) -> str:
        metrics.count("Payments", Outcome="approved")
        return "done"

    class Scheduled:
        event_id = "5f1e-schedule-event"

    assert job(Scheduled()) == "done"
    (document,) = emf.documents(capsys.readouterr().out)
    assert (document["Payments"], document["Outcome"]) == (1, "approved")
    assert metrics.pending() == {}

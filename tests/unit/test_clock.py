"""The one clock: real UTC time unless a test stops it, in every thread."""
from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta, timezone

from chalicelib import clock

STORED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_it_reads_aware_utc_time_in_the_stored_form() -> None:
    before = datetime.now(timezone.utc)
    moment = clock.now()
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert before <= moment <= datetime.now(timezone.utc)
    assert STORED.match(clock.now_iso())
    assert abs(clock.epoch() - before.timestamp()) < 5
    assert clock.today() in (before.date(), datetime.now(timezone.utc).date())


def test_frozen_stops_it_and_gives_back_what_was_there_before() -> None:
    with clock.frozen("2025-01-15T10:00:00Z") as moment:
        assert moment == datetime(2025, 1, 15, 10, tzinfo=timezone.utc) == clock.now()
        assert clock.now_iso() == "2025-01-15T10:00:00.000000Z"
        assert clock.today() == date(2025, 1, 15)
        assert clock.epoch() == int(moment.timestamp())
        with clock.frozen(datetime(2024, 2, 29, 23, 59, 59, 5)):  # naive: taken as UTC
            assert clock.now_iso() == "2024-02-29T23:59:59.000005Z"
        assert clock.now() == moment
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_other_zones_are_stored_as_utc() -> None:
    with clock.frozen("2025-03-30T01:30:00+02:00"):
        assert clock.now_iso() == "2025-03-29T23:30:00.000000Z" and clock.today() == date(2025, 3, 29)
    assert clock.iso(datetime(2025, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == "2025-01-01T00:00:00.000000Z"


def test_every_thread_sees_the_stopped_clock() -> None:
    # The threaded local API server and the concurrency tests run handlers off the test's thread.
    seen: list[str] = []
    with clock.frozen("2030-06-01T00:00:00Z"):
        threads = [threading.Thread(target=lambda: seen.append(clock.now_iso())) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert seen == ["2030-06-01T00:00:00.000000Z"] * 4


def test_set_now_holds_until_cleared() -> None:
    clock.set_now("2026-12-31T23:59:59Z")
    assert clock.now_iso() == "2026-12-31T23:59:59.000000Z"
    clock.set_now(None)
    assert clock.now().year >= 2026 and clock.now_iso() != "2026-12-31T23:59:59.000000Z"

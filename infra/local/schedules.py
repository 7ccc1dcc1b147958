"""EventBridge schedules for ``@app.schedule`` handlers.

``rate(N unit)`` fires every period from the start (as a rule does from its
creation); ``cron(min hour day-of-month month day-of-week year)`` is AWS's
six-field form, UTC, evaluated with croniter after translating what differs
from classic cron: ``?`` and day-of-week numbers 1-7 counting from Sunday.
A run missed while the handler was busy is not caught up, as on AWS.
"""
from __future__ import annotations

import logging
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Protocol

from chalice import Chalice
from chalice.app import ScheduledEventConfig, ScheduleExpression
from croniter import croniter

from infra.local.lambda_function import LambdaFunction

_log = logging.getLogger(__name__)
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_MAX_YEAR_SKIPS = 10_000  # bounds the search when the year field never matches


class Schedule(Protocol):
    def next_after(self, moment: datetime) -> datetime | None: ...


@dataclass(frozen=True)
class Rate:
    period: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.period


@dataclass(frozen=True)
class Cron:
    classic: str  # five-field cron croniter understands
    years: Callable[[int], bool]

    def next_after(self, moment: datetime) -> datetime | None:
        found = croniter(self.classic, moment).get_next(datetime)
        for _ in range(_MAX_YEAR_SKIPS):
            if self.years(found.year):
                return found
            found = croniter(self.classic, found).get_next(datetime)
        return None


def parse(expression: str | ScheduleExpression) -> Schedule:
    text = expression if isinstance(expression, str) else expression.to_string()
    rate = _RATE.fullmatch(text.strip())
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ValueError(f"{text}: EventBridge wants a positive value, singular unit only for 1")
        return Rate(value * _UNITS[unit.rstrip("s")])
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        if len(fields) != 6:
            raise ValueError(f"{text}: AWS cron has six fields (minutes hours day-of-month month day-of-week year)")
        minute, hour, day, month, weekday, year = fields
        if (day == "?") == (weekday == "?"):
            raise ValueError(f"{text}: exactly one of day-of-month and day-of-week must be '?'")
        classic = " ".join([minute, hour, day.replace("?", "*"), month, _classic_weekdays(weekday)])
        if not croniter.is_valid(classic):
            raise ValueError(f"{text}: not supported locally (croniter refuses {classic!r})")
        return Cron(classic, _years(year))
    raise ValueError(f"{expression!r} is neither rate(...) nor cron(...)")


def _classic_weekdays(field: str) -> str:
    # AWS numbers Sunday 1 .. Saturday 7, classic cron Sunday 0 .. Saturday 6.
    # A number after '#' (the n-th weekday) or '/' (a step) is no weekday.
    return re.sub(r"(?<![#/\d])([1-7])(?!\d)", lambda m: str(int(m.group(1)) - 1), field.replace("?", "*"))


def _years(field: str) -> Callable[[int], bool]:
    if field == "*":
        return lambda year: True
    allowed: set[int] = set()
    for part in field.split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(f"year field {field!r}: only *, years, ranges and lists are supported locally")
        allowed.update(range(int(low), int(high or low) + 1))
    return allowed.__contains__


def scheduled_event(rule_arn: str, when: datetime) -> dict[str, Any]:
    """The event EventBridge sends a scheduled rule's target."""
    _, _, _, region, account, _ = rule_arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass
class _Job:
    function: LambdaFunction
    schedule: Schedule
    rule_arn: str
    due: datetime | None


class Scheduler:
    """Fires each job when it is due; ``fire_due`` takes the time so tests need not wait."""

    def __init__(self, jobs: list[tuple[LambdaFunction, Schedule]], *, start: datetime,
                 region: str, account: str) -> None:
        self._jobs = [_Job(function, schedule, f"arn:aws:events:{region}:{account}:rule/{function.name}-event",
                           schedule.next_after(start)) for function, schedule in jobs]

    @property
    def next_due(self) -> datetime | None:
        return min((job.due for job in self._jobs if job.due), default=None)

    def fire_due(self, now: datetime) -> list[str]:
        """Invoke every job due at ``now``; the names of those fired."""
        fired = []
        for job in self._jobs:
            if job.due is None or job.due > now:
                continue
            try:
                job.function.invoke(scheduled_event(job.rule_arn, job.due))
            except Exception:  # Lambda would log it and try again at the next run
                _log.exception("scheduled %s failed", job.function.name)
            fired.append(job.function.name)
            while job.due is not None and job.due <= now:
                job.due = job.schedule.next_after(job.due)
        return fired

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            due = self.next_due
            if due is None:
                return
            # Short naps: the wall clock may jump (a laptop waking up).
            if stop.wait(min(1.0, max(0.0, (due - datetime.now(timezone.utc)).total_seconds()))):
                return
            self.fire_due(datetime.now(timezone.utc))


def jobs_for(app: Chalice, functions: dict[str, LambdaFunction]) -> list[tuple[LambdaFunction, Schedule]]:
    """One job per ``@app.schedule`` handler; ``functions`` by handler name."""
    return [(functions[source.name], parse(source.schedule_expression))
            for source in app.event_sources if isinstance(source, ScheduledEventConfig)]

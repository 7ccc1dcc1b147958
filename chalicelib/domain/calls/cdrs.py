"""Call detail records: the row formats, rating and the per-day figures.
Pure Python (no AWS): the services stream files through these functions.

Times are kept as integer seconds since the epoch (UTC) once parsed; money
is Decimal, rounded half-up to five places per call (domain.money).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping, Sequence

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.money.amounts import parse_money, round_money

HEADER = ("call_id", "direction", "account", "trunk_id", "from", "to", "start", "answer", "end",
          "billsec", "disposition")
DISPOSITIONS = frozenset({"ANSWERED", "NO ANSWER", "BUSY", "FAILED"})
DIRECTIONS = frozenset({"inbound", "outbound"})
RATE_HEADER = ("prefix", "rate", "connect_fee", "initial_increment", "increment")

# Asterisk cdr-csv (Master.csv) columns, in the order cdr_csv writes them with
# loguniqueid=yes (uniqueid follows amaflags); see docs/cdrs.md for the mapping.
ASTERISK_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
                    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
                    "uniqueid")
ASTERISK_OUTBOUND_CONTEXTS = ("from-internal", "outbound")
ASTERISK_DISPOSITIONS = {"ANSWERED": "ANSWERED", "NO ANSWER": "NO ANSWER", "BUSY": "BUSY",
                         "FAILED": "FAILED", "CONGESTION": "FAILED"}
MAX_FIELD = 256


class BadRow(ValueError):
    """A row that cannot be used; the message is the reason reported with its line number."""


@dataclass(frozen=True, slots=True)
class Cdr:
    call_id: str
    direction: str
    account: str
    trunk_id: str
    src: str
    dst: str
    start: int
    answer: int | None
    end: int
    billsec: int
    disposition: str

    @property
    def answered(self) -> bool:
        return self.disposition == "ANSWERED"

    @property
    def day(self) -> str:
        return day_of(self.start)


def day_of(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d")


def iso(epoch: int | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str, name: str) -> int:
    value = text.strip()
    if not value:
        raise BadRow(f"{name} is empty")
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise BadRow(f"{name} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # the format says UTC
    return int(moment.timestamp())


def _text(value: str, name: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise BadRow(f"{name} is empty")
    if len(value) > MAX_FIELD:
        raise BadRow(f"{name} is too long")
    return value


def build(call_id: str, direction: str, account: str, trunk_id: str, src: str, dst: str, start: str,
          answer: str, end: str, billsec: str, disposition: str) -> Cdr:
    """One validated CDR from the fields of the Dialtone format."""
    direction = direction.strip().lower()
    if direction not in DIRECTIONS:
        raise BadRow("direction must be inbound or outbound")
    disposition = disposition.strip().upper()
    if disposition not in DISPOSITIONS:
        raise BadRow("disposition must be ANSWERED, NO ANSWER, BUSY or FAILED")
    started, ended = _epoch(start, "start"), _epoch(end, "end")
    if ended < started:
        raise BadRow("end is before start")
    answered = _epoch(answer, "answer") if answer.strip() else None
    try:
        seconds = int(billsec.strip())
    except ValueError:
        raise BadRow("billsec is not a whole number") from None
    if seconds < 0:
        raise BadRow("billsec is negative")
    if disposition == "ANSWERED" and answered is None:
        raise BadRow("an answered call needs answer")
    if disposition != "ANSWERED":
        seconds = 0  # only answered calls have billable seconds
    dst = _text(dst, "to")
    trunk = _text(trunk_id, "trunk_id", required=direction == "outbound")
    return Cdr(_text(call_id, "call_id"), direction, _text(account, "account", required=False), trunk,
               _text(src, "from", required=False), dst, started, answered, ended, seconds, disposition)


def from_dialtone(fields: Sequence[str]) -> Cdr:
    if len(fields) != len(HEADER):
        raise BadRow(f"expected {len(HEADER)} fields, found {len(fields)}")
    return build(*fields)


def from_asterisk(fields: Sequence[str]) -> Cdr:
    """Asterisk cdr-csv with loguniqueid=yes and usegmtime=yes (see docs/cdrs.md)."""
    return build(*asterisk_fields(fields))


def dialtone_fields(fields: Sequence[str]) -> Sequence[str]:
    """The row's fields when it has the Dialtone shape (values are checked by ``build``)."""
    if len(fields) != len(HEADER):
        raise BadRow(f"expected {len(HEADER)} fields, found {len(fields)}")
    return fields


def asterisk_fields(fields: Sequence[str]) -> list[str]:
    """An Asterisk cdr-csv row as the Dialtone columns, values unchecked: the
    same mapping as ``from_asterisk``, for the vectorised engine."""
    if len(fields) < len(ASTERISK_COLUMNS):
        raise BadRow(f"expected at least {len(ASTERISK_COLUMNS)} fields, found {len(fields)}")
    row = dict(zip(ASTERISK_COLUMNS, fields))
    outbound = row["dcontext"].strip().startswith(ASTERISK_OUTBOUND_CONTEXTS)
    channel = row["dstchannel"] if outbound else row["channel"]
    disposition = ASTERISK_DISPOSITIONS.get(row["disposition"].strip().upper(), row["disposition"])
    return [row["uniqueid"], "outbound" if outbound else "inbound", row["accountcode"], channel_trunk(channel),
            row["src"], row["dst"], row["start"], row["answer"], row["end"], row["billsec"], disposition]


def channel_trunk(channel: str) -> str:
    """'PJSIP/carrier-a-00000012' -> 'carrier-a': the endpoint named in the channel."""
    name = channel.strip().split("/", 1)[-1]
    return name.rsplit("-", 1)[0] if "-" in name else name


def detect_format(first_row: Sequence[str]) -> str:
    """'dialtone' when the first row is our header; 'asterisk' when it looks
    like a Master.csv row (no header). Anything else is refused."""
    if tuple(f.strip().lower() for f in first_row) == HEADER:
        return "dialtone"
    if len(first_row) >= len(ASTERISK_COLUMNS):
        return "asterisk"
    raise BadRow("the header must be " + ",".join(HEADER) + " (or an Asterisk cdr-csv row)")


# ---------------------------------------------------------------- rating

@dataclass(frozen=True, slots=True)
class Rate:
    prefix: str
    rate: Decimal
    connect_fee: Decimal
    initial_increment: int
    increment: int


def parse_rate(fields: Sequence[str]) -> Rate:
    if len(fields) != len(RATE_HEADER):
        raise BadRow(f"expected {len(RATE_HEADER)} fields, found {len(fields)}")
    prefix, rate, fee, initial, increment = (f.strip() for f in fields)
    if not prefix.isdigit():
        raise BadRow("prefix must be digits")
    try:
        # Money's one grammar (Decimal() alone would read 1_000, 1e3 or Arabic-Indic digits).
        money = parse_money(rate, field="rate"), parse_money(fee, field="connect_fee")
    except ValidationError as error:
        raise BadRow(f"rate and connect_fee must be decimals: {error.message}") from None
    if not (initial.isascii() and initial.isdigit() and increment.isascii() and increment.isdigit()):
        raise BadRow("increments must be whole seconds (digits)")
    steps = int(initial), int(increment)
    if any(m < 0 for m in money) or steps[1] <= 0:
        raise BadRow("rates must be >= 0 and increment > 0")
    return Rate(prefix, money[0], money[1], steps[0], steps[1])


@dataclass
class RateDeck:
    """Prefix -> rate; the longest prefix of a number wins."""

    rates: dict[str, Rate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._longest = max((len(p) for p in self.rates), default=0)

    def match(self, number: str) -> Rate | None:
        digits = number.lstrip("+")
        for length in range(min(len(digits), self._longest), 0, -1):
            found = self.rates.get(digits[:length])
            if found is not None:
                return found
        return None


def call_cost(rate: Rate, billsec: int) -> Decimal:
    """connect_fee + rate * billed / 60, billed = max(initial, ceil(billsec/increment)*increment),
    rounded half-up to five places (the caller sums rounded costs)."""
    billed = max(rate.initial_increment, math.ceil(billsec / rate.increment) * rate.increment)
    return round_money(rate.connect_fee + rate.rate * billed / 60)


# ---------------------------------------------------------------- figures

@dataclass
class Figures:
    """One key's calls of one day: counts and the [start, end) intervals for peak."""

    processed: int = 0
    completed: int = 0
    billsec: int = 0
    events: list[tuple[int, int]] = field(default_factory=list)

    def add(self, cdr: Cdr) -> None:
        self.processed += 1
        if cdr.answered:
            self.completed += 1
            self.billsec += cdr.billsec
        # An end sorts before a start at the same instant: [start, end).
        self.events.append((cdr.start, 1))
        self.events.append((cdr.end, -1))

    def peak(self) -> int:
        best = current = 0
        for _, step in sorted(self.events):
            current += step
            best = max(best, current)
        return best

    def totals(self) -> dict[str, int]:
        return {"processed": self.processed, "completed": self.completed, "billsec": self.billsec,
                "peak": self.peak()}


def combine(days: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Several days' totals as one period: sums, and the highest daily peak
    (a call counts in the day it started, so periods are built from days)."""
    out = {"processed": 0, "completed": 0, "billsec": 0, "peak": 0}
    for day in days:
        for name in ("processed", "completed", "billsec"):
            out[name] += int(day.get(name, 0))
        out["peak"] = max(out["peak"], int(day.get("peak", 0)))
    return out


def presented(totals: Mapping[str, int]) -> dict[str, str]:
    """The carrier API's strings: asr whole percent, acd whole seconds, mou two decimals."""
    processed, completed, billsec = (int(totals.get(k, 0)) for k in ("processed", "completed", "billsec"))
    asr = (Decimal(completed) * 100 / processed) if processed else Decimal(0)
    acd = (Decimal(billsec) / completed) if completed else Decimal(0)
    mou = Decimal(billsec) / 60
    return {
        "processed": str(processed),
        "completed": str(completed),
        "acd": str(acd.quantize(Decimal(1), rounding="ROUND_HALF_UP")),
        "asr": f"{asr.quantize(Decimal(1), rounding='ROUND_HALF_UP')}%",
        "mou": str(mou.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")),
        "peak": str(int(totals.get("peak", 0))),
    }


def parse_rows(reader: Any) -> Iterator[tuple[int, Cdr | BadRow]]:
    """(line number, Cdr or the reason it was refused) for every data row of a
    csv.reader (its line_num counts physical lines, quoted newlines included)."""
    first = next(reader, None)
    if first is None:
        return
    kind = detect_format(first)
    parse = from_dialtone if kind == "dialtone" else from_asterisk
    if kind == "asterisk":
        try:
            yield reader.line_num, parse(first)
        except BadRow as error:
            yield reader.line_num, error
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        try:
            yield reader.line_num, parse(fields)
        except BadRow as error:
            yield reader.line_num, error

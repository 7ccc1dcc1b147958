"""Number porting: port order states and the Firm Order Commitment date rules."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

from chalicelib.domain.errors import InvalidStateError, ValidationError

SUBMITTED = "submitted"
FOC_CONFIRMED = "foc_confirmed"
COMPLETE = "complete"
REJECTED = "rejected"
CANCELLED = "cancelled"
STATES = (SUBMITTED, FOC_CONFIRMED, COMPLETE, REJECTED, CANCELLED)
NEXT = {
    SUBMITTED: (FOC_CONFIRMED, REJECTED, CANCELLED),
    FOC_CONFIRMED: (COMPLETE, REJECTED, CANCELLED),
}
STATUS_CODES = {SUBMITTED: "0", FOC_CONFIRMED: "2", COMPLETE: "1", REJECTED: "3", CANCELLED: "4"}
SUBSCRIBER_TYPES = ("residential", "business")
# One port order completes in one transaction (its numbers + the order).
MAX_PORT_NUMBERS = 99
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def check_transition(current: str, wanted: str) -> None:
    if wanted not in STATES:
        raise ValidationError(f"state must be one of {', '.join(STATES)}", field="state")
    if wanted not in NEXT.get(current, ()):
        raise InvalidStateError(f"a {current} port order cannot become {wanted}", field="state")


def _us_holidays(years: range):  # type: ignore[no-untyped-def]
    import holidays

    return holidays.country_holidays("US", years=list(years))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _us_holidays(range(day.year, day.year + 1))


def earliest_foc(today: date, min_port_days: int) -> date:
    """The first business day at least ``min_port_days`` after today."""
    day = today + timedelta(days=max(min_port_days, 1))
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def parse_foc(text: str | None, *, today: date, min_port_days: int) -> datetime:
    """requestedFocDate as the seed describes it: blank means the next valid
    date; a given one must not be earlier than the losing carrier's minimum
    days, nor a weekend or a US holiday. ISO 8601, UTC."""
    first = earliest_foc(today, min_port_days)
    if not text or not text.strip():
        return datetime(first.year, first.month, first.day, 9, 0, tzinfo=timezone.utc)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("Invalid requestedFocDate", field="requestedFocDate") from None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    if moment.date() < first or not is_business_day(moment.date()):
        raise ValidationError("Invalid requestedFocDate", field="requestedFocDate")
    return moment


def check_zip(data: bytes, field: str) -> None:
    """A non-empty ZIP archive (the seed asks for ZIPs of LOAs and documents)."""
    if not data or len(data) > MAX_DOCUMENT_BYTES or not data.startswith(b"PK"):
        raise ValidationError(f"Invalid {field}", field=field)
    import zipfile  # here, not at module top: only uploads of documents need it (cold start)

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if not archive.namelist() or archive.testzip() is not None:
                raise ValidationError(f"Invalid {field}", field=field)
    except zipfile.BadZipFile:
        raise ValidationError(f"Invalid {field}", field=field) from None

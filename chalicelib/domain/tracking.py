"""Call tracking (issue 12): custom fields, sources, greetings, paging, the
attribution of calls to sources and their per-day figures. Pure Python."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from chalicelib.domain.errors import UnknownFieldError, ValidationError

ENTITIES = ("customer", "source")
FIELD_TYPES = ("string", "integer", "date", "enum")
MAX_SLOT = 50
STRING_MAX = 500
NAME_MAX = 200
# A slot's name as clients write it: no leading zero, so one slot has one name.
_CUSTOM = re.compile(r"^custom_([1-9][0-9]{0,2})$")
CUSTOM_PREFIX = "custom_"

DEFAULT_PAGESIZE = 1000
MAX_PAGESIZE = 5000

# Greetings: WAV or MP3, recognised by their first bytes, at most this big.
MAX_GREETING_BYTES = 5 * 1024 * 1024
AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}

SESSION_SECONDS = 30 * 60
SESSION_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_POOL = 50
STATS_MAX_DAYS = 31


# ---------------------------------------------------------------- custom fields

@dataclass(frozen=True)
class FieldDefinition:
    entity: str
    slot: int
    name: str
    kind: str
    values: tuple[str, ...] = ()

    @property
    def field(self) -> str:
        return f"custom_{self.slot}"


def definition(*, entity: str, slot: int, name: str, kind: str, values: Sequence[str] = ()) -> FieldDefinition:
    """A validated definition (the admin CLI's define-custom-field)."""
    if entity not in ENTITIES:
        raise ValidationError(f"entity must be one of {', '.join(ENTITIES)}", field="entity")
    if not 1 <= slot <= MAX_SLOT:
        raise ValidationError(f"slot must be between 1 and {MAX_SLOT}", field="slot")
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError(f"name must be 1-{NAME_MAX} characters", field="name")
    if kind not in FIELD_TYPES:
        raise ValidationError(f"type must be one of {', '.join(FIELD_TYPES)}", field="type")
    cleaned = tuple(v.strip() for v in values if v.strip())
    if kind == "enum" and not cleaned:
        raise ValidationError("an enum needs --values", field="values")
    if kind != "enum" and cleaned:
        raise ValidationError("only an enum takes values", field="values")
    return FieldDefinition(entity=entity, slot=slot, name=name, kind=kind, values=cleaned)


def from_record(record: Mapping[str, Any]) -> FieldDefinition:
    return FieldDefinition(entity=record["entity"], slot=int(record["slot"]), name=record["name"],
                           kind=record["type"], values=tuple(record.get("values") or ()))


def custom_values(given: Mapping[str, Any], defined: Iterable[FieldDefinition], entity: str) -> dict[str, Any]:
    """The ``custom_*`` inputs among ``given``, checked against the entity's
    definitions: {"N": value}, None to clear. A name that is not a slot's
    (``custom_abc``, ``custom_01``, ``custom_1000``) or an undefined slot is
    UnknownFieldError, a value of the wrong type ValidationError, all naming
    the field: nothing a client sends as custom is dropped unseen."""
    slots = {d.slot: d for d in defined if d.entity == entity}
    found: dict[str, Any] = {}
    for name, value in given.items():
        if not name.startswith(CUSTOM_PREFIX):
            continue
        match = _CUSTOM.match(name)
        spec = slots.get(int(match.group(1))) if match else None
        if spec is None:
            raise UnknownFieldError(f"{name} is not a defined custom field of {entity}s", field=name)
        found[str(spec.slot)] = _custom_value(spec, value)
    return found


def _custom_value(spec: FieldDefinition, value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, (dict, list, bool)) or isinstance(value, float):
        raise ValidationError(f"{spec.field} must be a {spec.kind}", field=spec.field)
    text = str(value).strip()
    if spec.kind == "string":
        if len(text) > STRING_MAX:
            raise ValidationError(f"{spec.field} must be at most {STRING_MAX} characters", field=spec.field)
        return text
    if spec.kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,18}", text):
            raise ValidationError(f"{spec.field} must be an integer", field=spec.field)
        return str(int(text))
    if spec.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(f"{spec.field} must be a date (YYYY-MM-DD)", field=spec.field) from None
    if text not in spec.values:
        raise ValidationError(f"{spec.field} must be one of {', '.join(spec.values)}", field=spec.field)
    return text


def custom_view(stored: Mapping[str, Any] | None, defined: Iterable[FieldDefinition], entity: str) -> dict[str, Any]:
    """Every defined slot of the entity as ``custom_N``, None when unset."""
    stored = stored or {}
    return {d.field: stored.get(str(d.slot)) for d in sorted(defined, key=lambda d: d.slot) if d.entity == entity}


# ---------------------------------------------------------------- paging

@dataclass(frozen=True)
class Paging:
    page: int
    pagesize: int

    @property
    def offset(self) -> int:
        return self.page * self.pagesize

    def envelope(self, total: int) -> dict[str, int]:
        return {"total": total, "page": self.page, "pagesize": self.pagesize,
                "numpages": math.ceil(total / self.pagesize) if total else 0}


def paging(params: Mapping[str, str]) -> Paging:
    return Paging(page=_whole(params, "page", 0, 0, 10**6),
                  pagesize=_whole(params, "pagesize", DEFAULT_PAGESIZE, 1, MAX_PAGESIZE))


def _whole(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationError(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(text)


def entity_id(text: Any, field: str) -> int:
    value = str(text or "").strip()
    if not value.isdigit() or len(value) > 12 or int(value) == 0:
        raise ValidationError(f"{field} must be a positive integer", field=field)
    return int(value)


# ---------------------------------------------------------------- greetings

def audio_kind(data: bytes) -> str | None:
    """'wav' or 'mp3' by content (RIFF/WAVE header; ID3 tag or an MPEG audio
    frame header), None for anything else."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if len(data) >= 10 and data[:3] == b"ID3" and data[3] in (2, 3, 4):
        return "mp3"
    if len(data) >= 4 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0:
        version, layer = (data[1] >> 3) & 0x3, (data[1] >> 1) & 0x3
        bitrate, rate = (data[2] >> 4) & 0xF, (data[2] >> 2) & 0x3
        if version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3:
            return "mp3"
    return None


# ---------------------------------------------------------------- calls

def to_iso(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def covers(since: Any, until: Any, moment: str) -> bool:
    """Whether the period ``since`` .. ``until`` (stored stamps, open-ended
    without ``until``) covers a CDR start ``moment`` (iso_of_epoch_for_compare).
    CDR starts are whole seconds while stamps carry microseconds, so a period
    covers every second it touches: a call in the very second a number was
    taken is a call of its new holder, not of no one."""
    return str(since)[:19] <= moment[:19] and (not until or moment < str(until))


def holder_at(periods: Sequence[Mapping[str, Any]], moment: str) -> Mapping[str, Any] | None:
    """The holding period of a number in force at ``moment`` (ISO, UTC): a call
    belongs to the source that held the number when the call started. Two
    periods sharing that second: the later one."""
    found = None
    for period in periods:
        if covers(period["from"], period.get("until"), moment):
            if found is None or str(period["from"]) > str(found["from"]):
                found = period
    return found


def iso_of_epoch_for_compare(epoch: int) -> str:
    # Stored stamps are "%Y-%m-%dT%H:%M:%S.%fZ"; this sorts with them.
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def source_day_figures(calls: Sequence[Mapping[str, Any]], *, seen_before: Mapping[int, set[str]] | None = None
                       ) -> list[dict[str, Any]]:
    """Per (source, day): calls, answered, unique callers, first-time callers
    (callers never seen by that source on an earlier day), average duration
    of answered calls in whole seconds (half up). ``calls`` ordered by start."""
    seen: dict[int, set[str]] = {k: set(v) for k, v in (seen_before or {}).items()}
    days: dict[tuple[int, str], dict[str, Any]] = {}
    for call in calls:
        source, day = int(call["source_id"]), str(call["start"])[:10]
        figure = days.setdefault((source, day), {"source_id": source, "customer_id": call["customer_id"],
                                                  "date": day, "calls": 0, "answered": 0, "callers": set(),
                                                  "first": set(), "billsec": 0})
        figure["calls"] += 1
        if call["disposition"] == "ANSWERED":
            figure["answered"] += 1
            figure["billsec"] += int(call["billsec"] or 0)
        caller = str(call["caller"] or "")
        figure["callers"].add(caller)
        known = seen.setdefault(source, set())
        if caller not in known:
            known.add(caller)
            figure["first"].add(caller)
    out = []
    for (source, day), f in sorted(days.items()):
        average = (2 * f["billsec"] + f["answered"]) // (2 * f["answered"]) if f["answered"] else 0
        out.append({"source_id": source, "customer_id": f["customer_id"], "date": day, "calls": f["calls"],
                    "answered": f["answered"], "unique_callers": len(f["callers"]),
                    "first_time_callers": len(f["first"]), "average_duration": average})
    return out

"""Request parameters: query strings, flags, integers and times, and what
API Gateway tells about the request (the caller's address, its id)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Mapping

from chalice.app import Request

from chalicelib.domain.errors import ValidationError

TRUE_FLAGS = ("", "1", "true", "yes", "on")
FALSE_FLAGS = ("0", "false", "no", "off")


def query(request: Request) -> dict[str, str]:
    """First value of each query parameter (API Gateway gives '' for a bare flag)."""
    params: Mapping[str, str] = request.query_params or {}
    return {k: v for k, v in params.items()}


def flag(params: Mapping[str, str], name: str) -> bool:
    """A flag given bare (?expandNumbers), or =true/=1; absent or =false is off."""
    if name not in params:
        return False
    value = (params[name] or "").strip().lower()
    if value in TRUE_FLAGS:
        return True
    if value in FALSE_FLAGS:
        return False
    raise ValidationError(f"{name} must be true or false", field=name)


def optional_bool(params: Mapping[str, str], name: str) -> bool | None:
    return flag(params, name) if name in params else None


def int_param(params: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(f"{name} must be an integer", field=name) from None
    if not minimum <= value <= maximum:
        raise ValidationError(f"{name} must be between {minimum} and {maximum}", field=name)
    return value


# A '+' sent unencoded in a query string arrives as a space: "...T00:00:00 00:00"
# is "...T00:00:00+00:00" (a time, a space, then an offset and nothing else).
_OFFSET_AFTER_SPACE = re.compile(r"^(.+[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def iso_param(params: Mapping[str, str], name: str) -> str | None:
    """An ISO 8601 time, normalised to the stored form (UTC, microseconds, Z).
    Years 0001-9999 are accepted ("since the beginning" is a common way to say
    "all"); a time that falls outside them once moved to UTC is refused."""
    text = params.get(name)
    if not text:
        return None
    text = _OFFSET_AFTER_SPACE.sub(r"\1+\2", text.strip())
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ValidationError(f"{name} must be an ISO 8601 time between years 0001 and 9999 "
                              "(e.g. 2024-01-01T00:00:00Z)", field=name) from None
    # isoformat, not strftime: strftime writes year 1 as "1", which no reader parses.
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def source_ip(request: Request) -> str | None:
    """The address API Gateway saw the request come from. Never a client-set
    forwarding header, which anyone can write."""
    return (request.context.get("identity") or {}).get("sourceIp")


def request_id(request: Request) -> str:
    return str(request.context.get("requestId") or uuid.uuid4())

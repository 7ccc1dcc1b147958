"""Voice-call requests and their verbs."""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from chalicelib.domain.errors import UnknownFieldError
from chalicelib.domain.voice.fields import AnyKey, boolean, enum, fail, integer, bounded_list, object_fields, required, string, e164
from chalicelib.domain.voice.constants import EXTENSION

# ------------------------------------------------------------------ voice calls
VERBS = ("dial", "say", "play", "gather", "reject", "hangup", "redirect")
MAX_VERBS = 50
MAX_TAGS = 20
SIP_URI = re.compile(r"^sips?:[^@\s]+@[A-Za-z0-9.\-\[\]:]+(;[^\s]*)?$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
DIGITS_KEYS = re.compile(r"^[0-9*#]$")

LIVE_STATES = ("queued", "initiated", "ringing", "answered")
FINAL_STATES = ("completed", "busy", "no-answer", "failed", "canceled")


def call_input(body: Any) -> dict[str, Any]:
    """A POST /account/{id}/channels/voice body, normalised (callerId may be None: the account's mbn)."""
    body = object_fields(body, "", ("callerId", "tag", "target", "verbs"))
    caller = body.get("callerId")
    request: dict[str, Any] = {"callerId": None if caller in (None, "") else e164(caller, "/callerId")}
    request["tag"] = tag_input(body.get("tag"), "/tag")
    request["target"] = target_input(required(body, "target", ""), "/target")
    request["verbs"] = verbs_input(required(body, "verbs", ""), "/verbs")
    return request


def update_input(body: Any) -> list[dict[str, Any]]:
    """PUT on a live call: ``{"verbs": [...]}`` replaces what is left to run."""
    body = object_fields(body, "", ("verbs",))
    return verbs_input(required(body, "verbs", ""), "/verbs")


def tag_input(value: Any, p: str) -> dict[str, Any]:
    if value is None:
        return {"data": {}}
    value = object_fields(value, p, ("data",))
    data = object_fields(value.get("data", {}), f"{p}/data", AnyKey())
    if len(data) > MAX_TAGS:
        raise fail(f"{p}/data", f"holds at most {MAX_TAGS} keys")
    out = {}
    for key, item in data.items():
        if not 1 <= len(key) <= 64:
            raise fail(f"{p}/data", "keys must be 1-64 characters")
        out[key] = string(item, f"{p}/data/{key}", low=0, high=256)
    return {"data": out}


def target_input(value: Any, p: str) -> dict[str, Any]:
    value = object_fields(value, p, ("device", "sipUri", "phoneNumber", "extension"))
    if len(value) != 1:
        raise fail(p, "needs exactly one of device, sipUri, phoneNumber or extension")
    (kind, config), = value.items()
    q = f"{p}/{kind}"
    if kind == "device":
        config = object_fields(config, q, ("id",))
        return {"device": {"id": string(required(config, "id", q), f"{q}/id", high=64)}}
    if kind == "sipUri":
        config = object_fields(config, q, ("uri",))
        return {"sipUri": {"uri": string(required(config, "uri", q), f"{q}/uri", high=256, pattern=SIP_URI)}}
    if kind == "phoneNumber":
        config = object_fields(config, q, ("number",))
        return {"phoneNumber": {"number": e164(required(config, "number", q), f"{q}/number")}}
    config = object_fields(config, q, ("extension", "overrideTo"))
    out = {"extension": string(required(config, "extension", q), f"{q}/extension", pattern=EXTENSION)}
    if config.get("overrideTo") is not None:
        out["overrideTo"] = string(config["overrideTo"], f"{q}/overrideTo", high=32,
                                    pattern=re.compile(r"^[0-9*#+]{1,32}$"))
    return {"extension": out}


def verbs_input(value: Any, p: str, *, nested: bool = False) -> list[dict[str, Any]]:
    verbs = bounded_list(value, p, 1, MAX_VERBS)
    return [verb_input(v, f"{p}/{n}", nested=nested) for n, v in enumerate(verbs)]


def verb_input(value: Any, p: str, *, nested: bool = False) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise fail(p, f"must be an object with exactly one verb: {', '.join(VERBS)}")
    (name, config), = value.items()
    if name not in VERBS:
        raise UnknownFieldError(f"{p}/{name}: unknown verb (one of {', '.join(VERBS)})", field=f"{p}/{name}")
    if nested and name not in ("say", "play"):
        raise fail(f"{p}/{name}", "only say and play may prompt a gather")
    return {name: _VERB_PARSERS[name](config, f"{p}/{name}")}


def say_verb(config: Any, q: str) -> dict[str, Any]:
    config = object_fields(config, q, ("text", "voice", "language", "loop"))
    texts = [string(t, f"{q}/text/{n}", high=2000) for n, t in enumerate(bounded_list(required(config, "text", q), f"{q}/text", 1, 20))]
    out: dict[str, Any] = {"text": texts, "loop": integer(config.get("loop", 1), f"{q}/loop", 1, 10)}
    if config.get("voice") is not None:
        out["voice"] = enum(config["voice"], f"{q}/voice", ("female", "male"))
    if config.get("language") is not None:
        out["language"] = string(config["language"], f"{q}/language", high=20, pattern=LANGUAGE)
    return out


def play_verb(config: Any, q: str) -> dict[str, Any]:
    config = object_fields(config, q, ("url", "loop"))
    url = string(required(config, "url", q), f"{q}/url", high=2048)
    try:
        scheme = urlsplit(url).scheme
    except ValueError:  # e.g. an unclosed IPv6 bracket: a refusal, not a server error
        raise fail(f"{q}/url", "is not a valid URL") from None
    if scheme != "https":
        raise fail(f"{q}/url", "must be an https URL of an audio file")
    return {"url": url, "loop": integer(config.get("loop", 1), f"{q}/loop", 1, 10)}


def _gather(config: Any, q: str) -> dict[str, Any]:
    config = object_fields(config, q, ("numDigits", "timeout", "finishOnKey", "prompt"))
    out: dict[str, Any] = {"numDigits": integer(config.get("numDigits", 1), f"{q}/numDigits", 1, 32),
                           "timeout": integer(config.get("timeout", 5), f"{q}/timeout", 1, 60)}
    if config.get("finishOnKey") is not None:
        out["finishOnKey"] = string(config["finishOnKey"], f"{q}/finishOnKey", pattern=DIGITS_KEYS)
    if config.get("prompt") is not None:
        out["prompt"] = verbs_input(config["prompt"], f"{q}/prompt", nested=True)
    return out


def _dial(config: Any, q: str) -> dict[str, Any]:
    config = object_fields(config, q, ("callerId", "timeout", "timeLimit", "targets", "record"))
    out: dict[str, Any] = {
        "timeout": integer(config.get("timeout", 30), f"{q}/timeout", 1, 600),
        "timeLimit": integer(config.get("timeLimit", 14400), f"{q}/timeLimit", 1, 86400),
        "targets": [target_input(t, f"{q}/targets/{n}")
                    for n, t in enumerate(bounded_list(required(config, "targets", q), f"{q}/targets", 1, 10))],
        "record": boolean(config.get("record", False), f"{q}/record"),
    }
    if config.get("callerId") not in (None, ""):
        out["callerId"] = e164(config["callerId"], f"{q}/callerId")
    return out


def _reject(config: Any, q: str) -> dict[str, Any]:
    config = object_fields(config, q, ("reason",))
    return {"reason": enum(config.get("reason", "rejected"), f"{q}/reason", ("rejected", "busy"))}


def _hangup(config: Any, q: str) -> dict[str, Any]:
    config = object_fields(config, q, ("reason",))
    return {"reason": string(config.get("reason", "normal"), f"{q}/reason", high=64,
                              pattern=re.compile(r"^[A-Za-z0-9_.\-]+$"))}


def _redirect(config: Any, q: str) -> dict[str, Any]:
    config = object_fields(config, q, ("device", "hook"))
    if len(config) != 1:
        raise fail(q, "needs exactly one of device (a flow device id) or hook (a flow.generic hook id)")
    (kind, ident), = config.items()
    return {kind: string(ident, f"{q}/{kind}", high=64)}


_VERB_PARSERS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "dial": _dial, "say": say_verb, "play": play_verb, "gather": _gather, "reject": _reject, "hangup": _hangup,
    "redirect": _redirect,
}


def targets_in(request: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(pointer, target) of the call's target and every dial verb's targets."""
    found = [("/target", request["target"])] if "target" in request else []
    for n, verb in enumerate(request.get("verbs", [])):
        if "dial" in verb:
            found += [(f"/verbs/{n}/dial/targets/{m}", t) for m, t in enumerate(verb["dial"]["targets"])]
    return found


def caller_ids_in(request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(pointer, number) of every caller id the request presents: the call's
    (when given) and each dial verb's."""
    found = [("/callerId", str(request["callerId"]))] if request.get("callerId") else []
    for n, verb in enumerate(request.get("verbs", [])):
        if "dial" in verb and verb["dial"].get("callerId"):
            found.append((f"/verbs/{n}/dial/callerId", str(verb["dial"]["callerId"])))
    return found


def redirects_in(verbs: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"/verbs/{n}/redirect", v["redirect"]) for n, v in enumerate(verbs) if "redirect" in v]

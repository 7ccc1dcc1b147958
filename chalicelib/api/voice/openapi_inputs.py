"""The request bodies of the voice API's OpenAPI description, as strict as the
domain's checks (chalicelib.domain.voice): the same lengths, enums, patterns,
required fields and closed objects, so a body the document calls valid is one
the API accepts, apart from what a schema cannot say (a reference must name a
resource of the account, a caller id must be one of its DDIs, a hook's host
must resolve to a public address). Text is checked after trimming, so a
required text needs a character other than white space."""
from __future__ import annotations

from typing import Any

from chalicelib.domain import voice as rules
from chalicelib.domain.countries import COUNTRIES

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
E164 = {"type": "string", "pattern": rules.E164.pattern, "description": "E.164, such as +441234567890"}
# What Python's str.strip() and \s take for white space, spelled out: a schema's \s
# is read differently by ECMA 262 and by validators in ASCII mode.
SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_SPACE = f"[^{SPACE}]"
COUNTRY = {"type": "string", "enum": sorted(COUNTRIES), "description": "ISO 3166-1 alpha-2"}


def text(high: int, low: int = 1, pattern: str | None = None, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "string", "maxLength": high, **extra}
    if low:
        found["minLength"] = low
        found["pattern"] = pattern or NOT_SPACE  # not only white space (trimmed before it is checked)
    elif pattern:
        found["pattern"] = pattern
    return found


def integer(low: int, high: int, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high, **extra}


def obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    if required:
        found["required"] = required
    return found


def one_of(choices: dict[str, dict[str, Any]], description: str) -> dict[str, Any]:
    """Exactly one of the named members, each an object of its own."""
    return {"description": description,
            "oneOf": [obj({name: schema}, [name]) for name, schema in choices.items()]}


TARGET_NAME = text(64, description="a device id of the same account, or HANGUP")
SAY = obj({"text": {"type": "array", "items": text(2000), "minItems": 1, "maxItems": 20},
           "voice": {"type": "string", "enum": ["female", "male"]},
           "language": text(20, pattern=rules.LANGUAGE.pattern, description="BCP 47, such as en-GB"),
           "loop": integer(1, 10)}, ["text"])
PLAY = obj({"url": text(2048, pattern=r"^https://[A-Za-z0-9.\-]+(:[0-9]{1,5})?([/?#]|$)",
                        description="an https URL of an audio file"),
            "loop": integer(1, 10)}, ["url"])
EXTENSION = {"type": "string", "pattern": rules.EXTENSION.pattern}


def target() -> dict[str, Any]:
    return one_of({
        "device": obj({"id": text(64, description="a device of the account")}, ["id"]),
        "sipUri": obj({"uri": text(256, pattern=rules.SIP_URI.pattern.replace(r"\s", SPACE))}, ["uri"]),
        "phoneNumber": obj({"number": E164}, ["number"]),
        "extension": obj({"extension": {**EXTENSION, "description": "a flow device's extension in the account"},
                          "overrideTo": text(32, pattern="^[0-9*#+]{1,32}$",
                                             description="the extension dialled behind it")}, ["extension"]),
    }, "exactly one of device, sipUri, phoneNumber, extension")


def verb() -> dict[str, Any]:
    prompt = one_of({"say": SAY, "play": PLAY}, "say or play")
    return one_of({
        "say": SAY, "play": PLAY,
        "gather": obj({"numDigits": integer(1, 32), "timeout": integer(1, 60),
                       "finishOnKey": {"type": "string", "pattern": rules.DIGITS_KEYS.pattern},
                       "prompt": {"type": "array", "items": prompt, "minItems": 1, "maxItems": rules.MAX_VERBS}}),
        "dial": obj({"callerId": {**E164, "description": "E.164, one of the account's active DDIs"},
                     "timeout": integer(1, 600), "timeLimit": integer(1, 86400),
                     "targets": {"type": "array", "items": target(), "minItems": 1, "maxItems": 10},
                     "record": {"type": "boolean"}}, ["targets"]),
        "reject": obj({"reason": {"type": "string", "enum": ["rejected", "busy"]}}),
        "hangup": obj({"reason": text(64, pattern=r"^[A-Za-z0-9_.\-]+$")}),
        "redirect": one_of({"device": text(64, description="a flow device of the account"),
                            "hook": text(64, description="a flow.generic hook of the account")},
                           "exactly one of device or hook"),
    }, f"exactly one verb: {', '.join(rules.VERBS)}")


def verbs() -> dict[str, Any]:
    return {"type": "array", "items": verb(), "minItems": 1, "maxItems": rules.MAX_VERBS}


TAG = obj({"data": {"type": "object", "maxProperties": rules.MAX_TAGS, "additionalProperties": text(256, low=0),
                    "description": "string values; keys of 1-64 characters"}})


def address() -> dict[str, Any]:
    """A known country by ISO code or name; a postal code, in the country's
    format, is required for the countries that have one."""
    lines = {"line1": text(200), "line2": text(200, low=0, nullable=True),
             "level1": text(100, low=0, nullable=True, description="county / state"),
             "level2": text(100, description="town / city")}
    anywhere = sorted(set(COUNTRIES) - set(rules.POSTAL_CODES))
    choices = [obj({**lines, "country": {"type": "string", "enum": anywhere},
                    "postalCode": text(20, nullable=True)}, ["line1", "level2", "country"])]
    for code, pattern in rules.POSTAL_CODES.items():
        choices.append(obj({**lines, "country": {"type": "string", "enum": [code, COUNTRIES[code]]},
                            "postalCode": text(20, pattern=pattern.pattern)},
                           ["line1", "level2", "country", "postalCode"]))
    return {"oneOf": choices, "description": "country: an ISO 3166-1 alpha-2 code or the country's name"}


def trunk() -> dict[str, Any]:
    return obj({"ip": {"type": "string", "maxLength": 45, "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
                       "description": "a public IPv4 or IPv6 address the platform can reach"},
                "port": integer(1, 65535), "vendor": {"type": "string", "enum": list(rules.VENDORS)},
                "callerFormat": {"type": "string", "enum": list(rules.NUMBER_FORMATS)},
                "calledFormat": {"type": "string", "enum": list(rules.NUMBER_FORMATS)},
                "description": text(200, low=0), "zone": {"type": "string", "enum": list(rules.ZONES)},
                "countryCode": COUNTRY}, ["ip", "countryCode"],
               description="A PUT may repeat the trunk's id (it must be the one in the path)")


def hook() -> dict[str, Any]:
    common = {"app": {"type": "string", "enum": [rules.FLOW_APP, rules.EVENT_APP]},
              "url": text(2048, pattern=rf"^https?://[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?(/{NOT_SPACE}*)?$",
                          description="http or https; its host must resolve to a public address"),
              "method": {"type": "string", "enum": list(rules.HOOK_METHODS)}, "priority": integer(0, 1000)}
    basic = obj({"username": text(128, pattern=f"^[^:]*[^:{SPACE}][^:]*$"), "password": text(256)},
                ["username", "password"])
    bearer = obj({"token": text(2048, pattern=r"^[\x21-\x7e]+$")}, ["token"])
    return {"description": "credentials only (and then required) for authType BASIC or BEARER; a PUT may "
                           "repeat the hook's id (it must be the one in the path)",
            "oneOf": [obj({**common, "authType": {"type": "string", "enum": ["DISABLED", "SIGNED"]}}, ["app", "url"]),
                      obj({**common, "authType": {"type": "string", "enum": ["BASIC"]}, "credentials": basic},
                          ["app", "url", "authType", "credentials"]),
                      obj({**common, "authType": {"type": "string", "enum": ["BEARER"]}, "credentials": bearer},
                          ["app", "url", "authType", "credentials"])]}


def device() -> dict[str, Any]:
    from zoneinfo import available_timezones

    sections = {
        rules.ROUTE_START: obj({"ddis": {"type": "array", "items": text(64, description="a DDI id of the account"),
                                         "maxItems": 100, "uniqueItems": True},
                                "connectTo": TARGET_NAME}, ["connectTo"]),
        rules.SIP_GATEWAY: obj({"ringTime": integer(1, 600), "maxCallTime": integer(1, 86400),
                                "record": {"type": "boolean"},
                                "trunks": {"type": "array", "items": text(64, description="a trunk of the account"),
                                           "minItems": 1, "maxItems": 10},
                                "present": {"type": "string", "enum": list(rules.PRESENT)}, "countryCode": COUNTRY,
                                **{name: TARGET_NAME for name in ("onComplete", "onFail", "onNoAnswer", "onBusy")}},
                               ["trunks"]),
        rules.ANNOUNCEMENT: {"description": "exactly one of say or play", "oneOf": [
            obj({"say": SAY, "connectTo": TARGET_NAME}, ["say"]), obj({"play": PLAY, "connectTo": TARGET_NAME}, ["play"])]},
        rules.TIME_SWITCH: obj({"timezone": {"type": "string", "enum": sorted(available_timezones()),
                                             "description": "an IANA time zone such as Europe/London"},
                                "ranges": {"type": "array", "minItems": 1, "maxItems": 20, "items": obj({
                                    "days": {"type": "array", "minItems": 1, "maxItems": 7,
                                             "items": {"type": "string", "enum": list(rules.DAYS)}},
                                    "start": {"type": "string", "pattern": rules.CLOCK.pattern},
                                    "end": {"type": "string", "pattern": rules.CLOCK.pattern,
                                            "description": "after start"}}, ["days", "start", "end"])},
                                "onMatch": TARGET_NAME, "onNoMatch": TARGET_NAME}, ["ranges", "onMatch", "onNoMatch"]),
        rules.FLOW_HOOK: obj({"hook": text(64, description="a flow.generic hook of the account"),
                              "timeout": integer(1, 30), "onFail": TARGET_NAME}, ["hook"]),
        rules.MENU: obj({"say": SAY, "options": {
            "type": "object", "minProperties": 1, "additionalProperties": False,
            "properties": {key: TARGET_NAME for key in [*"0123456789", "*", "#"]}},
            "timeout": integer(1, 60), "onNoInput": TARGET_NAME}, ["say", "options"]),
    }
    choices = []
    for kind, section in rules.DEVICE_TYPES.items():
        choices.append(obj({"type": {"type": "string", "enum": [kind]}, "name": text(100),
                            "extension": EXTENSION, section: sections[kind]}, ["type", "name", section]))
    return {"description": "the type's one section; a PUT may repeat the device's id (it must be the one in "
                           "the path)", "oneOf": choices}


def schemas() -> dict[str, Any]:
    return {
        "AddressInput": address(), "TrunkInput": trunk(), "HookInput": hook(), "DeviceInput": device(),
        "CallInput": obj({"callerId": {"type": "string", "pattern": f"^$|{rules.E164.pattern}",
                                       "description": "E.164, one of the account's active DDIs (400 otherwise, "
                                                      "as each dial's callerId); blank or absent: the account's "
                                                      "mbn as it is when the call is created"},
                          "tag": TAG, "target": target(), "verbs": verbs()}, ["target", "verbs"]),
        "CallUpdate": obj({"verbs": verbs()}, ["verbs"]),
        "InboundCall": obj({"ddi": text(64, description="a DDI id of the account or its number"), "from": E164,
                            "tag": TAG}, ["ddi", "from"]),
    }



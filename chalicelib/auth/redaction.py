"""Credentials out of every log line: API keys and tokens, passwords, TOTP
secrets and codes, Authorization headers, Digest responses, card numbers and CVVs.

``redact`` rewrites one piece of text; ``RedactingFilter`` applies it to a
logging record (message, arguments and traceback) and ``install`` puts that
filter on the handlers that write log lines (Lambda's root handler, the local
servers' ones). The local runtime's log shipper also redacts every line its
processes print (infra/local/log_shipper.py), so a ``print`` cannot leak either.

Only standard-library modules: the API imports this at every cold start.
"""
from __future__ import annotations

import logging
import re

MASK = "[REDACTED]"

# Names under which a credential travels: query strings and forms (carrier
# ``token=``), JSON bodies, headers. Compared case-insensitively, with - and _ alike.
_SECRET_NAMES = (
    r"token|access[-_]?token|refresh[-_]?token|id[-_]?token|api[-_]?key|apikey|x[-_]api[-_]key|"
    r"password|passwd|pwd|new[-_]?password|current[-_]?password|old[-_]?password|secret|client[-_]?secret|"
    r"totp[-_]?secret|totp|otp|mfa[-_]?code|card[-_]?number|cardnumber|pan|cvv|cvc|cvv2|security[-_]?code|"
    r"authorization|proxy[-_]authorization"
)
# name=value in a query string, a form or a log's key=value pairs.
_ASSIGNED = re.compile(rf"(?i)(?<![\w-])({_SECRET_NAMES})=([^&\s\"',;]+)")
# "name": "value" or "name": 123 in JSON (single quotes too: a repr'd dict).
_QUOTED = re.compile(rf"(?i)([\"'](?:{_SECRET_NAMES})[\"']\s*:\s*)(\"[^\"]*\"|'[^']*'|\d+)")
# A header line "Authorization: <anything>" (a dict's 'Authorization': '...' is _QUOTED).
_HEADER = re.compile(r"(?im)^(\s*(?:proxy-)?authorization\s*:\s*).+$")
# Credentials after their scheme wherever they appear, and a Digest header's response="...".
_SCHEME = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=:-]{6,}|\b(Basic)(\s+)[A-Za-z0-9+/]{12,}={0,2}")
# Dialtone's API keys by their prefix (chalicelib/auth/hashing.py), named or not.
_API_KEY = re.compile(r"\bdtk_[A-Za-z0-9_-]{16,}")
_DIGEST_RESPONSE = re.compile(r"(?i)\b(response\s*=\s*)(\"[^\"]*\"|[0-9a-f]{16,})")
# 13 to 19 digits, spaces or dashes between groups, starting as card numbers
# do (2-6): epoch milliseconds (1...) are left alone; only Luhn-valid runs are masked.
_CARD = re.compile(r"(?<![\d.])[2-6](?:[ -]?\d){12,18}(?![\d.])")


def redact(text: str) -> str:
    if not text:
        return text
    text = _ASSIGNED.sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _QUOTED.sub(lambda m: f"{m.group(1)}\"{MASK}\"", text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _SCHEME.sub(lambda m: f"{m.group(1) or m.group(3)}{m.group(2) or m.group(4)}{MASK}", text)
    text = _API_KEY.sub(MASK, text)
    text = _DIGEST_RESPONSE.sub(lambda m: f"{m.group(1)}\"{MASK}\"", text)
    return _mask_cards(text)


def _mask_cards(text: str) -> str:
    """Every Luhn-valid run masked, also one that overlaps a longer run that
    is not valid (``2 4242 4242 4242 4242``: the run from the first 2 fails
    Luhn, the card after the space must still go), so the search resumes
    one character after a refused candidate, not after its end."""
    pieces, done, at = [], 0, 0
    while (match := _CARD.search(text, at)) is not None:
        if _luhn(re.sub(r"[ -]", "", match.group(0))):
            pieces += [text[done:match.start()], "[REDACTED CARD]"]
            done = at = match.end()
        else:
            at = match.start() + 1
    return "".join(pieces) + text[done:] if pieces else text


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class RedactingFilter(logging.Filter):
    """Rewrites a record in place so whatever formats it sees no credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave the record for logging to report
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(*loggers: logging.Logger) -> None:
    """The filter on every handler of the root logger and of ``loggers``
    (a filter on a handler sees the records of every logger that reaches it)."""
    for logger in (logging.getLogger(), *loggers):
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())

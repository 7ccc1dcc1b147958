"""Credentials never reach a log line in clear (chalicelib/auth/redaction.py)."""
from __future__ import annotations

import logging

import pytest

from chalicelib.auth.redaction import MASK, RedactingFilter, redact

KEY = "dtk_" + "A1b2C3d4" * 5


@pytest.mark.parametrize("line, secret", [
    (f'127.0.0.1 - - "GET /carrier/getnumbers?token={KEY}&accountno=7 HTTP/1.1" 200 -', KEY),
    ('"GET /carrier/make_payment?cardnumber=4242424242424242&cvv=9137 HTTP/1.1"', "9137"),
    ('{"password": "hunter2-long", "username": "ada"}', "hunter2-long"),
    ('{"newPassword":"s3cret-value"}', "s3cret-value"),
    ("{'cvv': '737', 'amount': '5'}", "737"),
    (f"{{'Authorization': 'Bearer {KEY}'}}", KEY),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
    ('Authorization: Digest username="ada", realm="r", nonce="n", response="6629fae49393a05397450978507c4ef1"',
     "6629fae49393a05397450978507c4ef1"),
    ('digest from ada: response="6629fae49393a05397450978507c4ef1"', "6629fae49393a05397450978507c4ef1"),
    (f"invalid key {KEY} from 10.0.0.1", KEY),
    ("card 5555 5555 5555 4444 declined", "5555 5555 5555 4444"),
    ("card 4111-1111-1111-1111 declined", "4111-1111-1111-1111"),
    # a card right after a digit group whose longer run is not Luhn-valid
    ("ref 2 4242 4242 4242 4242 paid", "4242 4242 4242 4242"),
    ("totp_secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "JBSWY3DPEHPK3PXP"),
])
def test_a_credential_is_masked(line: str, secret: str) -> None:
    redacted = redact(line)
    assert secret not in redacted and ("REDACTED" in redacted), redacted


@pytest.mark.parametrize("line", [
    "order 1796604931761 placed for 2062190000 at 2026-12-07T01:00:00Z",
    "not a card: 4242424242424241",
    "the token expired; basic options apply",
    "GET /backend/api/v1/customers?limit=10&spanner=3 HTTP/1.1",
])
def test_ordinary_text_is_left_alone(line: str) -> None:
    assert redact(line) == line


def test_the_filter_masks_arguments_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "call with %s", (f"token={KEY}",), None)
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError as error:
        record.exc_info = (type(error), error, error.__traceback__)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"call with token={MASK}"
    assert KEY not in (record.exc_text or "") and "ValueError" in (record.exc_text or "")

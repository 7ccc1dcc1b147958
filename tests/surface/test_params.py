"""Query parameters shared by every surface (api/http/params.py)."""
from __future__ import annotations

import pytest

from chalicelib.api import http
from chalicelib.domain.errors import ValidationError


@pytest.mark.parametrize("text, stored", [
    ("0090-04-19T05:40:48Z", "0090-04-19T05:40:48.000000Z"),  # strftime would write "90-04-19..."
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"),
    ("2026-01-02T03:04:05+02:00", "2026-01-02T01:04:05.000000Z"),
])
def test_times_are_stored_with_a_four_digit_year(text: str, stored: str) -> None:
    assert http.iso_param({"since": text}, "since") == stored


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "yesterday"])
def test_times_outside_what_can_be_stored_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        http.iso_param({"since": text}, "since")

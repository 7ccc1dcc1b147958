"""A customer's own number outside North America (recorded by the billing
API, never stock) must be a real E.164 number, not just '+' and 7-15 digits."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.numbers.inventory import INTERNATIONAL, LANDLINE, TOLLFREE, parse_own_number


@pytest.mark.parametrize("text", ["+442071234567", " +33612345678 ", "+4915123456789"])
def test_a_valid_number_outside_the_nanp_is_kept_as_e164(text: str) -> None:
    assert parse_own_number(text) == (text.strip(), INTERNATIONAL)


@pytest.mark.parametrize("text", [
    "+2000000",  # no country has calling code 200
    "+999999999999999",  # 999 is no country's code either
    "+4412",  # too short for the United Kingdom
    "+44207123456789",  # too long for it
    "+440000000000",  # a length the UK uses, a range it never assigns
    "+44\u0662\u0660\u0667\u0661\u0662\u0663\u0664\u0665\u0666\u0667",  # Arabic-Indic digits
])
def test_an_impossible_or_unassigned_number_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_own_number(text)
    assert refused.value.field == "number"


def test_nanp_numbers_keep_their_ten_digits() -> None:
    assert parse_own_number("+12065550123") == ("2065550123", LANDLINE)
    assert parse_own_number("8885550123") == ("8885550123", TOLLFREE)

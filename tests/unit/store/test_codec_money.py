from decimal import Decimal

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.money.amounts import as_money, parse_money, round_money
from chalicelib.store.dynamo.codec import from_attr, to_attr


def test_floats_are_never_stored():
    with pytest.raises(TypeError):
        to_attr(1.5)


def test_decimal_round_trip_keeps_every_digit():
    value = Decimal("245.71293")
    assert from_attr(to_attr(value)) == value
    assert from_attr(to_attr(Decimal("-55.00000"))) == Decimal("-55.00000")


def test_integers_come_back_as_int():
    assert from_attr(to_attr(42)) == 42 and isinstance(from_attr(to_attr(42)), int)


# Everything Python's Decimal() accepts that is not money text (issue 14: "1_000"
# became a credit limit of 1000, "1_0" moved 10.00).
@pytest.mark.parametrize("bad", [1.5, "abc", "NaN", "Infinity", "1.000001", True, None, [1], "1_000", "1_0",
                                 " 5 ", "5 ", "1e3", "1E+3", "+", "-", ".5", "5.", "", "0x10", "\u0663",
                                 "1,000", "--1", Decimal("NaN"), Decimal("-Infinity"), Decimal("1.000001")])
def test_parse_money_refuses_bad_input(bad):
    with pytest.raises(ValidationError):
        parse_money(bad, field="amount")


def test_parse_money_refuses_zero_when_asked():
    with pytest.raises(ValidationError):
        parse_money("0", field="amount", allow_zero=False)


@pytest.mark.parametrize("good, stored", [("0", "0.00000"), ("-55", "-55.00000"), ("+7.25", "7.25000"),
                                          ("0.00001", "0.00001"), (12, "12.00000"), (Decimal("1E+3"), "1000.00000")])
def test_parse_money_accepts_the_one_grammar(good, stored):
    assert str(parse_money(good, field="amount")) == stored


def test_parse_money_quantizes_to_five_places():
    assert str(parse_money("10.5", field="amount")) == "10.50000"
    assert str(parse_money(Decimal("-55"), field="amount")) == "-55.00000"


def test_rounding_is_half_up():
    assert round_money(Decimal("0.000005")) == Decimal("0.00001")
    assert round_money(Decimal("-0.000005")) == Decimal("-0.00001")
    assert as_money(3) == Decimal("3.00000")

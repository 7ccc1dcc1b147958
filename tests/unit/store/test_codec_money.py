from decimal import Decimal

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.money import as_money, parse_money, round_money
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


@pytest.mark.parametrize("bad", [1.5, "abc", "NaN", "Infinity", "1.000001", True, None, [1]])
def test_parse_money_refuses_bad_input(bad):
    with pytest.raises(ValidationError):
        parse_money(bad, field="amount")


def test_parse_money_refuses_zero_when_asked():
    with pytest.raises(ValidationError):
        parse_money("0", field="amount", allow_zero=False)


def test_parse_money_quantizes_to_five_places():
    assert str(parse_money("10.5", field="amount")) == "10.50000"
    assert str(parse_money(Decimal("-55"), field="amount")) == "-55.00000"


def test_rounding_is_half_up():
    assert round_money(Decimal("0.000005")) == Decimal("0.00001")
    assert round_money(Decimal("-0.000005")) == Decimal("-0.00001")
    assert as_money(3) == Decimal("3.00000")

"""Which source a tracked call belongs to: CDR starts are whole seconds, the
holding periods' stamps carry microseconds (CI once lost a call placed in the
second its number was taken: the call belonged to no one)."""
from __future__ import annotations

from chalicelib.domain import tracking as rules

TAKEN = "2026-12-07T05:40:12.834211Z"
CALL_IN_THAT_SECOND = rules.iso_of_epoch_for_compare(1796622012)  # 2026-12-07T05:40:12 exactly


def test_the_epoch_is_the_second_the_number_was_taken() -> None:
    assert CALL_IN_THAT_SECOND == "2026-12-07T05:40:12.000000Z"


def test_a_call_in_the_second_a_number_was_taken_belongs_to_its_holder() -> None:
    period = {"from": TAKEN, "sourceId": 7}
    assert rules.holder_at([period], CALL_IN_THAT_SECOND) == period


def test_a_call_a_second_before_the_number_was_taken_belongs_to_no_one() -> None:
    before = rules.iso_of_epoch_for_compare(1796622011)
    assert rules.holder_at([{"from": TAKEN, "sourceId": 7}], before) is None


def test_a_second_shared_by_two_holders_goes_to_the_later_one() -> None:
    old = {"from": "2026-12-01T00:00:00.000000Z", "until": TAKEN, "sourceId": 6}
    new = {"from": TAKEN, "sourceId": 7}
    assert rules.holder_at([old, new], CALL_IN_THAT_SECOND) == new
    assert rules.holder_at([old], CALL_IN_THAT_SECOND) == old


def test_a_released_number_belongs_to_no_one_from_the_next_second() -> None:
    old = {"from": "2026-12-01T00:00:00.000000Z", "until": TAKEN, "sourceId": 6}
    assert rules.holder_at([old], rules.iso_of_epoch_for_compare(1796622013)) is None

"""Retrying lost optimistic races: one policy for every read-modify-write."""
from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from chalicelib.domain.errors import ConcurrentUpdateError

T = TypeVar("T")
# Time a request may spend re-applying its change under contention before it
# answers 409 (well inside the 30 s Lambda timeout).
BUDGET_SECONDS = 8.0
MAX_PAUSE = 0.2


def until_settled(attempt: Callable[[], T], *, what: str, budget_seconds: float = BUDGET_SECONDS) -> T:
    """Call ``attempt`` (which reads, decides and writes conditionally) until it
    does not lose a race. Pauses grow at random (jittered exponential back-off)
    so racing writers stop colliding. Only a plain ConcurrentUpdateError is a
    lost race: its subclasses name rules that were broken and are final."""
    deadline = time.monotonic() + budget_seconds
    tries = 0
    while True:
        try:
            return attempt()
        except ConcurrentUpdateError as error:
            if type(error) is not ConcurrentUpdateError:
                raise
        tries += 1
        pause = random.uniform(0, min(MAX_PAUSE, 0.005 * 2**tries))
        if time.monotonic() + pause > deadline:
            raise ConcurrentUpdateError(f"{what} is being changed by others; try again")
        time.sleep(pause)

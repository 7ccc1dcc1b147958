"""cdr_daily_close: yesterday (UTC) becomes final for every tenant: figures,
export files and call charges. Files arriving later post only the difference."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.calls import daily
else:
    daily = lazy("chalicelib.services.calls.daily")


def close_yesterday() -> None:
    daily.close_yesterday()

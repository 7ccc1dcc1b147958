import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from chalicelib import clock  # noqa: E402
from tests.support.harness.in_process import (  # noqa: E402,F401
    SHARED_STATE, aws, aws_emptied_after_module, aws_emptied_after_test, tenant)


@pytest.fixture(autouse=True)
def _clock_runs_after_each_test() -> Iterator[None]:
    """A test that stops the clock (``clock.set_now``) never leaves it stopped."""
    yield
    clock.set_now(None)


def pytest_configure(config):  # type: ignore[no-untyped-def]
    config.addinivalue_line("markers", f"{SHARED_STATE}: the module's tests share in-process AWS data "
                                       "(module-scoped fixtures); it is emptied after the module")

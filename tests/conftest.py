import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.in_process import (  # noqa: E402,F401
    SHARED_STATE, aws, aws_emptied_after_module, aws_emptied_after_test, tenant)


def pytest_configure(config):  # type: ignore[no-untyped-def]
    config.addinivalue_line("markers", f"{SHARED_STATE}: the module's tests share in-process AWS data "
                                       "(module-scoped fixtures); it is emptied after the module")

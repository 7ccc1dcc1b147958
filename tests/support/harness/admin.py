"""The admin CLI run as a subprocess against a local runtime: one JSON object per command."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.support.harness.stage import ROOT


def admin(runtime: Any, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "chalicelib.admin", *args], cwd=ROOT, env=runtime.process_env(),
                          capture_output=True, text=True, timeout=60)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout + done.stderr
    return json.loads(lines[0])

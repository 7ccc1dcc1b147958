"""moto in server mode: S3 and SQS for the local runtime on one port.
Its state lives in memory only: objects and messages are gone after a restart."""
from __future__ import annotations

import sys


def command(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

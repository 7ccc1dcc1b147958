"""moto in server mode: S3 and SQS for the local runtime on one port.
Its state lives in memory only: objects and messages are gone after a restart."""
from __future__ import annotations

import sys
from typing import Mapping

# moto keeps an object's bytes in a SpooledTemporaryFile of this size and
# writes a bigger object to a file under /tmp. Its default (5 MiB - 1 KiB)
# sent every attachment of a few MiB to disk: for a 16 MiB PutObject that
# write took about as long as moto's own MD5 of the body (≈ 30 ms each,
# after the last byte arrived), and a bare PutObject ran at ≈ 130 MiB/s
# instead of ≈ 260 MiB/s. 32 MiB keeps every attachment the default
# MAX_FILE_BYTES (25 MiB) allows in memory; bigger objects (CDR files) still
# go to /tmp, so the emulator's memory stays bounded by what is stored small.
KEY_BUFFER_BYTES = 32 * 1024 * 1024


def command(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def environment(base: Mapping[str, str]) -> dict[str, str]:
    """The moto server's environment: ``base`` with its S3 object buffer size."""
    return {**base, "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(KEY_BUFFER_BYTES)}

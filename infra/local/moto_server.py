"""moto in server mode: S3 and SQS for the local runtime on one port.

Without ``--state-dir`` its state lives in memory only (the tests' runtime).
With it, infra/local/moto_journal.py writes every change through to that
directory and puts it back on the next start, before the server listens:
`make run` keeps its files and queued messages across restarts.

Usage: python -m infra.local.moto_server --port 8002 [--state-dir .local/moto]
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any, Mapping

# moto keeps an object's bytes in a SpooledTemporaryFile of this size and
# writes a bigger object to a file under /tmp. Its default (5 MiB - 1 KiB)
# sent every attachment of a few MiB to disk: for a 16 MiB PutObject that
# write took about as long as moto's own MD5 of the body (≈ 30 ms each,
# after the last byte arrived), and a bare PutObject ran at ≈ 130 MiB/s
# instead of ≈ 260 MiB/s. 32 MiB keeps every attachment the default
# MAX_FILE_BYTES (25 MiB) allows in memory; bigger objects (CDR files) still
# go to /tmp, so the emulator's memory stays bounded by what is stored small.
KEY_BUFFER_BYTES = 32 * 1024 * 1024


def command(port: int, *, state_dir: Path | None = None) -> list[str]:
    return [sys.executable, "-m", "infra.local.moto_server", "--port", str(port),
            *(["--state-dir", str(state_dir)] if state_dir else [])]


def environment(base: Mapping[str, str]) -> dict[str, str]:
    """The moto server's environment: ``base`` with its S3 object buffer size,
    and this repository importable (the server is our module) from any directory."""
    from infra.local.environment import ROOT

    path = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
    return {**base, "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(KEY_BUFFER_BYTES), "PYTHONPATH": path}


def _stop(_signum: int, _frame: Any) -> None:
    sys.exit(0)  # as moto.server does: the journal has written everything already


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, help="keep S3 objects and SQS messages here across restarts")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some URLs from it
    from werkzeug.serving import run_simple

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    create_app: Any = create_backend_app
    if args.state_dir:
        from infra.local.moto_journal import Journal

        journal = Journal(args.state_dir)
        counts = journal.restore()
        print("restored " + ", ".join(f"{n} {what}" for what, n in counts.items()) + f" from {args.state_dir}",
              flush=True)
        create_app = lambda service: journal.wrap(service, create_backend_app(service))  # noqa: E731
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    app = DomainDispatcherApplication(create_app)
    app.debug = True  # type: ignore[attr-defined]  # as moto.server: errors answered with their reason
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()

"""CloudWatch Logs and its subscription, for one local process.

Runs a command, passes its output on line by line (prefixed with a name),
and hands the audit lines ({"dialtone_audit": ...}, see
chalicelib/services/common/audit.py) in batches to
chalicelib.workers.audit_logs.ingest_lines, which on AWS a log
subscription calls. A batch leaves at most ``BATCH_SECONDS`` after its first
line, so a request's record is listable well within a second.

Usage: python -m infra.local.log_shipper --name api -- python -m infra.local.api_server ...
SIGTERM and SIGINT are passed to the command; the shipper exits when the
command's output ends, after shipping what is left, with the command's code.
"""
from __future__ import annotations

import argparse
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, Iterable

from chalicelib.auth.redaction import redact
from chalicelib.services.common.audit import AUDIT_MARKER
from chalicelib.workers.audit_logs import ingest_lines
from infra.local.processes import die_with_parent

BATCH_SECONDS = 0.25
BATCH_LINES = 500
ATTEMPTS = 4
_MARK = '{"' + AUDIT_MARKER + '"'


class AuditShipper:
    """Collects audit lines on a background thread and ships them in batches."""

    def __init__(self, ingest: Callable[[Iterable[str]], int]) -> None:
        self._ingest = ingest
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audit-shipper", daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        self._lines.put(line)

    def close(self) -> None:
        """Ship what is queued, then stop."""
        self._lines.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._lines.get()
            if first is None:
                return
            batch, deadline, closing = [first], time.monotonic() + BATCH_SECONDS, False
            while len(batch) < BATCH_LINES:
                try:
                    line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if line is None:
                    closing = True
                    break
                batch.append(line)
            self._ship(batch)
            if closing:
                return

    def _ship(self, batch: list[str]) -> None:
        for attempt in range(ATTEMPTS):
            try:
                self._ingest(batch)
                return
            except Exception as error:  # DynamoDB Local still starting or already stopping
                if attempt == ATTEMPTS - 1:
                    print(f"audit shipper: {len(batch)} audit records lost: {error!r}", file=sys.stderr, flush=True)
                else:
                    time.sleep(0.2 * 2**attempt)


def pump_output(lines: Iterable[bytes], shipper: AuditShipper, *, prefix: str) -> None:
    for raw in lines:
        line = raw.decode("utf-8", errors="replace")
        if _MARK in line:
            shipper.put(line)
        else:
            # Whatever the process printed (a print, a traceback, a library's
            # own logging): no credential reaches the log files in clear.
            sys.stdout.write(prefix + redact(line))
            sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="prefix of the passed-on lines")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    # Stopping is the command's business; we stay to ship its last lines.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: child.send_signal(received))
    shipper = AuditShipper(ingest_lines)
    assert child.stdout is not None
    pump_output(child.stdout, shipper, prefix=f"{args.name} | ")
    shipper.close()
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())

"""Child processes of the local runtime.

Each child leads its own process group, so one signal stops it together with
whatever it started (the log shipper's server), and a Ctrl-C in the terminal
reaches only the runner, which then stops the children in order. On Linux a
child also gets SIGTERM when the thread that started it dies, so a runner
killed with SIGKILL leaves no orphans behind.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

from infra.local.environment import ROOT


class StartupError(RuntimeError):
    """A part of the runtime did not come up; the message says why."""


def _parent_death_signal() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    # Looked up now, not in the child between fork and exec, where an import
    # could wait forever on a lock some other thread held at the fork.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)

    def arm() -> None:
        prctl(pr_set_pdeathsig, sigterm)

    return arm


# Pass as preexec_fn to subprocess.Popen: the child gets SIGTERM when the
# starting thread dies. None where the platform has no such thing.
die_with_parent = _parent_death_signal()


class Child:
    """One started process (group). ``log`` is the file its output goes to,
    or None when it writes to this process's own stdout."""

    def __init__(self, name: str, argv: Sequence[str], *, env: Mapping[str, str], log: Path | None) -> None:
        self.name = name
        self.log = log
        output = open(log, "wb") if log else None  # this run's output only
        try:
            self.process = subprocess.Popen(
                list(argv), cwd=ROOT, env=dict(env), stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent,
            )
        finally:
            if output:
                output.close()  # the child holds its own copy

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()

    def signal(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass  # already gone

    def log_tail(self, lines: int = 30) -> str:
        if not self.log or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def failure(self, what: str) -> StartupError:
        tail = self.log_tail()
        return StartupError(f"{self.name} {what}" + (f"; last lines of {self.log}:\n{tail}" if tail else ""))


def stop_all(children: Sequence[Child], *, grace: float = 5.0) -> None:
    """SIGTERM to every group, SIGKILL to those still there after ``grace`` seconds."""
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for child in children:
        if child.exit_code is None:
            child.signal(signal.SIGKILL)
            child.process.wait()


def check_free(ports: Sequence[int]) -> None:
    """StartupError naming the first port something already listens on."""
    for port in ports:
        with socket.socket() as probe:
            # As the servers do, so connections of a previous run in TIME_WAIT do not count.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise StartupError(f"port {port} is in use (another `make run`?)") from None


def wait_for_port(child: Child, port: int, *, deadline: float) -> None:
    """Until ``child`` listens on 127.0.0.1:``port``. Enough to send it requests:
    each of our servers binds only once it can serve, and the kernel queues
    connections until it accepts them."""
    while True:
        if child.exit_code is not None:
            raise child.failure(f"exited with code {child.exit_code} while starting")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise child.failure(f"did not listen on port {port} in time")
        time.sleep(0.05)


def wait_for_file(child: Child, path: Path, *, deadline: float) -> None:
    """Until ``child`` creates ``path`` (its way of saying it is ready)."""
    while not path.exists():
        if child.exit_code is not None:
            raise child.failure(f"exited with code {child.exit_code} while starting")
        if time.monotonic() > deadline:
            raise child.failure("did not report ready in time")
        time.sleep(0.05)

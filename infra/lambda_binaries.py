"""Refuses a deployment zip whose compiled code would not load on the Lambda
runtime we package for (python3.11 on Amazon Linux 2: glibc 2.26, libstdc++
of GCC 7, and none of the image, font or X libraries a build machine may have).

A wheel built on the build machine from source (Pillow 13 was: tag
linux_x86_64, _imaging needing libjpeg.so.62 and libxcb.so.1, _imagingmath
GLIBC_2.29) imports there and fails on Lambda at the first invoice;
infra/package.py calls ``check`` on every zip it builds, so packaging fails
instead (tests/unit/infra/test_lambda_binaries.py runs the same checks).
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath

# Amazon Linux 2 (the python3.11 runtime's image).
MAX_GLIBC = (2, 26)
MAX_GLIBCXX = (3, 4, 24)  # GCC 7's libstdc++
MAX_CXXABI = (1, 3, 11)
# Shared libraries the runtime image has; anything else must ship in the zip
# (manylinux wheels bring theirs under <package>.libs/ with hashed names).
SYSTEM_LIBRARIES = {
    "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
    "ld-linux-x86-64.so.2", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1", "libcrypt.so.1",
}
WHEEL_TAG = re.compile(r"^Tag: (?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>.+)$", re.M)
MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_x86_64$")
LEGACY_MANYLINUX = {"manylinux1_x86_64": (2, 5), "manylinux2010_x86_64": (2, 12), "manylinux2014_x86_64": (2, 17)}
EXTENSION = re.compile(r"\.so(\.[\d.]+)?$")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def platform_problems(wheel_metadata: str) -> list[str]:
    """The wheel's platform tags when none of them is one a Lambda on glibc 2.26
    can load ('any', or manylinux of glibc 2.26 or older); [] when one is. A
    wheel lists every platform it supports (several Tag lines, or dotted sets)."""
    platforms = [p for tag in WHEEL_TAG.finditer(wheel_metadata) for p in tag["platform"].split(".")]
    for platform in platforms:
        glibc = LEGACY_MANYLINUX.get(platform)
        match = MANYLINUX.match(platform)
        if match:
            glibc = (int(match[1]), int(match[2]))
        if platform == "any" or (glibc is not None and glibc <= MAX_GLIBC):
            return []
    return platforms


def elf_problems(name: str, data: bytes, shipped: set[str]) -> list[str]:
    """Symbol versions newer than the runtime has, and needed libraries it lacks."""
    from elftools.elf.dynamic import DynamicSection  # pyelftools: a build tool (requirements-dev.txt)
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection

    elf = ELFFile(io.BytesIO(data))
    problems: list[str] = []
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for tag in section.iter_tags():
                needed = getattr(tag, "needed", None)  # set on DT_NEEDED tags only
                if tag.entry.d_tag == "DT_NEEDED" and needed not in SYSTEM_LIBRARIES | shipped:
                    problems.append(f"{name} needs {needed}")
        if isinstance(section, GNUVerNeedSection):
            for _, versions in section.iter_versions():
                for version in versions:
                    label = version.name
                    for prefix, ceiling in (("GLIBC_", MAX_GLIBC), ("GLIBCXX_", MAX_GLIBCXX),
                                            ("CXXABI_", MAX_CXXABI)):
                        if label.startswith(prefix) and label[len(prefix):][:1].isdigit():
                            if _version(label[len(prefix):]) > ceiling:
                                problems.append(f"{name} needs {label}")
    return problems


def wheel_problems(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    """dist-info directory -> its platform tags, for each wheel Lambda cannot load."""
    wheels = [n for n in archive.namelist() if n.endswith(".dist-info/WHEEL")]
    return {n.split("/")[0]: p for n in wheels if (p := platform_problems(archive.read(n).decode()))}


def extension_problems(archive: zipfile.ZipFile) -> list[str]:
    """Every extension module's symbol versions and libraries Lambda lacks."""
    names = [n for n in archive.namelist() if EXTENSION.search(n)]
    shipped = {PurePosixPath(n).name for n in names}
    return [p for n in names for p in elf_problems(n, archive.read(n), shipped)]


def problems(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as archive:
        found = [f"{wheel} is built for {', '.join(tags)}, not Lambda's manylinux (glibc "
                 f"{'.'.join(map(str, MAX_GLIBC))})" for wheel, tags in wheel_problems(archive).items()]
        return found + extension_problems(archive)


def check(zip_path: Path) -> None:
    """Raises RuntimeError naming every binary of the zip Lambda could not load."""
    found = problems(zip_path)
    if found:
        raise RuntimeError(f"{zip_path} would not run on Lambda (pin a version with a manylinux wheel for "
                           "python3.11, or drop the dependency):\n  " + "\n  ".join(found[:20]))

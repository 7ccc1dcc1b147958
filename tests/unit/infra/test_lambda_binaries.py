"""Every compiled module in the deployment zip loads on the Lambda runtime we
package for (python3.11 on Amazon Linux 2: glibc 2.26, libstdc++ of GCC 7, and
none of the image, font or X libraries a build machine may have).

A wheel built on this machine from source (Pillow 13 was: tag linux_x86_64,
_imaging needing libjpeg.so.62 and libxcb.so.1, _imagingmath GLIBC_2.29)
imports here and fails on Lambda at the first invoice; this test opens the zip
and fails instead.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from infra import package

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


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    built = package.package("dev", tmp_path_factory.mktemp("lambda-binaries"))
    return zipfile.ZipFile(built.out / "deployment.zip")


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
    elf = ELFFile(io.BytesIO(data))
    problems: list[str] = []
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for tag in section.iter_tags():
                if tag.entry.d_tag == "DT_NEEDED" and tag.needed not in SYSTEM_LIBRARIES | shipped:
                    problems.append(f"{name} needs {tag.needed}")
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


def test_every_wheel_in_the_zip_is_built_for_lambdas_platform(archive: zipfile.ZipFile) -> None:
    wheels = [n for n in archive.namelist() if n.endswith(".dist-info/WHEEL")]
    assert len(wheels) > 5
    problems = {n.split("/")[0]: p for n in wheels if (p := platform_problems(archive.read(n).decode()))}
    assert problems == {}


def test_every_extension_module_loads_on_lambdas_glibc(archive: zipfile.ZipFile) -> None:
    names = [n for n in archive.namelist() if re.search(r"\.so(\.[\d.]+)?$", n)]
    assert names, "no compiled module found: the zip should carry pydantic-core, zstandard, duckdb ..."
    shipped = {PurePosixPath(n).name for n in names}
    problems = [p for n in names for p in elf_problems(n, archive.read(n), shipped)]
    assert problems == []


# The checks themselves, on what broke before (so they cannot pass vacuously).
def test_a_locally_built_wheel_tag_is_refused() -> None:
    assert platform_problems("Tag: cp311-cp311-linux_x86_64\n") == ["linux_x86_64"]
    assert platform_problems("Tag: cp311-cp311-manylinux_2_28_x86_64\n") == ["manylinux_2_28_x86_64"]
    assert platform_problems("Tag: cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64\n") == []
    assert platform_problems("Tag: cp311-cp311-manylinux1_x86_64\nTag: cp311-cp311-manylinux_2_28_x86_64\n") == []
    assert platform_problems("Tag: py3-none-any\n") == []


def test_a_module_needing_a_newer_glibc_or_a_missing_library_is_refused() -> None:
    # This interpreter's own extension modules, built on this machine's glibc.
    import _ctypes

    data = Path(_ctypes.__file__).read_bytes()
    problems = elf_problems("_ctypes", data, shipped=set())
    assert any("needs libffi" in p for p in problems), problems

"""Every compiled module in the deployment zip loads on the Lambda runtime we
package for (infra/lambda_binaries.py: python3.11 on Amazon Linux 2, glibc
2.26, none of a build machine's image, font or X libraries). `make package`
runs the same checks and fails; here they run on a real package, and on what
broke before so they cannot pass vacuously.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from infra import lambda_binaries, package
from infra.lambda_binaries import elf_problems, platform_problems


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    built = package.package("dev", tmp_path_factory.mktemp("lambda-binaries"))
    return zipfile.ZipFile(built.out / "deployment.zip")


def test_every_wheel_in_the_zip_is_built_for_lambdas_platform(archive: zipfile.ZipFile) -> None:
    assert len([n for n in archive.namelist() if n.endswith(".dist-info/WHEEL")]) > 5
    assert lambda_binaries.wheel_problems(archive) == {}


def test_every_extension_module_loads_on_lambdas_glibc(archive: zipfile.ZipFile) -> None:
    assert any(lambda_binaries.EXTENSION.search(n) for n in archive.namelist()), \
        "no compiled module found: the zip should carry pydantic-core, zstandard, duckdb ..."
    assert lambda_binaries.extension_problems(archive) == []


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


def test_packaging_refuses_a_zip_with_a_locally_built_wheel(tmp_path: Path) -> None:
    """What `make package` calls on the zip it built: a linux_x86_64 wheel and a
    module needing a library Lambda lacks make it fail, naming both."""
    import _ctypes

    bad = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("PIL/_imaging.cpython-311-x86_64-linux-gnu.so", Path(_ctypes.__file__).read_bytes())
        archive.writestr("pillow-13.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: cp311-cp311-linux_x86_64\n")
        archive.writestr("attrs-25.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
    with pytest.raises(RuntimeError) as refused:
        lambda_binaries.check(bad)
    message = str(refused.value)
    assert "pillow-13.0.0.dist-info is built for linux_x86_64" in message
    assert "PIL/_imaging.cpython-311-x86_64-linux-gnu.so needs libffi" in message and "attrs" not in message


def test_make_package_fails_and_leaves_no_zip_when_the_check_refuses(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """package() runs the check on the zip it built (here one that cannot pass:
    no system library at all) and exits 2 without a deployable zip."""
    monkeypatch.setattr(lambda_binaries, "SYSTEM_LIBRARIES", set())
    assert package.main(["--stage", "dev", "--out", str(tmp_path)]) == 2
    assert not (tmp_path / "deployment.zip").exists()

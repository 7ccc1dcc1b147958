"""A deployable stack for one stage: `python -m infra.package --stage dev --out out/dev`.

1. Stage a clean copy of the app (no developer __pycache__) with the policy
   file Chalice insists on when autogen_policy is false.
2. `chalice package` once, to read the logical ids Chalice generates.
3. Build the merge template from that output (infra/merge_template.py).
4. `chalice package --merge-template` into the output directory.
5. Refuse the zip if a compiled module would not load on Lambda (infra/lambda_binaries.py).
6. Add compiled bytecode to deployment.zip (infra/bytecode.py).

Writes sam.json, deployment.zip and merge-template.json (for review) to --out.
See docs/deploy.md for deploying the result.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from infra import bytecode, chalice_output, dependency_cache, lambda_binaries, merge_template, stateful

ROOT = Path(__file__).resolve().parents[1]
# Chalice keeps built zips in <project>/.chalice/deployments (see
# infra/dependency_cache.py). The staged project is temporary, so that
# directory points here instead.
DEFAULT_CACHE = ROOT / "out" / ".cache" / "chalice-deployments"
APP_PATHS = ("app.py", "requirements.txt", "chalicelib", "vendor")
OUTPUTS = ("sam.json", "deployment.zip", "merge-template.json")
# With autogen_policy false Chalice reads .chalice/policy-<stage>.json. The real
# policy is merged in per role; an empty one here means "deny everything" if
# the merge ever failed to replace it.
PLACEHOLDER_POLICY = {"Version": "2012-10-17", "Statement": []}


@dataclass
class Result:
    out: Path
    seconds: float
    resources: int
    bytecode: bytecode.Report
    unresolved_handlers: list[str]


def package(stage: str, out: Path, *, project_dir: Path = ROOT, cache_dir: Path = DEFAULT_CACHE) -> Result:
    started = time.monotonic()
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    if stage not in config.get("stages", {}):
        raise ValueError(f"stage {stage!r} is not in .chalice/config.json")
    for name in OUTPUTS:  # never leave an earlier build looking like this one
        (out / name).unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="dialtone-package-") as tmp:
        project = _stage_project(project_dir, Path(tmp) / "project", stage, cache_dir)
        runtime = bytecode.runtime_of_interpreter()
        with _cache_lock(cache_dir):
            dependency_cache.prepare(project, runtime)
            _chalice(project, stage, Path(tmp) / "first")
            sam = json.loads((Path(tmp) / "first" / "sam.json").read_text())
            _check_runtime(sam)
            merge = merge_template.build(stage=stage, app_name=config["app_name"], sam=sam, stateful=stateful.load())
            out.mkdir(parents=True, exist_ok=True)
            merge_path = out / "merge-template.json"
            merge_path.write_text(json.dumps(merge, indent=2) + "\n")
            _chalice(project, stage, out, merge_path)
            dependency_cache.remember(project, runtime)
        unresolved = _unresolved_handlers(project, sam)
    # A wheel built here from source loads here and nowhere else: refuse it now, not at the first invocation.
    try:
        lambda_binaries.check(out / "deployment.zip")
    except RuntimeError:
        for name in OUTPUTS:  # nothing deployable is left behind
            (out / name).unlink(missing_ok=True)
        raise
    report = bytecode.add_bytecode(out / "deployment.zip")
    final = json.loads((out / "sam.json").read_text())
    return Result(out=out, seconds=time.monotonic() - started, resources=len(final["Resources"]),
                  bytecode=report, unresolved_handlers=unresolved)


def _stage_project(source: Path, target: Path, stage: str, cache_dir: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in APP_PATHS:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name, ignore=ignore)
        elif path.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / name)
    chalice_dir = target / ".chalice"
    chalice_dir.mkdir(parents=True)
    shutil.copy2(source / ".chalice" / "config.json", chalice_dir / "config.json")
    (chalice_dir / f"policy-{stage}.json").write_text(json.dumps(PLACEHOLDER_POLICY))
    cache_dir.mkdir(parents=True, exist_ok=True)
    (chalice_dir / "deployments").symlink_to(cache_dir.resolve(), target_is_directory=True)
    return target


@contextmanager
def _cache_lock(cache_dir: Path) -> Iterator[None]:
    # Chalice writes its cached zip in place and dependency_cache copies and
    # prunes them, so two packagings at once (make package while the tests
    # run) must take turns.
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _chalice(project: Path, stage: str, out: Path, merge: Path | None = None) -> None:
    exe = Path(sys.executable).parent / "chalice"
    command = [str(exe if exe.exists() else "chalice"), "--project-dir", str(project), "package", "--stage", stage]
    if merge is not None:
        command += ["--merge-template", str(merge.resolve())]
    command.append(str(out.resolve()))
    # The template uses ${AWS::Region}; chalice only needs some region to build its session.
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def _check_runtime(sam: dict[str, Any]) -> None:
    # The pyc files are only valid for the interpreter that compiled them.
    mine = bytecode.runtime_of_interpreter()
    for function in chalice_output.functions(sam):
        if function.runtime != mine:
            raise RuntimeError(f"{function.logical_id} runs on {function.runtime} but this interpreter is {mine}: "
                               f"package with the Python of the Lambda runtime so the bytecode matches")


_RESOLVE = """
import importlib, sys
for handler in sys.argv[1:]:
    module, _, name = handler.rpartition(".")
    try:
        getattr(importlib.import_module(module), name)
    except Exception:
        print(handler)
"""


def _unresolved_handlers(project: Path, sam: dict[str, Any]) -> list[str]:
    """Handler strings Lambda could not import (e.g. a handler defined inside a function)."""
    handlers = sorted({f.handler for f in chalice_output.functions(sam)})
    env = {**os.environ, "PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", _RESOLVE, *handlers], cwd=project, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout.split()


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--strict", action="store_true", help="fail when a handler would not import on Lambda")
    args = parser.parse_args(argv)
    try:
        result = package(args.stage, args.out, project_dir=args.project_dir)
    except (ValueError, LookupError, RuntimeError) as error:
        # Configuration and template problems: the message says what to fix.
        print(f"packaging stage {args.stage} failed: {error}", file=sys.stderr)
        return 2
    report = result.bytecode
    print(f"packaged stage {args.stage} into {result.out} in {result.seconds:.1f} s")
    print(f"  template  {result.out / 'sam.json'} ({result.resources} resources)")
    print(f"  package   {result.out / 'deployment.zip'} {_megabytes(report.size_before)} -> "
          f"{_megabytes(report.size_after)} with bytecode for {report.compiled} modules"
          + (f" ({len(report.failed)} not compilable: {', '.join(report.failed[:3])} ...)" if report.failed else ""))
    for handler in result.unresolved_handlers:
        print(f"WARNING: handler {handler} does not import from the package: Lambda would fail to run it",
              file=sys.stderr)
    return 1 if args.strict and result.unresolved_handlers else 0


if __name__ == "__main__":
    sys.exit(main())

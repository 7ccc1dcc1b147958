"""What a Lambda cold start loads: importing app.py registers every route but
imports no AWS SDK, no validation or PDF library and no service of a route
that is not called; the clients are botocore's, without boto3 (issue 2's
cold-start figure, bench/platform.py). Each check runs in a fresh interpreter.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Loaded on first use by the requests that need them, never by `import app`.
HEAVY = ("boto3", "botocore", "s3transfer", "pydantic", "duckdb", "phonenumbers", "fpdf", "pyotp", "jwt",
         "holidays", "zstandard", "requests", "cryptography", "jinja2", "segno", "python_multipart",
         # stdlib, but ~45 ms together: xml.sax.saxutils brings urllib.request, http.client and ssl
         "xml.sax.saxutils", "urllib.request", "ssl")
# None: api/ names every service with the one idiom (an import under
# TYPE_CHECKING, a chalicelib.lazy binding at run time), so a service loads when
# a request first uses it.
SERVICES_AT_IMPORT: set[str] = set()


def _modules_after(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_app_loads_no_sdk_and_no_other_surface_services() -> None:
    loaded = _modules_after("import app")
    assert [name for name in HEAVY if name in loaded] == []
    assert {name for name in loaded if name.startswith("chalicelib.services")} == SERVICES_AT_IMPORT


def test_clients_are_built_without_boto3() -> None:
    loaded = _modules_after(
        "import os\n"
        "os.environ.setdefault('AWS_ACCESS_KEY_ID', 'x'); os.environ.setdefault('AWS_SECRET_ACCESS_KEY', 'x')\n"
        "from chalicelib.store import clients\n"
        "for service in ('dynamodb', 's3', 'sqs'): clients.client(service)\n"
        "clients.client('s3', unsigned_payload=True)")
    assert "botocore" in loaded
    assert [name for name in ("boto3", "s3transfer") if name in loaded] == []


def test_clients_share_one_data_loader_and_are_cached() -> None:
    from chalicelib.store import clients

    clients.reset()
    try:
        dynamodb, s3 = clients.client("dynamodb"), clients.client("s3")
        assert clients.client("dynamodb") is dynamodb
        assert dynamodb._loader is s3._loader  # the second client reused the files the first one parsed
    finally:
        clients.reset()

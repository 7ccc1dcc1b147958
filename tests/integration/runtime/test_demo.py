"""The demo loader (infra/local/demo.py): one command gives a tenant with data
that every built surface answers with, through its real doors."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from requests.auth import HTTPDigestAuth

from infra.local import demo
from tests.support.harness.runtime import LocalRuntime


def test_the_demo_answers_on_every_surface(runtime: LocalRuntime, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "DEMO_FILE", tmp_path / "demo.json")
    # A generated password may begin with "-": the loader once passed one to the CLI as
    # `--password -x...`, which argparse refuses. Make every generated password do that.
    from chalicelib.auth import hashing
    made = hashing.new_password
    monkeypatch.setattr(hashing, "new_password", lambda: "-" + made())
    with runtime.environment():
        loaded = demo.load(runtime.base_url, name="Demo Test")
    assert (tmp_path / "demo.json").stat().st_mode & 0o077 == 0  # holds credentials: owner only
    api, staff, user = runtime.base_url, loaded["staff"], loaded["customer_user"]
    first = loaded["customers"][0]

    listed = requests.get(f"{api}/backend/api/v1/customers?expandNumbers",
                          headers={"Authorization": f"Bearer {staff['api_key']}"}, timeout=10).json()
    assert sorted(c["customerName"] for c in listed) == ["Darren's Pizzas", "Harbor Dental"]
    assert sum(len(c["numbers"]) for c in listed) == 5

    carrier = {"token": user["api_key"], "accountno": user["accountNumber"]}
    numbers = requests.get(f"{api}/carrier/getnumbers", params=carrier, timeout=10).json()
    assert numbers["status"] == "200"
    stats = requests.get(f"{api}/carrier/did_stats", params={**carrier, "number": first["numbers"][0]},
                         timeout=10).json()
    assert stats["status"] == "200", stats
    assert loaded["cdrs"]["file"]["accepted"] == 120

    balance = requests.get(f"{api}/partner/api/v1/customers/{first['accountNumber']}/balance",
                           headers={"token": staff["api_key"]}, timeout=10).json()
    assert balance["code"] == 200
    tracked = requests.get(f"{api}/tracking/v1/customers", timeout=10,
                           auth=HTTPDigestAuth(staff["username"], staff["password"]))
    assert tracked.status_code == 200, tracked.text
    assert len(tracked.json()["customers"]) == 2

    grant = requests.post(f"{api}/api/v1/oauth/authorize", timeout=10,
                          data={"username": staff["username"], "password": staff["password"]})
    assert grant.status_code == 200, grant.text
    accounts = requests.get(f"{api}/api/v1/account", timeout=10,
                            headers={"Authorization": f"Bearer {grant.json()['access_token']}"})
    assert accounts.status_code == 200 and len(accounts.json()) == 2, accounts.text
    assert "curl" in demo.describe(loaded)

    # The customer user's printed login works, second factor included.
    assert user["password"].startswith("-") and user["totp_secret"]
    own = requests.post(f"{api}/api/v1/oauth/authorize", timeout=10,
                        data={"username": user["username"], "password": user["password"]})
    assert own.status_code == 200, own.text

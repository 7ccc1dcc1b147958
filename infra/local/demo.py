"""A demo tenant with data on every surface, loaded into a running local runtime.

    .venv/bin/python -m infra.local.demo [--api http://127.0.0.1:8000]

`make run` loads it by itself on its first start (when `.local/demo.json`
does not exist yet) and prints its logins; this module is also what a
newcomer runs to get another one. Everything goes through the same doors an
operator or integrator uses: the admin CLI for what staff do (tenant,
inventory, portability table, rate decks, wallet funding, CDR import, the
day's close) and the public HTTP APIs for the rest (customers, the sale of
numbers), so the demo also shows those doors working. The sample files are
in samples/ (README: "Sample files").

The credentials it prints are kept in `.local/demo.json` (git-ignored,
local runtime only) so that `make run` can show them again.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
DEMO_FILE = ROOT / ".local" / "demo.json"
SAMPLE_DAY = "2026-01-05"  # the day samples/cdrs.csv is written for; moved to yesterday when loaded
CUSTOMERS = (
    {"customerName": "Darren's Pizzas", "creditLimit": "-50", "email": "darren@pizzas.example",
     "numbers": ["2062190000", "2062190001", "2062190002", "8885550000"], "topUp": "100"},
    {"customerName": "Harbor Dental", "creditLimit": "0", "email": "desk@harbor-dental.example",
     "numbers": ["5035550100"], "topUp": "25"},
)


class DemoError(Exception):
    pass


def admin(*argv: str) -> dict[str, Any]:
    """One admin CLI command in this process (the environment names the runtime)."""
    from chalicelib.admin import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(["--stage", "local", *argv])
    answer = json.loads(out.getvalue().strip().splitlines()[-1])
    if status != 0:
        raise DemoError(f"admin {argv[0]}: {answer}")
    return answer


def _created(response: requests.Response, what: str) -> dict[str, Any]:
    if response.status_code != 201:
        raise DemoError(f"{what}: HTTP {response.status_code} {response.text}")
    return response.json()


def load(api: str, *, name: str = "Demo") -> dict[str, Any]:
    """Create the demo tenant and its data; returns what `describe` prints."""
    made = admin("create-tenant", "--name", name)
    tenant, staff = made["tenant"]["id"], made["user"]
    admin("import-numbers", "--tenant", tenant, "--quiet", str(SAMPLES / "numbers.csv"))
    admin("import-portability", "--tenant", tenant, str(SAMPLES / "portability.csv"))
    for direction in ("inbound", "outbound"):
        admin("import-rates", "--tenant", tenant, "--direction", direction, str(SAMPLES / f"rates-{direction}.csv"))
    # The partner API answers only callers whose address is on the user's allow-list.
    admin("set-allowlist", "--tenant", tenant, "--user", staff["username"], "--ips", "127.0.0.1/32")
    # The partner API moves funds out of the tenant's wallet: fund it first.
    admin("adjust-balance", "--tenant", tenant, "--amount", "500", "--reason", "demo wallet funding")

    billing = requests.Session()
    billing.headers["Authorization"] = f"Bearer {staff['api_key']}"
    customers = []
    for spec in CUSTOMERS:
        fields = {k: v for k, v in spec.items() if k not in ("numbers", "topUp")}
        customer = _created(billing.post(f"{api}/backend/api/v1/customers", json=fields), "create customer")
        admin("adjust-balance", "--tenant", tenant, "--account", customer["accountNumber"],
              "--amount", str(spec["topUp"]), "--reason", "demo top-up")
        for number in spec["numbers"]:  # a charged sale from the inventory, as an integrator would make it
            _created(billing.post(f"{api}/backend/api/v1/customers/{customer['id']}/numbers",
                                  json={"number": number}), f"sell {number}")
        customers.append({"id": customer["id"], "name": customer["customerName"],
                          "accountNumber": customer["accountNumber"], "numbers": spec["numbers"]})

    # A customer user of the first customer: the carrier API's token + accountno.
    first = customers[0]
    username = f"darren.{tenant[-6:].lower()}"
    # The CLI picks the password and prints it once, as it does for an operator. (A password
    # picked here and passed as `--password X` broke the load whenever X began with "-".)
    made_user = admin("create-user", "--tenant", tenant, "--username", username,
                      "--account", first["accountNumber"])["user"]
    customer_key = admin("issue-api-key", "--tenant", tenant, "--user", username)["api_key"]

    # Yesterday's calls to the sold numbers, imported and closed: statistics and daily CDR files.
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d")
    with tempfile.TemporaryDirectory() as scratch:
        calls = Path(scratch) / f"cdrs-{yesterday}.csv"
        calls.write_text((SAMPLES / "cdrs.csv").read_text().replace(SAMPLE_DAY, yesterday))
        imported = admin("import-cdrs", "--tenant", tenant, "--quiet", str(calls))
    admin("run-job", "daily-close", "--tenant", tenant, "--date", yesterday)

    demo = {"api": api, "tenant": {"id": tenant, "name": name},
            "staff": {"username": staff["username"], "password": staff["password"],
                      "api_key": staff["api_key"], "totp_secret": staff.get("totp_secret")},
            "customer_user": {"username": username, "password": made_user["password"], "api_key": customer_key,
                              "totp_secret": made_user.get("totp_secret"),
                              "accountNumber": first["accountNumber"]},
            "customers": customers, "cdrs": {"day": yesterday, "file": imported}}
    DEMO_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEMO_FILE.write_text(json.dumps(demo, indent=2, default=str))
    DEMO_FILE.chmod(0o600)
    return demo


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def describe(demo: dict[str, Any]) -> str:
    """The demo's logins and a first call on each surface, ready to paste."""
    api, staff, user = demo["api"], demo["staff"], demo["customer_user"]
    first = demo["customers"][0]
    return f"""
Demo tenant "{demo['tenant']['name']}" ({demo['tenant']['id']}), kept in {_shown(DEMO_FILE)}:
  staff user     {staff['username']}  password {staff['password']}  TOTP secret {staff['totp_secret']}
  staff API key  {staff['api_key']}
  customer user  {user['username']}  password {user['password']}  (account {user['accountNumber']})
  its API key    {user['api_key']}

Portal (a browser): {api}/portal/login
  log in as      {staff['username']}  password {staff['password']}
  2FA code       .venv/bin/python -c "import pyotp; print(pyotp.TOTP('{staff['totp_secret']}').now())"
                 (or add the TOTP secret to an authenticator app; a code is accepted once)
  customer user  {user['username']}  password {user['password']}  TOTP secret {user.get('totp_secret') or '-'}

First calls:
  billing platform  curl -H "Authorization: Bearer {staff['api_key']}" '{api}/backend/api/v1/customers?expandNumbers'
  carrier           curl '{api}/carrier/getnumbers?token={user['api_key']}&accountno={user['accountNumber']}'
                    curl '{api}/carrier/did_stats?token={user['api_key']}&accountno={user['accountNumber']}&number={first['numbers'][0]}'
  partner           curl -H "token: {staff['api_key']}" '{api}/partner/api/v1/customers/{first['accountNumber']}/balance'
                    (the staff user's IP allow-list is 127.0.0.1/32: the partner API needs the caller's
                    address listed; add yours with python -m chalicelib.admin set-allowlist)
  call tracking     curl --digest -u '{staff['username']}:{staff['password']}' '{api}/tracking/v1/customers.xml'
  voice             curl -d 'username={staff['username']}&password={staff['password']}' {api}/api/v1/oauth/authorize
                    curl -H "Authorization: Bearer <access_token>" {api}/api/v1/account
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="the running API's base URL")
    parser.add_argument("--name", default="Demo")
    args = parser.parse_args(argv)
    try:
        print(describe(load(args.api.rstrip("/"), name=args.name)))
    except (DemoError, requests.RequestException) as error:
        print(json.dumps({"error": str(error)}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

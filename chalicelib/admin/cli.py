"""Admin CLI. Every subcommand prints exactly one JSON object on stdout.

By default it talks to the local runtime (the ``local`` stage of
.chalice/config.json: endpoints on 127.0.0.1); ``--stage dev|staging|prod``
uses that stage's table names with the AWS credentials of the environment.
Errors print ``{"error": ..., "field": ...}`` and exit with status 1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable, NoReturn

from chalicelib.admin import subcommands
from chalicelib.admin.subcommands import CliError
from chalicelib.domain.errors import DialtoneError
from chalicelib.observability import correlation

CONFIG = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"


def use_stage(stage: str) -> None:
    """Load a stage's environment. Values already set in the environment win,
    so tests and operators can point the CLI elsewhere (e.g. free ports)."""
    stages = json.loads(CONFIG.read_text())["stages"]
    if stage not in stages:
        raise CliError(f"unknown stage '{stage}' (stages: {', '.join(sorted(stages))})")
    for name, value in stages[stage].get("environment_variables", {}).items():
        os.environ.setdefault(name, value)


def _print(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")


class _JsonArgumentParser(argparse.ArgumentParser):
    # argparse prints usage text to stderr and exits 2; scripts reading our stdout
    # get one JSON object instead, like every other error of this CLI.
    def error(self, message: str) -> NoReturn:
        _print({"error": message, "usage": self.format_usage().strip()})
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _JsonArgumentParser(prog="python -m chalicelib.admin", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local", help="stage of .chalice/config.json (default: local)")
    parser.add_argument("--debug", action="store_true", help="on an unexpected error, the traceback on stderr too")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], dict[str, Any]], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("create-tenant", subcommands.cmd_create_tenant, "a tenant and its first administrator")
    sub.add_argument("--name", required=True)

    sub = command("seal-totp-secrets", subcommands.cmd_seal_totp_secrets,
                  "seal the TOTP seeds stored in clear before sealing existed (safe to run again)")
    sub.add_argument("--tenant", help="one tenant (default: every tenant)")

    sub = command("create-user", subcommands.cmd_create_user, "a staff user, or a customer user with --account")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--username", required=True)
    sub.add_argument("--role", action="append", help="repeat for several roles")
    sub.add_argument("--api-only", action="store_true", help="no login: no password, no TOTP")
    sub.add_argument("--customer-access", choices=["all", "manager", "commission"], default="all")
    sub.add_argument("--account", help="account number: makes a customer user bound to that customer")
    sub.add_argument("--read-only", action="store_true", help="read permission only")
    sub.add_argument("--password", help="default: a random one, printed once")

    sub = command("issue-api-key", subcommands.cmd_issue_api_key, "a new API key (revokes the old one)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--user", required=True, help="username or user id")

    sub = command("set-allowlist", subcommands.cmd_set_allowlist,
                  "IP allow-list; an empty list removes the restriction on the billing and carrier APIs "
                  "and leaves the user no partner API access (its document wants the IP listed)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--user", required=True, help="username or user id")
    sub.add_argument("--ips", required=True, help="CIDR[,CIDR...] or ''")

    command("list-tenants", subcommands.cmd_list_tenants, "every tenant")

    sub = command("import-numbers", subcommands.cmd_import_numbers, "number inventory from CSV (idempotent)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_argument("file", help="CSV: " + "number,category,state,rate_center,city,monthly_price,setup_price")

    sub = command("backfill-number-ids", subcommands.cmd_backfill_number_ids,
                  "integer ids for numbers stocked before ids existed (idempotent)")
    sub.add_argument("--tenant", required=True)

    sub = command("import-portability", subcommands.cmd_import_portability, "the tenant's portability table from CSV")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("file", help="CSV: number,portable,reason,losing_carrier,min_port_days")

    sub = command("port-order", subcommands.cmd_port_order, "move a port order on (staff action)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--order", required=True, type=int)
    sub.add_argument("--state", required=True, help="foc_confirmed, complete, rejected or cancelled")
    sub.add_argument("--foc-date", help="actual FOC date (default: the requested one)")
    sub.add_argument("--by", default="staff", help="who made the change (shown in the history)")

    sub = command("set-order-pricing", subcommands.cmd_set_order_pricing, "per-order cost, tax rate, other charges, discount")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--per-order-cost", default="0")
    sub.add_argument("--tax-rate", default="0", help="e.g. 0.08 for 8%%")
    sub.add_argument("--other-charges", default="0")
    sub.add_argument("--discount-rate", default="0", help="share of the numbers' amount, e.g. 0.1")


    sub = command("adjust-balance", subcommands.cmd_adjust_balance, "an adjustment; without --account, the tenant's wallet")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--account", help="customer account number")
    sub.add_argument("--amount", required=True, help="signed decimal, at most 5 places")
    sub.add_argument("--reason", required=True)
    sub.add_argument("--idempotency-key", help="repeat a run safely (default: a new key)")

    sub = command("list-emails", subcommands.cmd_list_emails, "e-mails captured by the local sender, newest first")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--limit", type=int, default=50)

    sub = command("reconcile-payments", subcommands.cmd_reconcile_payments, "settle card payments whose outcome is unknown")
    sub.add_argument("--tenant", help="default: every tenant")

    sub = command("run-job", subcommands.cmd_run_job, "run a scheduled job by hand")
    sub.add_argument("job", choices=subcommands.JOBS)
    sub.add_argument("--tenant", help="default: every tenant (daily-close needs one)")
    sub.add_argument("--month", help="YYYY-MM (default: last month)")
    sub.add_argument("--account", help="only this customer (with --tenant): re-run one invoice")
    sub.add_argument("--date", help="daily-close: the UTC day, YYYY-MM-DD")

    sub = command("list-audit", subcommands.cmd_list_audit, "a tenant's audit log, newest first")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--since", help="ISO 8601 (default: 7 days ago)")
    sub.add_argument("--until", help="ISO 8601 (default: now)")
    sub.add_argument("--limit", type=int, default=100)

    sub = command("import-cdrs", subcommands.cmd_import_cdrs, "process a CDR file (CSV, .gz or .zst) before returning")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_argument("file")

    sub = command("repack-cdr-stats", subcommands.cmd_repack_cdr_stats,
                  "rewrite CDR figures of the old layout (an item per number and day) packed per customer and day")
    sub.add_argument("--tenant", required=True)

    sub = command("import-rates", subcommands.cmd_import_rates, "replace a rate deck (the tenant's, or one customer's)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--account", help="account number: that customer's deck, which overrides the tenant's")
    sub.add_argument("--direction", required=True, choices=["inbound", "outbound"])
    sub.add_argument("file")

    sub = command("define-custom-field", subcommands.cmd_define_custom_field, "a call-tracking custom field (slot N of customers or sources)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--entity", required=True, choices=["customer", "source"])
    sub.add_argument("--slot", required=True, type=int)
    sub.add_argument("--name", required=True)
    sub.add_argument("--type", required=True, choices=["string", "integer", "date", "enum"])
    sub.add_argument("--values", help="enum: a,b,c")

    sub = command("issue-digest-password", subcommands.cmd_issue_digest_password,
                  "Digest credentials for the call-tracking API (any user, API-only too); printed once")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--user", required=True, help="username or user id")


    sub = command("seal-hook-credentials", subcommands.cmd_seal_hook_credentials,
                  "seal voice hooks' credentials stored in clear before sealing existed (safe to run again)")
    sub.add_argument("--tenant", help="one tenant (default: every tenant)")

    command("rotate-voice-keys", subcommands.cmd_rotate_voice_keys,
            "a new active signing key for voice API tokens; the previous one stays live")

    sub = command("simulate-inbound-call", subcommands.cmd_simulate_inbound_call,
                  "an inbound call to a DDI of an account, through its flow (the simulator)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--user", required=True, help="a user with the VoiceChannel or OrganisationAdmin role")
    sub.add_argument("--account", required=True, help="account number")
    sub.add_argument("--ddi", required=True, help="the DDI's number (E.164 digits) or id")
    sub.add_argument("--from", dest="caller", required=True, help="the caller, E.164")

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "file", None):
        # Services may read the file from another working directory (the CDR engine does).
        args.file = str(Path(args.file).expanduser().resolve())
    try:
        use_stage(args.stage)
        # Log lines and the messages a command queues (an invoice run, CDR parts)
        # carry one id per run, as a request's do (docs/operations.md).
        with correlation.scope(correlation_id=f"admin-{uuid.uuid4()}", surface="admin", function=args.command):
            _print(args.handler(args))
    except DialtoneError as error:
        _print({"error": error.message, "field": error.field})
        return 1
    except CliError as error:
        _print({"error": str(error)})
        return 1
    except OSError as error:  # a file that is missing or unreadable: a message, not a traceback
        _print({"error": f"{error.strerror or error.__class__.__name__}: {error.filename or ''}".strip()})
        return 1
    except UnicodeDecodeError as error:
        where = f" ({args.file})" if getattr(args, "file", None) else ""
        _print({"error": f"the file is not UTF-8 text{where}: byte {error.object[error.start:error.end]!r} "
                         f"at offset {error.start}"})
        return 1
    except Exception as error:  # the last resort: still one JSON object, the traceback only when asked for
        if args.debug:
            traceback.print_exc()
        _print({"error": _unexpected(error, args.stage)})
        return 1
    return 0


def _unexpected(error: Exception, stage: str) -> str:
    from chalicelib.store.clients import unreachable_endpoint  # only store/ knows botocore's errors

    endpoint = unreachable_endpoint(error)
    if endpoint is not None:
        hint = " (is the local runtime running? start it with make run)" if stage == "local" else ""
        return f"cannot reach AWS at {endpoint}{hint}"
    return f"{type(error).__name__}: {error} (run again with --debug for the traceback)"

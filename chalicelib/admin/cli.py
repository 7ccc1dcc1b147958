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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn

from chalicelib.domain.errors import DialtoneError

if TYPE_CHECKING:
    from tqdm import tqdm

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


def _advance(bar: tqdm[Any]) -> Callable[[int], None]:
    # The importers' progress callback returns nothing; tqdm's update says whether it redrew.
    def advance(done: int) -> None:
        bar.update(done)
    return advance


def cmd_create_tenant(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.identity import users

    return users.create_tenant(name=args.name)


def cmd_create_user(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.identity import users

    return {"user": users.create_user(
        tenant=args.tenant, username=args.username, roles=args.role or [], api_only=args.api_only,
        customer_access=args.customer_access, account_number=args.account,
        can_read=True, can_write=not args.read_only, password=args.password,
    )}


def cmd_issue_api_key(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.identity import users

    user = users.find_user(tenant=args.tenant, user=args.user)
    return {"api_key": users.issue_api_key(tenant=args.tenant, user_id=user["id"]), "user": user["username"]}


def cmd_set_allowlist(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.identity import users

    user = users.find_user(tenant=args.tenant, user=args.user)
    networks = users.set_allowlist(tenant=args.tenant, user_id=user["id"], ips=(args.ips or "").split(","))
    return {"user": user["username"], "ips": networks}


def cmd_list_tenants(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.store import identity

    return {"tenants": identity.list_tenants()}


def cmd_list_audit(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.common import audit

    return {"entries": audit.list_entries(tenant=args.tenant, since=args.since, until=args.until, limit=args.limit)}


def cmd_import_cdrs(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.calls import pipeline as cdrs

    size = os.path.getsize(args.file)
    bar: tqdm[Any] | None = None
    if not args.quiet:
        from tqdm import tqdm

        # The bar goes to stderr: stdout carries only the JSON summary line.
        bar = tqdm(total=size, unit="B", unit_scale=True, desc=os.path.basename(args.file), file=sys.stderr)
    try:
        return cdrs.import_file(tenant=args.tenant, path=args.file, progress=_advance(bar) if bar else None)
    finally:
        if bar:
            bar.close()


def cmd_import_rates(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.calls import pipeline as cdrs

    return cdrs.import_rates(tenant=args.tenant, direction=args.direction, path=args.file,
                             account_number=args.account)


def run_daily_close(args: argparse.Namespace) -> dict[str, Any]:
    # The CDR close the cdr_daily_close schedule runs for yesterday (docs/cdrs.md).
    from chalicelib.services.calls import pipeline as cdrs

    if not args.tenant or not args.date:
        raise CliError("daily-close needs --tenant and --date")
    return cdrs.daily_close(tenant=args.tenant, day=args.date)


def cmd_import_numbers(args: argparse.Namespace) -> dict[str, Any]:
    """Inventory from CSV; a progress bar on stderr, the summary on stdout."""
    from tqdm import tqdm

    from chalicelib.services.numbers import inventory as numbers

    path = Path(args.file)
    with path.open(newline="", encoding="utf-8") as counting:
        total = max(sum(1 for _ in counting) - 1, 0)
    with path.open(newline="", encoding="utf-8") as lines, \
            tqdm(total=total, unit="row", file=sys.stderr, disable=args.quiet) as bar:
        summary = numbers.import_numbers(tenant=args.tenant, lines=lines, progress=_advance(bar))
    return summary


def cmd_backfill_number_ids(args: argparse.Namespace) -> dict[str, Any]:
    """Integer ids for numbers stocked before ids existed (idempotent)."""
    from chalicelib.domain.errors import NotFoundError
    from chalicelib.services.numbers import inventory as numbers
    from chalicelib.store import identity

    if identity.get_tenant(args.tenant) is None:
        raise NotFoundError(f"tenant {args.tenant} not found", field="tenant")
    return numbers.backfill_ids(tenant=args.tenant)


def cmd_import_portability(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.numbers import porting

    with Path(args.file).open(newline="", encoding="utf-8") as lines:
        return porting.import_portability(tenant=args.tenant, lines=lines)


def cmd_port_order(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.numbers import porting

    order = porting.set_port_order_state(tenant=args.tenant, order_id=args.order, state=args.state,
                                         by=args.by, foc_date=args.foc_date)
    return {"portOrder": order["id"], "status": order["status"], "history": order["history"]}


def cmd_set_order_pricing(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.domain.money.amounts import parse_money
    from chalicelib.services.numbers import orders

    values = {"perOrderCost": parse_money(args.per_order_cost, field="per-order-cost"),
              "taxRate": parse_money(args.tax_rate, field="tax-rate"),
              "otherCharges": parse_money(args.other_charges, field="other-charges"),
              "discountRate": parse_money(args.discount_rate, field="discount-rate")}
    return {"orderPricing": orders.set_order_pricing(tenant=args.tenant, values=values)}


def cmd_adjust_balance(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.money import statements as billing

    posted = billing.adjust_balance(tenant=args.tenant, account_number=args.account, amount=args.amount,
                                    reason=args.reason, idempotency_key=args.idempotency_key)
    entry = posted.entries[0]
    return {"account": args.account or "TENANT", "amount": entry["amount"], "balance": entry["balanceAfter"],
            "credit_limit": entry["creditLimit"], "seq": entry["seq"], "replayed": posted.replayed}


def cmd_list_emails(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.adapters import mail

    return {"emails": mail.captured(args.tenant, limit=args.limit)}


def cmd_reconcile_payments(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.money import payments

    return payments.reconcile(tenant=args.tenant) if args.tenant else payments.reconcile_all()


JOBS = ("close-invoices", "daily-close", "number-invoices", "index-payments")


def cmd_run_job(args: argparse.Namespace) -> dict[str, Any]:
    # The same service call the scheduled handler makes, without its time budget.
    if args.job == "daily-close":
        return run_daily_close(args)
    if args.job == "index-payments":
        # Backfill: payments made before get_payments' date index existed.
        from chalicelib.services.money import payments
        from chalicelib.store import identity

        tenants = [args.tenant] if args.tenant else [t["id"] for t in identity.list_tenants()]
        return {"tenants": [payments.index_payments(tenant=t) for t in tenants]}
    from chalicelib.services.money import invoices

    if args.job == "number-invoices":
        # Backfill: ids for invoice records issued before invoices had them.
        if args.tenant:
            return invoices.number_invoices(tenant=args.tenant)
        from chalicelib.store import identity

        return {"tenants": [invoices.number_invoices(tenant=t["id"]) for t in identity.list_tenants()]}

    month = args.month or invoices.month_to_close()
    if args.account:
        if not args.tenant:
            raise CliError("--account needs --tenant")
        return invoices.close_one(tenant=args.tenant, account_number=args.account, month=month)
    if args.tenant:
        return invoices.close_month(tenant=args.tenant, month=month)
    return invoices.close_all(month=month)


def cmd_define_custom_field(args: argparse.Namespace) -> dict[str, Any]:
    # Call tracking (docs/tracking-api.md): definitions are staff's, the API reads them.
    from chalicelib.services.tracking import fields

    return {"custom_field": fields.define(tenant=args.tenant, entity=args.entity, slot=args.slot, name=args.name,
                                          kind=args.type, values=(args.values or "").split(","))}


def cmd_issue_digest_password(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.tracking import fields

    return fields.issue_digest_password(tenant=args.tenant, user=args.user)


def cmd_seal_totp_secrets(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.identity import users
    from chalicelib.store import identity

    tenants = [args.tenant] if args.tenant else [t["id"] for t in identity.list_tenants()]
    return {"sealed": {tenant: users.seal_totp_secrets(tenant=tenant) for tenant in tenants}}


class CliError(Exception):
    """A refusal of the CLI itself (bad flags, unknown stage): printed as one JSON object, exit status 1."""


class _JsonArgumentParser(argparse.ArgumentParser):
    # argparse prints usage text to stderr and exits 2; scripts reading our stdout
    # get one JSON object instead, like every other error of this CLI.
    def error(self, message: str) -> NoReturn:
        _print({"error": message, "usage": self.format_usage().strip()})
        raise SystemExit(2)


def cmd_rotate_voice_keys(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.auth import access_tokens

    return access_tokens.rotate_keys()


def cmd_simulate_inbound_call(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.customers.accounts import customer_id_for_account
    from chalicelib.services.identity.users import find_user
    from chalicelib.domain import identity
    from chalicelib.domain.voice import opaque_id
    from chalicelib.services.voice import calls

    principal = identity.principal_from_user(find_user(tenant=args.tenant, user=args.user), args.tenant)
    customer_id = customer_id_for_account(tenant=args.tenant, account_number=args.account)
    record = calls.simulate_inbound(principal=principal, account=opaque_id(args.tenant, "ACCOUNT", customer_id),
                                    body={"ddi": args.ddi, "from": args.caller})
    return {"call": calls.view(principal, record)}


def build_parser() -> argparse.ArgumentParser:
    parser = _JsonArgumentParser(prog="python -m chalicelib.admin", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local", help="stage of .chalice/config.json (default: local)")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], dict[str, Any]], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("create-tenant", cmd_create_tenant, "a tenant and its first administrator")
    sub.add_argument("--name", required=True)

    sub = command("seal-totp-secrets", cmd_seal_totp_secrets,
                  "seal the TOTP seeds stored in clear before sealing existed (safe to run again)")
    sub.add_argument("--tenant", help="one tenant (default: every tenant)")

    sub = command("create-user", cmd_create_user, "a staff user, or a customer user with --account")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--username", required=True)
    sub.add_argument("--role", action="append", help="repeat for several roles")
    sub.add_argument("--api-only", action="store_true", help="no login: no password, no TOTP")
    sub.add_argument("--customer-access", choices=["all", "manager", "commission"], default="all")
    sub.add_argument("--account", help="account number: makes a customer user bound to that customer")
    sub.add_argument("--read-only", action="store_true", help="read permission only")
    sub.add_argument("--password", help="default: a random one, printed once")

    sub = command("issue-api-key", cmd_issue_api_key, "a new API key (revokes the old one)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--user", required=True, help="username or user id")

    sub = command("set-allowlist", cmd_set_allowlist,
                  "IP allow-list; an empty list removes the restriction on the billing and carrier APIs "
                  "and leaves the user no partner API access (its document wants the IP listed)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--user", required=True, help="username or user id")
    sub.add_argument("--ips", required=True, help="CIDR[,CIDR...] or ''")

    command("list-tenants", cmd_list_tenants, "every tenant")

    sub = command("import-numbers", cmd_import_numbers, "number inventory from CSV (idempotent)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_argument("file", help="CSV: " + "number,category,state,rate_center,city,monthly_price,setup_price")

    sub = command("backfill-number-ids", cmd_backfill_number_ids,
                  "integer ids for numbers stocked before ids existed (idempotent)")
    sub.add_argument("--tenant", required=True)

    sub = command("import-portability", cmd_import_portability, "the tenant's portability table from CSV")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("file", help="CSV: number,portable,reason,losing_carrier,min_port_days")

    sub = command("port-order", cmd_port_order, "move a port order on (staff action)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--order", required=True, type=int)
    sub.add_argument("--state", required=True, help="foc_confirmed, complete, rejected or cancelled")
    sub.add_argument("--foc-date", help="actual FOC date (default: the requested one)")
    sub.add_argument("--by", default="staff", help="who made the change (shown in the history)")

    sub = command("set-order-pricing", cmd_set_order_pricing, "per-order cost, tax rate, other charges, discount")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--per-order-cost", default="0")
    sub.add_argument("--tax-rate", default="0", help="e.g. 0.08 for 8%%")
    sub.add_argument("--other-charges", default="0")
    sub.add_argument("--discount-rate", default="0", help="share of the numbers' amount, e.g. 0.1")


    sub = command("adjust-balance", cmd_adjust_balance, "an adjustment; without --account, the tenant's wallet")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--account", help="customer account number")
    sub.add_argument("--amount", required=True, help="signed decimal, at most 5 places")
    sub.add_argument("--reason", required=True)
    sub.add_argument("--idempotency-key", help="repeat a run safely (default: a new key)")

    sub = command("list-emails", cmd_list_emails, "e-mails captured by the local sender, newest first")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--limit", type=int, default=50)

    sub = command("reconcile-payments", cmd_reconcile_payments, "settle card payments whose outcome is unknown")
    sub.add_argument("--tenant", help="default: every tenant")

    sub = command("run-job", cmd_run_job, "run a scheduled job by hand")
    sub.add_argument("job", choices=JOBS)
    sub.add_argument("--tenant", help="default: every tenant (daily-close needs one)")
    sub.add_argument("--month", help="YYYY-MM (default: last month)")
    sub.add_argument("--account", help="only this customer (with --tenant): re-run one invoice")
    sub.add_argument("--date", help="daily-close: the UTC day, YYYY-MM-DD")

    sub = command("list-audit", cmd_list_audit, "a tenant's audit log, newest first")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--since", help="ISO 8601 (default: 7 days ago)")
    sub.add_argument("--until", help="ISO 8601 (default: now)")
    sub.add_argument("--limit", type=int, default=100)

    sub = command("import-cdrs", cmd_import_cdrs, "process a CDR file (CSV, .gz or .zst) before returning")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_argument("file")

    sub = command("import-rates", cmd_import_rates, "replace a rate deck (the tenant's, or one customer's)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--account", help="account number: that customer's deck, which overrides the tenant's")
    sub.add_argument("--direction", required=True, choices=["inbound", "outbound"])
    sub.add_argument("file")

    sub = command("define-custom-field", cmd_define_custom_field, "a call-tracking custom field (slot N of customers or sources)")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--entity", required=True, choices=["customer", "source"])
    sub.add_argument("--slot", required=True, type=int)
    sub.add_argument("--name", required=True)
    sub.add_argument("--type", required=True, choices=["string", "integer", "date", "enum"])
    sub.add_argument("--values", help="enum: a,b,c")

    sub = command("issue-digest-password", cmd_issue_digest_password,
                  "Digest credentials for the call-tracking API (any user, API-only too); printed once")
    sub.add_argument("--tenant", required=True)
    sub.add_argument("--user", required=True, help="username or user id")


    command("rotate-voice-keys", cmd_rotate_voice_keys,
            "a new active signing key for voice API tokens; the previous one stays live")

    sub = command("simulate-inbound-call", cmd_simulate_inbound_call,
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
    return 0

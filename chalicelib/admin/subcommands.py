"""What each admin subcommand does: one function per subcommand, taking the
parsed arguments and returning the JSON object the CLI prints. Services are
imported by the command that uses them, so `--help` and a refusal load none."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from tqdm import tqdm


class CliError(Exception):
    """A refusal of the CLI itself (bad flags, unknown stage): printed as one JSON object, exit status 1."""


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
    from chalicelib.store.identity import users as identity

    return {"tenants": identity.list_tenants()}


def cmd_list_audit(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.common import audit

    return {"entries": audit.list_entries(tenant=args.tenant, since=args.since, until=args.until, limit=args.limit)}


def cmd_import_cdrs(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.calls import ingest

    size = os.path.getsize(args.file)
    bar: tqdm[Any] | None = None
    if not args.quiet:
        from tqdm import tqdm

        # The bar goes to stderr: stdout carries only the JSON summary line.
        bar = tqdm(total=size, unit="B", unit_scale=True, desc=os.path.basename(args.file), file=sys.stderr)
    try:
        return ingest.import_file(tenant=args.tenant, path=args.file, progress=_advance(bar) if bar else None)
    finally:
        if bar:
            bar.close()


def cmd_import_rates(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.calls import rates

    return rates.import_rates(tenant=args.tenant, direction=args.direction, path=args.file,
                              account_number=args.account)


def run_daily_close(args: argparse.Namespace) -> dict[str, Any]:
    # The CDR close the cdr_daily_close schedule runs for yesterday (docs/cdrs.md).
    from chalicelib.services.calls import daily

    if not args.tenant or not args.date:
        raise CliError("daily-close needs --tenant and --date")
    return daily.daily_close(tenant=args.tenant, day=args.date)


def cmd_repack_cdr_stats(args: argparse.Namespace) -> dict[str, Any]:
    # CDR figures stored before they were packed per customer, kind and day (store/call_stats.py).
    from chalicelib.store import call_stats

    return call_stats.repack_old_items(args.tenant)


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
    from chalicelib.store.identity import users as identity

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
        from chalicelib.store.identity import users as identity

        tenants = [args.tenant] if args.tenant else [t["id"] for t in identity.list_tenants()]
        return {"tenants": [payments.index_payments(tenant=t) for t in tenants]}
    from chalicelib.services.money import invoices

    if args.job == "number-invoices":
        # Backfill: ids for invoice records issued before invoices had them.
        if args.tenant:
            return invoices.number_invoices(tenant=args.tenant)
        from chalicelib.store.identity import users as identity

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
    from chalicelib.store.identity import users as identity

    tenants = [args.tenant] if args.tenant else [t["id"] for t in identity.list_tenants()]
    return {"sealed": {tenant: users.seal_totp_secrets(tenant=tenant) for tenant in tenants}}


def cmd_seal_hook_credentials(args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.services.voice import hooks
    from chalicelib.store.identity import users as identity

    tenants = [args.tenant] if args.tenant else [t["id"] for t in identity.list_tenants()]
    return {"sealed": {tenant: hooks.seal_hook_credentials(tenant=tenant) for tenant in tenants}}


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



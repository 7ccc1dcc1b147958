"""Monthly invoices: close each customer's month into an invoice record and a PDF.

The job (``close_month``) pages through a tenant's customers in id order (a
Query on the customer partition, never a Scan) and, per customer, writes the
PDF to a deterministic key and then the invoice record with a conditional
put keyed by customer and month. So a re-run, an overlapping run or a run
resumed after a crash yields one invoice per customer and month: a customer
whose record exists is skipped, and a PDF written by a run that died before
its record is overwritten with the same bytes. Progress is saved after each
page of customers, so a run stopped by its time budget resumes where it was.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Mapping

from chalicelib import clock
from chalicelib.domain.money import invoices as rules
from chalicelib.domain.money import ledger as ledger_rules
from chalicelib.domain.errors import AlreadyExistsError, NotFoundError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.observability import metrics
from chalicelib.services.common import audit
from chalicelib.services.money import invoice_pdf
from chalicelib.services.money import ledger, ledger_reads
from chalicelib.services.customers import accounts as customers
from chalicelib.services.customers import items as customer_items
from chalicelib.services.customers.items import ChildResource
from chalicelib.store import blobs, queues
from chalicelib.store.dynamo import entities
from chalicelib.store.identity import users as identity_store
from chalicelib.store.money import invoices as store
from chalicelib.store.dynamo.entities import Page
from chalicelib.store.dynamo.schema import CUSTOMER, INVOICE

PAGE_SIZE = 100
INVOICES = ChildResource("invoice", INVOICE)
ISSUED, EXISTING, SKIPPED, FAILED = "issued", "existing", "skipped", "failed"
log = logging.getLogger(__name__)


def close_month(*, tenant: str, month: str, deadline: float | None = None,
                page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """Invoice every customer of ``tenant`` for ``month`` (YYYY-MM), resuming a
    previous run. Stops between pages once ``time.monotonic()`` passes ``deadline``
    (``done`` is then False: run it again). Idempotent."""
    month = rules.parse_month(month)
    first_day, last_day = ledger_rules.month_bounds(month)
    if last_day >= clock.today().isoformat():
        raise ValidationError(f"{month} is not over yet", field="month")
    found = identity_store.get_tenant(tenant)
    if found is None:
        raise NotFoundError(f"tenant {tenant} not found", field="tenant")
    run = store.get_run(tenant, month) or {}
    counts = {ISSUED: 0, EXISTING: 0, SKIPPED: 0, FAILED: 0}
    if run.get("done"):
        return {"tenant": tenant, "month": month, "done": True, **counts}
    cursor = int(run.get("lastCustomerId") or 0)
    while True:
        page = entities.list_page(CUSTOMER, tenant, Page(id_after=cursor, limit=page_size))
        for customer in page:
            try:
                outcome = close_customer(tenant=tenant, tenant_name=found.get("name") or tenant,
                                         customer=customer, month=month)
            except ValueError as error:
                # Entries and checkpoints disagree: never invoice that, and do not
                # block the tenant's other customers on it. An operator re-runs
                # this customer (run-job) once the ledger is repaired.
                log.error("invoice of customer %s (%s) for %s not issued: %s", customer["id"], tenant, month, error)
                outcome = FAILED
            counts[outcome] += 1
            if outcome in (ISSUED, FAILED):  # not the many idle accounts, nor a repeat
                metrics.count("Invoices", Outcome=outcome)
            cursor = customer["id"]
        done = len(page) < page_size
        store.save_run(tenant, month, {"lastCustomerId": cursor, "done": done, "updatedAt": clock.now_iso()})
        if done:
            return {"tenant": tenant, "month": month, "done": True, **counts}
        if deadline is not None and time.monotonic() > deadline:
            return {"tenant": tenant, "month": month, "done": False, **counts}


def close_customer(*, tenant: str, tenant_name: str, customer: Mapping[str, Any], month: str) -> str:
    """One customer's invoice for ``month``: issued, already there, or skipped
    (nothing to invoice: no movement in the month and a zero balance)."""
    first_day, last_day = ledger_rules.month_bounds(month)
    if not customer.get("ledgerSeq"):
        return SKIPPED  # never moved: no reads at all for the many idle accounts
    if store.get_invoice(tenant, customer["id"], month) is not None:
        return EXISTING
    statement = ledger_reads.statement(tenant=tenant, account=customer["id"], first_day=first_day,
                                       last_day=last_day)
    entries = ledger_reads.history(tenant=tenant, account=customer["id"], first_day=first_day, last_day=last_day,
                                   limit=rules.MAX_DETAIL + 1)
    if not entries and statement.opening_balance == 0:
        return SKIPPED
    invoice = rules.build(tenant_name=tenant_name, customer=customer, month=month, statement=statement,
                          entries=entries if len(entries) <= rules.MAX_DETAIL else None)
    key = store.pdf_key(customer["id"], month)
    blobs.put(tenant, key, invoice_pdf.render(invoice), content_type="application/pdf")
    record = {
        "month": month, "date": last_day, "customerId": customer["id"],
        "accountNumber": invoice.account_number, "pdfKey": key, "detail": invoice.detail,
        "lines": len(invoice.lines), "opening": statement.opening_balance,
        "payments": statement.payments, "adjustments": statement.adjustments,
        "callCharges": statement.call_charges, "otherCharges": statement.other_charges,
        "closing": statement.closing_balance, "createdAt": clock.now_iso(),
    }
    try:
        store.create_invoice(tenant, customer["id"], month, record, schema=INVOICE)
    except AlreadyExistsError:
        return EXISTING  # an overlapping run wrote it first (the same PDF bytes; its id is a gap)
    return ISSUED


def number_invoices(*, tenant: str) -> dict[str, Any]:
    """Backfill: give an id (and an INVOICE entity) to every invoice record of
    the tenant written before invoices had ids. Pages through the customers in
    id order (those that never moved cost no read) and Queries each one's
    I# records. Idempotent: a record that has an id is left alone, and a
    concurrent run numbering the same record loses its transaction."""
    if identity_store.get_tenant(tenant) is None:
        raise NotFoundError(f"tenant {tenant} not found", field="tenant")
    numbered = already = 0
    for customer in entities.every(CUSTOMER, tenant, page_size=PAGE_SIZE):
        if not customer.get("ledgerSeq"):
            continue
        for records in store.invoices_of(tenant, customer["id"]):
            for record in records:
                if record.get("id") is not None:
                    already += 1
                    continue
                try:
                    store.number_invoice(tenant, customer["id"], record["month"], record, schema=INVOICE)
                    numbered += 1
                except AlreadyExistsError:
                    already += 1
    return {"tenant": tenant, "numbered": numbered, "already": already}


def close_one(*, tenant: str, account_number: str, month: str) -> dict[str, Any]:
    """One customer's invoice for ``month`` (an operator's re-run after a failure)."""
    month = rules.parse_month(month)
    if ledger_rules.month_bounds(month)[1] >= clock.today().isoformat():
        raise ValidationError(f"{month} is not over yet", field="month")
    found = identity_store.get_tenant(tenant)
    if found is None:
        raise NotFoundError(f"tenant {tenant} not found", field="tenant")
    customer = entities.get_one(CUSTOMER, tenant, customers.customer_id_for_account(tenant=tenant,
                                                                                  account_number=account_number))
    if customer is None:
        raise NotFoundError(f"account {account_number} not found", field="account")
    outcome = close_customer(tenant=tenant, tenant_name=found.get("name") or tenant, customer=customer, month=month)
    return {"tenant": tenant, "month": month, "account": account_number, "outcome": outcome}


def close_all(*, month: str, deadline: float | None = None) -> dict[str, Any]:
    """Every tenant's invoices for ``month``, one after the other, in this
    process (the admin CLI); stops at ``deadline`` (the next run resumes).
    The schedule fans out per tenant instead (``fan_out``)."""
    tenants = identity_store.list_tenants()
    results = []
    for tenant in tenants:
        if deadline is not None and time.monotonic() > deadline:
            break
        results.append(close_month(tenant=tenant["id"], month=month, deadline=deadline))
    done = len(results) == len(tenants) and all(r["done"] for r in results)
    return {"month": month, "done": done, "tenants": results}


JOBS_QUEUE = "invoice_jobs"  # INVOICE_JOBS_QUEUE


def fan_out(*, month: str) -> dict[str, Any]:
    """The schedule's part: one message per tenant whose ``month`` is not done
    yet on the invoice-jobs queue, so tenants are invoiced in parallel by the
    consumer (``run_job``). Re-running it (every hour on the 1st and 2nd)
    queues only the tenants still open; a duplicate message is harmless."""
    month = rules.parse_month(month)
    tenants = identity_store.list_tenants()
    bodies: list[Mapping[str, Any]] = [{"tenant": t["id"], "month": month} for t in tenants
                                       if not (store.get_run(t["id"], month) or {}).get("done")]
    queued = queues.publish_batch(JOBS_QUEUE, bodies) if bodies else 0
    return {"month": month, "tenants": len(tenants), "queued": queued}


def run_job(*, tenant: str, month: str, deadline: float | None = None,
            page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """The consumer's part: one tenant's month (``close_month``: idempotent and
    resumable). A run stopped by its deadline queues its own continuation,
    which resumes after the saved cursor in a fresh invocation."""
    if deadline is not None and time.monotonic() > deadline:
        # No time left in this invocation (earlier messages of its batch used it).
        queues.publish(JOBS_QUEUE, {"tenant": tenant, "month": month})
        return {"tenant": tenant, "month": month, "done": False, "continued": True}
    result = close_month(tenant=tenant, month=month, deadline=deadline, page_size=page_size)
    if not result["done"]:
        queues.publish(JOBS_QUEUE, {"tenant": tenant, "month": month})
        result["continued"] = True
    return result


def month_to_close() -> str:
    """The month a scheduled run closes: the one before today's (UTC)."""
    return rules.previous_month(clock.today().isoformat())


def invoice_pdf_url(*, principal: Principal, invoice_id: int) -> str:
    """A short-lived S3 URL of an invoice's PDF, for a caller who may read the
    invoice (its customer within the caller's scope, as for any billing-API read)."""
    record = customer_items.get(principal=principal, resource=INVOICES, item_id=invoice_id)
    return blobs.presigned_download(principal.tenant_id, record["pdfKey"],
                                    filename=f"invoice-{record['accountNumber']}-{record['month']}.pdf")


def list_invoices(*, principal: Principal, customer: Mapping[str, Any], first_day: str,
                  last_day: str) -> list[dict[str, Any]]:
    """The customer's invoices dated within [first_day, last_day], oldest first,
    each with a presigned download URL."""
    principal.require_read()
    audit.touch("customer", customer["id"])
    tenant = principal.tenant_id
    found: list[dict[str, Any]] = []
    for page in store.invoices_between(tenant, customer["id"], first_day[:7], last_day[:7]):
        found.extend(r for r in page if first_day <= r["date"] <= last_day)
    return [{"month": r["month"], "date": r["date"],
             "url": blobs.presigned_download(tenant, r["pdfKey"],
                                             filename=f"invoice-{r['accountNumber']}-{r['month']}.pdf")}
            for r in found]

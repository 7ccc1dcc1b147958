"""Invoice records and the invoices job's progress.

An invoice record sits in its customer's ledger partition, next to the
entries it summarises:
  T#<t>#ACCT#<id> / I#<yyyy-mm>     one per customer and month (conditional put)
so a customer's invoices between two months are one Query on a key range.
Each record carries the invoice's integer ``id`` (per tenant); the billing
platform API reads invoices as INVOICE entities (main table; the caller names
the entity type, ``schema``), written in the same transaction as the record
(``create_invoice``; ``number_invoice`` for records older than ids).
Its PDF is the blob ``invoices/<12-digit customer id>/<yyyy-mm>.pdf`` under the
tenant prefix: deterministic, so a re-run overwrites the same object.

The job's cursor per tenant and month, so a run that stops (time budget,
crash) resumes after the last customer it finished:
  T#<t>#INVOICERUN / <yyyy-mm>      lastCustomerId, done, counts
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from chalicelib import settings
from chalicelib.domain.errors import AlreadyExistsError
from chalicelib.store.money import ledger as ledger_store
from chalicelib.store.dynamo import entities, keys
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.entities import EntityType
from chalicelib.store.dynamo.table import Transaction, ddb, get, query_pages


def invoice_key(tenant: str, customer_id: int, month: str) -> dict[str, str]:
    return {"PK": ledger_store.ledger_pk(tenant, customer_id), "SK": f"I#{month}"}


def pdf_key(customer_id: int, month: str) -> str:
    return f"invoices/{keys.pad(customer_id)}/{month}.pdf"


def get_invoice(tenant: str, customer_id: int, month: str) -> dict[str, Any] | None:
    return get(settings.ledger_table(), invoice_key(tenant, customer_id, month))


def create_invoice(tenant: str, customer_id: int, month: str, record: Mapping[str, Any], *,
                   schema: EntityType) -> int:
    """The month's invoice record, once, numbered: AlreadyExistsError if it
    exists. Returns the invoice's id."""
    return _write_numbered(tenant, customer_id, month, record, schema=schema, new_record=True)


def number_invoice(tenant: str, customer_id: int, month: str, record: Mapping[str, Any], *,
                   schema: EntityType) -> int:
    """Number an invoice record written before invoices had ids (backfill),
    once: AlreadyExistsError if it has one. Returns the id."""
    return _write_numbered(tenant, customer_id, month, record, schema=schema, new_record=False)


def _write_numbered(tenant: str, customer_id: int, month: str, record: Mapping[str, Any], *,
                    schema: EntityType, new_record: bool) -> int:
    """The invoice's id and its INVOICE entity, in one transaction with the
    ledger record (new) or the record's numbering (backfill): an invoice has
    exactly one id, or none if the transaction loses (its id is a gap)."""
    invoice_id = entities.allocate_ids(tenant, schema.kind)[0]
    tx = Transaction()
    if new_record:
        tx.put(settings.ledger_table(), {**invoice_key(tenant, customer_id, month), **record, "id": invoice_id},
               condition="attribute_not_exists(PK)",
               failure=AlreadyExistsError(f"the invoice of {month} exists", field="month"))
    else:
        tx.update(settings.ledger_table(), invoice_key(tenant, customer_id, month), "SET #id = :id",
                  condition="attribute_exists(PK) AND attribute_not_exists(#id)", names={"#id": "id"},
                  values={":id": invoice_id},
                  failure=AlreadyExistsError(f"the invoice of {month} has an id", field="id"))
    fields = {k: v for k, v in record.items() if k not in ("createdAt", "PK", "SK", "id")}
    entities.create(schema, tenant, fields, entity_id=invoice_id, also=tx)
    return invoice_id


def invoices_of(tenant: str, customer_id: int) -> Iterator[list[dict[str, Any]]]:
    """Every invoice record of the customer, oldest first."""
    return query_pages(settings.ledger_table(), key_condition="PK = :pk AND begins_with(SK, :i)",
                       values={":pk": ledger_store.ledger_pk(tenant, customer_id), ":i": "I#"}, page_size=100)


def invoices_between(tenant: str, customer_id: int, first_month: str, last_month: str) -> Iterator[list[dict[str, Any]]]:
    """Invoice records of the months [first_month, last_month], oldest first."""
    return query_pages(settings.ledger_table(), key_condition="PK = :pk AND SK BETWEEN :low AND :high",
                       values={":pk": ledger_store.ledger_pk(tenant, customer_id), ":low": f"I#{first_month}",
                               ":high": f"I#{last_month}"}, page_size=100)


def run_key(tenant: str, month: str) -> dict[str, str]:
    return {"PK": keys.entity_pk(tenant, "INVOICERUN"), "SK": month}


def get_run(tenant: str, month: str) -> dict[str, Any] | None:
    return get(settings.main_table(), run_key(tenant, month))


def save_run(tenant: str, month: str, progress: Mapping[str, Any]) -> None:
    # The cursor only moves forward: two overlapping runs cannot rewind it.
    values = to_item({":last": progress["lastCustomerId"]})
    item = to_item({**run_key(tenant, month), **progress})
    client = ddb()
    try:
        client.put_item(TableName=settings.main_table(), Item=item,
                        ConditionExpression="attribute_not_exists(PK) OR lastCustomerId <= :last",
                        ExpressionAttributeValues=values)
    except client.exceptions.ConditionalCheckFailedException:
        pass  # another run is further along

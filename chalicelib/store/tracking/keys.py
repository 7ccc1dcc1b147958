"""Key layout of the call-tracking items: every key of them is built here, so
the modules of store/tracking/ are the only code that knows their attribute
names. Keys (main table), tenant T:

  DIGESTNC#<sha256(nonce)[:32]> / <nc>     a used (nonce, nc) pair; TTL expiresAt
  T#T#CUSTOMFIELD / <entity>#<slot:03d>    a custom-field definition (admin CLI)
  T#T#TRKSOURCE / <id>                     a source (generic entity, entities.py):
      GSI1 ByParent T#T#CUSTOMER>TRKSOURCE / <customerId>#<id>   a customer's sources
      GSI3 ByRef1  T#T#TRKSOURCE#NUMBER#<number> / <id>         the sources that held a number
  T#T#TRKLIVE / <number>                   the active source holding a number (one at a time)
  T#T#TRKCUSTOMER / <customerId>           activeSources: the customer's active sources, kept by
                                           the sources' own transactions; a drop is conditional on 0
  T#T#TRKSALE#<customerId> / <number>      a number sold for a source (or a pool) whose transaction
                                           has not committed yet: criteria; a retry takes it first
  T#T#TRKHOLD#<number> / <from>#<sourceId> a number's holding periods: from, until, source
  T#T#TRKGREETING / <id>                   a voicemail greeting (generic entity, parent CUSTOMER)
  T#T#TRKPOOL#<sourceId> / <number>        a pool number: lastHandedAt, session, sessionUntil
  T#T#TRKSESSION#<sourceId> / <session>    a live session's number and its end
  T#T#TRKVISIT#<number> / <from>#<session> a session a pool number was handed to: from, until
S3 under tenants/T/: greetings/<customerId>/<id>-<random>.<wav|mp3> (greetings.py).
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

from chalicelib import settings
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import query_pages


def table() -> str:
    return settings.main_table()


def without_keys(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's attributes, its PK and SK left out."""
    return {k: v for k, v in item.items() if k not in ("PK", "SK")}


def partition(pk: str, *, consistent: bool = False) -> list[dict[str, Any]]:
    """Every item of one partition, in sort-key order, without its keys."""
    found: list[dict[str, Any]] = []
    for page in query_pages(table(), key_condition="PK = :pk", values={":pk": pk}, consistent=consistent):
        found.extend(without_keys(item) for item in page)
    return found


def nonce_key(nonce: str, nc: str) -> dict[str, str]:
    return {"PK": "DIGESTNC#" + hashlib.sha256(nonce.encode()).hexdigest()[:32], "SK": nc.lower()}


def field_pk(tenant: str) -> str:
    return f"T#{tenant}#CUSTOMFIELD"


def field_key(tenant: str, entity: str, slot: int) -> dict[str, str]:
    return {"PK": field_pk(tenant), "SK": f"{entity}#{slot:03d}"}


def live_key(tenant: str, number: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#TRKLIVE", "SK": number}


def hold_pk(tenant: str, number: str) -> str:
    return f"T#{tenant}#TRKHOLD#{number}"


def hold_key(tenant: str, number: str, *, since: str, source_id: int) -> dict[str, str]:
    return {"PK": hold_pk(tenant, number), "SK": f"{since}#{keys.pad(source_id)}"}


def active_sources_key(tenant: str, customer_id: int) -> dict[str, str]:
    return {"PK": f"T#{tenant}#TRKCUSTOMER", "SK": keys.pad(customer_id)}


def sale_pk(tenant: str, customer_id: int) -> str:
    return f"T#{tenant}#TRKSALE#{customer_id}"


def sale_key(tenant: str, customer_id: int, number: str) -> dict[str, str]:
    return {"PK": sale_pk(tenant, customer_id), "SK": number}


def pool_pk(tenant: str, source_id: int) -> str:
    return f"T#{tenant}#TRKPOOL#{source_id}"


def pool_key(tenant: str, source_id: int, number: str) -> dict[str, str]:
    return {"PK": pool_pk(tenant, source_id), "SK": number}


def session_key(tenant: str, source_id: int, session: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#TRKSESSION#{source_id}", "SK": session}


def visit_pk(tenant: str, number: str) -> str:
    return f"T#{tenant}#TRKVISIT#{number}"


def visit_key(tenant: str, number: str, *, since: str, session: str) -> dict[str, str]:
    return {"PK": visit_pk(tenant, number), "SK": f"{since}#{session}"}

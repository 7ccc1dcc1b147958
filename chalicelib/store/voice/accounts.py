"""An account's voice side: its platform voice route (a trunk record, one per
account, claimed in the same transaction) and a customer's voice fields (its
domain unique in the tenant)."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.domain.errors import AlreadyExistsError, ConcurrentUpdateError
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.entities import EntityType
from chalicelib.store.dynamo.schema import TRUNK
from chalicelib.store.dynamo.table import Transaction, get, unique_violation
from chalicelib.store.voice.keys import domain_claim_key, route_claim_key, table


def platform_route(tenant: str, customer_id: int) -> int | None:
    """The id of the account's platform voice route (a trunk record), if it has one."""
    item = get(table(), route_claim_key(tenant, customer_id))
    return int(item["trunkId"]) if item else None


def create_platform_route(tenant: str, customer_id: int, fields: Mapping[str, Any]) -> int:
    """The account's platform voice route: the trunk record ``fields`` and the
    claim that makes it the account's one route, in one transaction. Another
    process that made it first wins: its route is answered. ConcurrentUpdateError
    when the claim is taken but not readable yet (another process's transaction
    in flight, which DynamoDB reports as a conflict on the claim): try again."""
    trunk_id = entities.allocate_ids(tenant, TRUNK.kind)[0]
    claim = Transaction()
    claim.put(table(), {**route_claim_key(tenant, customer_id), "trunkId": trunk_id, "tenantId": tenant},
              condition="attribute_not_exists(PK)", failure=AlreadyExistsError("the account has a voice route"))
    try:
        entities.create(TRUNK, tenant, {**fields, "customerId": customer_id}, entity_id=trunk_id, also=claim)
    except AlreadyExistsError:
        found = platform_route(tenant, customer_id)
        if found is None:
            raise ConcurrentUpdateError("the account's voice route is being made") from None
        return found
    return trunk_id


def update_customer(etype: EntityType, tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
                    claim_domain: str | None = None) -> dict[str, Any]:
    """Voice fields of a customer (voiceDomain, voiceMbn); with ``claim_domain``
    the label's per-tenant uniqueness item is written in the same transaction."""
    also = Transaction()
    if claim_domain is not None:
        also.put(table(), {**domain_claim_key(tenant, etype, claim_domain), "id": current["id"], "tenantId": tenant},
                 condition="attribute_not_exists(PK)", failure=unique_violation("domain", claim_domain))
    return entities.update(etype, tenant, current, changes, also=also)

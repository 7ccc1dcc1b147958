"""Key layout of the voice platform's items: every key of them is built here,
so the modules of store/voice/ are the only code that knows their attribute
names (docs/architecture.md, "voice"). Keys (main table), tenant T:

  T#T#VHOOK / <id>, T#T#VDEVICE / <id>, T#T#VCALL / <id>
        generic entities (entities.py) with ByParent CUSTOMER>VHOOK ... :
        one account's hooks, devices and calls in id order
  T#T#VFLOW / <customer id>              the account's flow version: every device
        write and trunk delete is conditional on it, so two concurrent edits
        cannot together make a loop or orphan a reference
  T#T#VDELIVERY#<hook id> / <call id>#<seq>   one event for one hook: the
        delivery log (attempts, outcome); a call's pending ones are a prefix
  T#T#VLEASE / <call id>#<hook id>       who is delivering a call's events to a hook
  VREFRESH#<sha256> / VREFRESH           a refresh token (single use) -> its family
  VFAMILY#<family id> / VFAMILY          a refresh-token family (revoked on reuse; bound
        to the password version it began under)
  T#T#U#TRUNK#voiceRoute / <customer id>   the account's platform voice route
        (its trunk id): one per account, written with the trunk record
  T#T#U#CUSTOMER#voiceDomain / <domain>  a customer's voice domain, unique in the tenant
  SYSTEM / VOICE-JWT-KEYS                local and test stages only: the
        generated signing keys (deployed stages read SSM)
"""
from __future__ import annotations

from chalicelib import settings
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.entities import EntityType

SIGNING_KEYS = {"PK": "SYSTEM", "SK": "VOICE-JWT-KEYS"}


def table() -> str:
    return settings.main_table()


def entity_key(tenant: str, etype: EntityType, entity_id: int) -> dict[str, str]:
    return {"PK": keys.entity_pk(tenant, etype.kind), "SK": keys.pad(entity_id)}


def flow_key(tenant: str, customer_id: int) -> dict[str, str]:
    return {"PK": f"T#{tenant}#VFLOW", "SK": keys.pad(customer_id)}


def delivery_pk(tenant: str, hook_id: int) -> str:
    return f"T#{tenant}#VDELIVERY#{keys.pad(hook_id)}"


def delivery_sk(call_id: int, seq: int) -> str:
    return f"{delivery_sk_prefix(call_id)}{seq:06d}"


def delivery_sk_prefix(call_id: int) -> str:
    """What the sort keys of one call's deliveries (to one hook) begin with."""
    return f"{keys.pad(call_id)}#"


def lease_key(tenant: str, call_id: int, hook_id: int) -> dict[str, str]:
    return {"PK": f"T#{tenant}#VLEASE", "SK": f"{keys.pad(call_id)}#{keys.pad(hook_id)}"}


def refresh_key(token_hash: str) -> dict[str, str]:
    return {"PK": f"VREFRESH#{token_hash}", "SK": "VREFRESH"}


def family_key(family: str) -> dict[str, str]:
    return {"PK": f"VFAMILY#{family}", "SK": "VFAMILY"}


def route_claim_key(tenant: str, customer_id: int) -> dict[str, str]:
    return {"PK": keys.unique_pk(tenant, "TRUNK", "voiceRoute"), "SK": keys.pad(customer_id)}


def domain_claim_key(tenant: str, etype: EntityType, domain: str) -> dict[str, str]:
    return {"PK": keys.unique_pk(tenant, etype.kind, "voiceDomain"), "SK": domain}

"""Key layout of the main table. Every key of every item is built here, so
the access patterns in docs/architecture.md can be checked against one file.

Main table: PK, SK (strings) and four global secondary indexes:
  ByParent   GSI1PK/GSI1SK  children by (parent id, child id): one parent's, or a page of parents'
  ByUpdated  GSI2PK/GSI2SK  one resource type of a tenant, by last change
  ByRef1     GSI3PK/GSI3SK  an equality lookup ordered by id or key (per type)
  ByRef2     GSI4PK/GSI4SK  a second one (per type)
Integer ids are zero-padded so string order is numeric order.
"""
from __future__ import annotations

ID_WIDTH = 12
MAX_ID = 10**ID_WIDTH - 1


def pad(entity_id: int) -> str:
    return f"{entity_id:0{ID_WIDTH}d}"


def entity_pk(tenant: str, kind: str) -> str:
    return f"T#{tenant}#{kind}"


def parent_pk(tenant: str, parent_kind: str, kind: str) -> str:
    # One partition per (tenant, parent kind, child kind), sorted by parent then
    # child: the children of one parent are a prefix, the children of a page of
    # parents one contiguous range (expansion reads them in one Query).
    return f"T#{tenant}#{parent_kind}>{kind}"


def parent_sk(parent_id: int, entity_id: int) -> str:
    return f"{pad(parent_id)}#{pad(entity_id)}"


def updated_sk(updated_at: str, entity_id: int) -> str:
    return f"{updated_at}#{pad(entity_id)}"


def ref_pk(tenant: str, kind: str, ref: str, value: str) -> str:
    return f"T#{tenant}#{kind}#{ref}#{value}"


def unique_pk(tenant: str | None, kind: str, field: str) -> str:
    # tenant None: unique across the whole installation (usernames).
    return f"U#{kind}#{field}" if tenant is None else f"T#{tenant}#U#{kind}#{field}"


def counter_key(tenant: str, kind: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#COUNTER", "SK": kind}


def tenant_key(tenant: str) -> dict[str, str]:
    return {"PK": "TENANTS", "SK": tenant}


def api_key_key(key_hash: str) -> dict[str, str]:
    return {"PK": f"APIKEY#{key_hash}", "SK": "APIKEY"}


def audit_pk(tenant: str, day: str) -> str:
    return f"T#{tenant}#{day}"


# Numbers: one item per number, keyed by the number itself (the natural key:
# importing twice writes the same item, and a lookup by number is one GetItem).
def number_key(tenant: str, number: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#NUMBER", "SK": number}


def number_id_key(tenant: str, number_id: int) -> dict[str, str]:
    # Id lookup: the integer id of a number (billing API) -> the number, written
    # with the number item. Also the id-ordered list of a tenant's numbers.
    return {"PK": number_id_pk(tenant), "SK": pad(number_id)}


def number_id_pk(tenant: str) -> str:
    return f"T#{tenant}#NUMBERID"


def available_pk(tenant: str, category: str, group: str) -> str:
    # ByRef1 partition of the available numbers of one state (landline) or one
    # toll-free prefix; sort key the number, so NPANXX is a prefix and
    # "ascending order" is the index order. Present only while available.
    return f"T#{tenant}#NUMBER#AVAIL#{category}#{group}"


def owned_pk(tenant: str) -> str:
    # ByParent partition of numbers owned by customers: <customer id>#<number>.
    return f"T#{tenant}#CUSTOMER>NUMBER"


def owned_sk(customer_id: int, number: str) -> str:
    return f"{pad(customer_id)}#{number}"


def counter_pk(tenant: str) -> str:
    return f"T#{tenant}#AVAIL"


def state_counter_sk(category: str, group: str) -> str:
    return f"STATE#{category}#{group}"


def npanxx_counter_sk(state: str, npanxx: str) -> str:
    return f"NPANXX#{state}#{npanxx}"


def npanxx_directory_key(tenant: str, npanxx: str) -> dict[str, str]:
    # NPANXX -> state, for a search or reservation by NPANXX without a state.
    return {"PK": f"T#{tenant}#NPANXXDIR", "SK": npanxx}


def cart_key(tenant: str, reserve_id: int) -> dict[str, str]:
    return {"PK": f"T#{tenant}#CART", "SK": pad(reserve_id)}


def customer_cart_key(tenant: str, customer_id: int) -> dict[str, str]:
    # The customer's current Order Cart (its reserveId): consecutive reservations join it.
    return {"PK": f"T#{tenant}#CUSTOMERCART", "SK": pad(customer_id)}


def open_carts_pk(tenant: str) -> str:
    # ByRef2 partition of carts that hold numbers and can expire; sort key
    # <holdUntil>#<reserveId>, so the expired ones are one range Query.
    return f"T#{tenant}#CART#OPEN"


def idempotency_key(tenant: str, key: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#IDEM", "SK": key}


def portability_key(tenant: str, number: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#PORTABILITY", "SK": number}


def settings_key(tenant: str, name: str) -> dict[str, str]:
    return {"PK": f"T#{tenant}#SETTINGS", "SK": name}


def storage_usage_key(tenant: str) -> dict[str, str]:
    # Bytes of stored files of a tenant: one item, changed in the same
    # transaction as the attachment that adds or replaces a file.
    return {"PK": f"T#{tenant}#USAGE", "SK": "STORAGE"}


def pending_file_pk(tenant: str) -> str:
    # Files a committed record names that are still under pending/, or that
    # it no longer names (store/pending_files.py); SK: the tenant-relative key.
    return f"T#{tenant}#PENDINGFILE"


def mail_pk(tenant: str) -> str:
    # Captured e-mail of a tenant (store/mail.py); SK <sentAt>#<id>, so newest first is one reversed Query.
    return f"T#{tenant}#MAIL"


def sandbox_charge_key(reference: str) -> dict[str, str]:
    # The sandbox payment gateway's side of one charge (store/money/sandbox_charges.py).
    return {"PK": "SANDBOXPAY", "SK": reference}

"""Opaque ids: the document's 24-hex (and UUID) ids, derived from the tenant and the integer id of the other surfaces, with no lookup table."""
from __future__ import annotations

import hashlib
from typing import Any


# ------------------------------------------------------------------ opaque ids
# The document's ids are opaque strings: 24 hex digits for organisations,
# accounts and DDIs, UUID-shaped for trunks, hooks, devices and calls. Each is
# derived from (tenant, kind, integer id): a tenant- and kind-specific prefix
# and the id XOR a mask, so it is stable, needs no lookup item, and one
# tenant's ids never decode in another tenant (the prefix differs).
ID_BITS = 48
_ID_MASK = (1 << ID_BITS) - 1


def _salt(tenant: str, kind: str) -> bytes:
    return hashlib.sha256(f"dialtone-voice:{tenant}:{kind}".encode()).digest()


def opaque_id(tenant: str, kind: str, number: int, *, uuid: bool = False) -> str:
    salt = _salt(tenant, kind)
    mask = int.from_bytes(salt[:6], "big")
    tail = f"{(number ^ mask) & _ID_MASK:012x}"
    if not uuid:
        return salt[6:12].hex() + tail
    head = salt[6:16].hex()
    return f"{head[:8]}-{head[8:12]}-{head[12:16]}-{head[16:20]}-{tail}"


def parse_opaque_id(tenant: str, kind: str, text: Any, *, uuid: bool = False) -> int | None:
    """The integer id behind an opaque id of this tenant and kind, or None."""
    if not isinstance(text, str):
        return None
    salt = _salt(tenant, kind)
    value = text.strip().lower()
    if uuid:
        head = salt[6:16].hex()
        prefix = f"{head[:8]}-{head[8:12]}-{head[12:16]}-{head[16:20]}-"
    else:
        prefix = salt[6:12].hex()
    tail = value[len(prefix):]
    if not value.startswith(prefix) or len(tail) != 12 or not all(c in "0123456789abcdef" for c in tail):
        return None
    number = int(tail, 16) ^ int.from_bytes(salt[:6], "big")
    return number if 0 < number < 10**12 else None



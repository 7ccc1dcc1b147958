"""The role matrix (docs/voice-api.md "Roles"): what each role may do beyond reading."""
from __future__ import annotations


from chalicelib.domain.errors import PermissionDeniedError
from chalicelib.domain.identity import ROLE_ADMIN, Principal
from chalicelib.domain.voice.constants import ROLE_VOICE_CHANNEL

# ------------------------------------------------------------------ roles
READ = "read"
CONFIGURE = "configure"   # address, trunks, hooks, devices
CALLS = "calls"           # create, update and end voice calls

# What each role may do beyond reading (docs/voice-api.md "Roles"). Reading is
# open to every authenticated user, within its customer access.
ROLE_MATRIX: dict[str, frozenset[str]] = {
    ROLE_ADMIN: frozenset({READ, CONFIGURE, CALLS}),
    ROLE_VOICE_CHANNEL: frozenset({READ, CALLS}),
}


def require(principal: Principal, action: str) -> None:
    """PermissionDeniedError (403) with the reason when no role of the caller allows ``action``."""
    if action == READ:
        principal.require_read()
        return
    if not any(action in ROLE_MATRIX.get(role, ()) for role in principal.roles):
        needed = " or ".join(sorted(r for r, allowed in ROLE_MATRIX.items() if action in allowed))
        raise PermissionDeniedError(f"this needs the role {needed}")
    principal.require_write()



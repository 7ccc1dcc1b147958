"""Tenants, users and the Principal every credential scheme resolves to."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Mapping

from chalicelib.domain.errors import PermissionDeniedError, ValidationError

# Which customers a staff user may see. A customer user sees only its own.
ACCESS_ALL = "all"
ACCESS_MANAGER = "manager"
ACCESS_COMMISSION = "commission"
ACCESS_CUSTOMER = "customer"
STAFF_ACCESS = (ACCESS_ALL, ACCESS_MANAGER, ACCESS_COMMISSION)

# Roles with a meaning in the code; others are carried through (e.g. into JWTs).
ROLE_ADMIN = "OrganisationAdmin"
ROLE_DATA_PROTECTION_PRIMARY = "DataProtectionPrimary"

USERNAME_MAX = 128


@dataclass(frozen=True)
class Principal:
    """Who is calling, whatever the credential: the one thing services trust."""

    tenant_id: str
    user_id: int
    username: str
    roles: frozenset[str]
    can_read: bool
    can_write: bool
    customer_access: str
    customer_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return ROLE_ADMIN in self.roles

    def require_read(self) -> None:
        if not self.can_read:
            raise PermissionDeniedError("this user has no read access to the API")

    def require_write(self) -> None:
        if not self.can_write:
            raise PermissionDeniedError("this user has no write access to the API")

    def may_see_customer(self, customer: Mapping[str, Any]) -> bool:
        if self.customer_access == ACCESS_ALL:
            return True
        if self.customer_access == ACCESS_CUSTOMER:
            return customer.get("id") == self.customer_id
        if self.customer_access == ACCESS_MANAGER:
            return customer.get("accountManagerId") == self.user_id
        if self.customer_access == ACCESS_COMMISSION:
            return customer.get("commissionHolderId") == self.user_id
        return False


def principal_from_user(user: Mapping[str, Any], tenant_id: str) -> Principal:
    return Principal(
        tenant_id=tenant_id,
        user_id=user["id"],
        username=user["username"],
        roles=frozenset(user.get("roles") or ()),
        can_read=bool(user.get("canRead")),
        can_write=bool(user.get("canWrite")),
        customer_access=user.get("customerAccess", ACCESS_ALL),
        customer_id=user.get("customerId"),
    )


def validate_username(username: str) -> str:
    name = (username or "").strip()
    if not name or len(name) > USERNAME_MAX or any(c.isspace() or c in ":\"" for c in name):
        # ':' and '"' would break HTTP Digest's username handling.
        raise ValidationError("username must be 1-128 characters without spaces, ':' or '\"'", field="username")
    return name


def parse_allowlist(entries: list[str]) -> list[str]:
    """Normalise CIDRs ('10.0.0.1' -> '10.0.0.1/32'); an empty list means no restriction."""
    networks = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ValidationError(f"'{entry}' is not an IP address or CIDR block", field="ips") from None
    return networks


def source_allowed(allowlist: list[str] | None, source_ip: str | None) -> bool:
    if not allowlist:
        return True
    if not source_ip:
        return False
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in allowlist)

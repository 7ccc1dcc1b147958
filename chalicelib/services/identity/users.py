"""Tenants and users: creation, API keys, allow-lists, passwords and TOTP."""
from __future__ import annotations

import secrets as _random
from typing import TYPE_CHECKING, Any

from chalicelib import clock
from chalicelib.auth import attempts
from chalicelib.auth import hashing as secrets
from chalicelib.auth import sealing
from chalicelib.auth import api_key as api_key_auth
from chalicelib.domain import identity
from chalicelib.domain.common import actions as rules
from chalicelib.domain.common.actions import Action
from chalicelib.domain.errors import (
    ActionPermissionError, ConcurrentUpdateError, DialtoneError, InvalidStateError, NotFoundError, PermissionDeniedError,
    ValidationError,
)
from chalicelib.domain.identity import Principal
from chalicelib.services.customers.accounts import customer_id_for_account
from chalicelib.store.identity import users as store

if TYPE_CHECKING:
    from chalicelib.store.dynamo.table import Transaction


def create_tenant(*, name: str) -> dict[str, Any]:
    """A tenant and its first user: an administrator with read/write access to
    all customers, no IP restriction, a password, a TOTP secret and an API key."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("tenant name must be 1-200 characters", field="name")
    tenant_id = "t" + _random.token_hex(6)
    username = f"admin-{tenant_id}"
    user, credentials = _create_user(
        tenant=tenant_id, username=username, roles=[identity.ROLE_ADMIN, identity.ROLE_DATA_PROTECTION_PRIMARY],
        api_only=False, customer_access=identity.ACCESS_ALL, customer_id=None, can_read=True, can_write=True,
        with_api_key=True, new_tenant_name=name,
    )
    return {"tenant": {"id": tenant_id, "name": name}, "user": {"id": user["id"], "username": username, **credentials}}


def create_user(*, tenant: str, username: str, roles: list[str] | None = None, api_only: bool = False,
                customer_access: str = identity.ACCESS_ALL, account_number: str | None = None,
                can_read: bool = True, can_write: bool = True, password: str | None = None) -> dict[str, Any]:
    """A staff user (customer_access all/manager/commission) or, with
    ``account_number``, a customer user bound to that one customer."""
    _require_tenant(tenant)
    customer_id = None
    bound_customer = None
    if account_number is not None:
        customer_id = customer_id_for_account(tenant=tenant, account_number=account_number)
        customer_access = identity.ACCESS_CUSTOMER
        # The customer must still exist when the user is written.
        bound_customer = (customer_id, NotFoundError(f"account {account_number} not found"))
    elif customer_access not in identity.STAFF_ACCESS:
        raise ValidationError(f"customer access must be one of {', '.join(identity.STAFF_ACCESS)}",
                              field="customerAccess")
    user, credentials = _create_user(
        tenant=tenant, username=username, roles=roles or [], api_only=api_only, customer_access=customer_access,
        customer_id=customer_id, can_read=can_read, can_write=can_write, with_api_key=False, password=password,
        bound_customer=bound_customer,
    )
    return {"id": user["id"], "username": user["username"], "customerAccess": customer_access,
            "customerId": customer_id, "accountNumber": account_number, "apiOnly": api_only,
            "roles": user["roles"], "canRead": can_read, "canWrite": can_write, **credentials}


def _create_user(*, tenant: str, username: str, roles: list[str], api_only: bool, customer_access: str,
                 customer_id: int | None, can_read: bool, can_write: bool, with_api_key: bool,
                 password: str | None = None, new_tenant_name: str | None = None,
                 bound_customer: tuple[int, NotFoundError] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    fields, credentials = _user_fields(username=username, roles=roles, api_only=api_only,
                                       customer_access=customer_access, customer_id=customer_id, can_read=can_read,
                                       can_write=can_write, password=password)
    user_id = store.allocate_user_id(tenant)
    if with_api_key:
        key = secrets.new_api_key()
        fields["apiKeyHash"] = secrets.api_key_hash(key)
        fields["apiKeyCreatedAt"] = clock.now_iso()
        credentials["api_key"] = key
    record = store.create_user(tenant, fields, user_id=user_id, new_tenant_name=new_tenant_name,
                               bound_customer=bound_customer)
    return record, credentials


def _user_fields(*, username: str, roles: list[str], api_only: bool, customer_access: str,
                 customer_id: int | None, can_read: bool, can_write: bool,
                 password: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    username = identity.validate_username(username)
    credentials: dict[str, Any] = {}
    fields: dict[str, Any] = {
        "username": username, "roles": sorted(set(roles)), "apiOnly": api_only, "canRead": can_read,
        "canWrite": can_write, "customerAccess": customer_access, "customerId": customer_id,
        "ipAllowlist": [], "active": True,
    }
    if not api_only:
        # API-only users have no login: no password, no second factor.
        password = password or secrets.new_password()
        fields["passwordHash"] = secrets.hash_password(password)
        fields["digestHa1"] = secrets.digest_ha1(username, password)
        seed = secrets.new_totp_secret()
        fields["totpSecret"] = sealing.seal(seed)  # read back to verify codes, so sealed rather than hashed
        credentials.update(password=password, totp_secret=seed)
    return fields, credentials


def prepare_customer_user(*, tenant: str, username: str, customer_id: int,
                          password: str) -> tuple[dict[str, Any], Transaction]:
    """The writes of a customer user (user item and username claim) for a
    customer created in the same transaction (self-service registration)."""
    _require_tenant(tenant)
    fields, _ = _user_fields(username=username, roles=[], api_only=False, customer_access=identity.ACCESS_CUSTOMER,
                             customer_id=customer_id, can_read=True, can_write=True, password=password)
    return store.prepare_user(tenant, fields)


def get_user(*, tenant: str, user_id: int) -> dict[str, Any]:
    user = store.get_user(tenant, user_id)
    if not user:
        raise NotFoundError(f"user {user_id} not found")
    return user


def find_user(*, tenant: str, user: str) -> dict[str, Any]:
    """A user of the tenant by id or username."""
    if user.isdigit():
        return get_user(tenant=tenant, user_id=int(user))
    found = store.find_user_by_username(user)
    if not found or found[0] != tenant:
        raise NotFoundError(f"user '{user}' not found in tenant {tenant}")
    return found[1]


def issue_api_key(*, tenant: str, user_id: int) -> str:
    """A new API key for the user, revoking the old one in the same transaction.
    Returned once; only its hash is stored."""
    user = get_user(tenant=tenant, user_id=user_id)
    key = secrets.new_api_key()
    key_hash, stamp = secrets.api_key_hash(key), clock.now_iso()
    if user.get("apiKeyHash"):
        api_key_auth.forget(user["apiKeyHash"])
    store.replace_api_key(tenant, user, key_hash, stamp)
    return key


def generate_own_api_key(*, principal: Principal, password: str, totp_code: str,
                         source_ip: str | None = None) -> str:
    """The self-service path: only with the current password and a valid TOTP code.

    A wrong password or code here is a failed sign-in like a wrong login
    (auth/attempts.py, per username and per address): whoever holds a stolen
    session or key cannot use this form to guess the password without limit."""
    user = get_user(tenant=principal.tenant_id, user_id=principal.user_id)
    if user.get("apiOnly"):
        raise PermissionDeniedError("API-only users receive keys from an administrator")
    attempts.check(user["username"], source_ip)
    step = secrets.totp_step(sealing.unseal(user.get("totpSecret")), totp_code)
    if not secrets.verify_password(password, user.get("passwordHash")) or step is None:
        raise _failed_reauthentication(user["username"], source_ip, "the password or the two-factor code is wrong")
    seal_totp_secret(tenant=principal.tenant_id, user_id=user["id"])  # a seed from before sealing
    # A code is good once: its time-step must be later than the last accepted
    # one, recorded by one conditional write (two requests racing with the
    # same code cannot both pass).
    if step <= int(user.get("totpLastStep", -1)) or not store.claim_totp_step(principal.tenant_id, user["id"], step):
        # Counted like the portal login counts a replayed code.
        raise _failed_reauthentication(user["username"], source_ip,
                                       "this two-factor code has already been used; wait for the next one")
    return issue_api_key(tenant=principal.tenant_id, user_id=principal.user_id)


def _failed_reauthentication(username: str, source_ip: str | None, message: str) -> DialtoneError:
    """Count the failure; past a limit the answer is the 429 refusal instead."""
    return attempts.failed(username, source_ip) or PermissionDeniedError(message)


def seal_totp_secret(*, tenant: str, user_id: int) -> bool:
    """Seal the user's TOTP seed if it is still stored as it was before sealing
    existed. True if it was sealed now; a concurrent change leaves it for the next time."""
    user = get_user(tenant=tenant, user_id=user_id)
    stored = user.get("totpSecret")
    if not stored or sealing.is_sealed(stored):
        return False
    try:
        store.update_user(tenant, user, {"totpSecret": sealing.seal(stored)})
    except ConcurrentUpdateError:
        return False
    return True


def seal_totp_secrets(*, tenant: str) -> int:
    """The migration: every seed of the tenant still in clear sealed. Returns how many."""
    return sum(seal_totp_secret(tenant=tenant, user_id=int(user["id"]))
               for user in store.every_user(tenant) if user.get("totpSecret") and not
               sealing.is_sealed(user["totpSecret"]))


def reset_api_key_of(*, principal: Principal, user_id: int) -> str:
    """Another user's key: only holders of the primary data-protection right."""
    if identity.ROLE_DATA_PROTECTION_PRIMARY not in principal.roles:
        raise PermissionDeniedError("only users with primary data protection access may reset other users' keys")
    return issue_api_key(tenant=principal.tenant_id, user_id=user_id)


def set_allowlist(*, tenant: str, user_id: int, ips: list[str]) -> list[str]:
    networks = identity.parse_allowlist(ips)
    user = get_user(tenant=tenant, user_id=user_id)
    store.update_user(tenant, user, {"ipAllowlist": networks})
    if user.get("apiKeyHash"):
        api_key_auth.forget(user["apiKeyHash"])
    return networks


def _require_tenant(tenant: str) -> dict[str, Any]:
    found = store.get_tenant(tenant)
    if not found:
        raise NotFoundError(f"tenant {tenant} not found")
    return found


def get_own_user(*, principal: Principal, user_id: int) -> dict[str, Any]:
    """Users read their own record only; anyone else's is not found."""
    principal.require_read()
    if user_id != principal.user_id:
        raise NotFoundError(f"user {user_id} not found")
    return get_user(tenant=principal.tenant_id, user_id=user_id)


def _user_actions() -> dict[str, Any]:
    def nothing(record: Any, params: Any) -> dict[str, Any]:
        return {}
    return {
        "generateAPIKey": Action("generateAPIKey", nothing, required=("password", "totpCode"),
                                 summary="Your own new key, with your current password and a valid TOTP code."),
        "issueAPIKey": Action("issueAPIKey", nothing,
                              summary="An administrator issues the first key of an API-only user."),
        "resetAPIKey": Action("resetAPIKey", nothing,
                              summary="Replace another user's key (primary data protection right)."),
    }


def api_key_action(*, principal: Principal, user_id: int, name: str | None, params: Any,
                   source_ip: str | None = None) -> tuple[dict[str, Any], str]:
    """The user's new API key (shown once) by one of the key actions; the old key is revoked."""
    action = rules.find(_user_actions(), name, "user")
    rules.check_parameters(action, params)
    if action.name == "generateAPIKey":
        if user_id != principal.user_id:
            raise ActionPermissionError("generateAPIKey makes your own key; use resetAPIKey for another user")
        key = generate_own_api_key(principal=principal, password=str(params["password"]),
                                   totp_code=str(params["totpCode"]), source_ip=source_ip)
    elif action.name == "issueAPIKey":
        if not principal.is_admin:
            raise ActionPermissionError("only administrators issue keys to API-only users")
        target = get_user(tenant=principal.tenant_id, user_id=user_id)
        if not target.get("apiOnly"):
            raise InvalidStateError("issueAPIKey is for API-only users; others generate their own key")
        if target.get("apiKeyHash"):
            raise InvalidStateError("the user already has a key; replacing it is resetAPIKey")
        key = issue_api_key(tenant=principal.tenant_id, user_id=user_id)
    else:
        try:
            key = reset_api_key_of(principal=principal, user_id=user_id)
        except PermissionDeniedError as error:
            raise ActionPermissionError(error.message) from None
    return get_user(tenant=principal.tenant_id, user_id=user_id), key


def set_password(*, tenant: str, user_id: int, password: str) -> None:
    """A new password (and the Digest HA1 derived from it)."""
    user = get_user(tenant=tenant, user_id=user_id)
    if user.get("apiOnly"):
        raise PermissionDeniedError("API-only users have no password")
    store.update_user(tenant, user, {"passwordHash": secrets.hash_password(password),
                                    "digestHa1": secrets.digest_ha1(user["username"], password)})


def mark_email_confirmed(*, tenant: str, user_id: int) -> None:
    user = get_user(tenant=tenant, user_id=user_id)
    if not user.get("emailConfirmed"):
        store.update_user(tenant, user, {"emailConfirmed": True})


def enrol_totp(*, tenant: str, user_id: int, secret: str) -> None:
    """Store the first TOTP secret of a user who had none (portal enrolment).
    The version check refuses a second enrolment racing with this one."""
    user = get_user(tenant=tenant, user_id=user_id)
    if user.get("totpSecret"):
        raise PermissionDeniedError("this user already has a second factor")
    store.update_user(tenant, user, {"totpSecret": sealing.seal(secret)})


def list_api_users(*, principal: Principal) -> list[dict[str, Any]]:
    """The tenant's API-only users (the portal's expert view): administrators only."""
    if not principal.is_admin:
        raise PermissionDeniedError("only administrators see the API-only users")
    return [u for u in store.every_user(principal.tenant_id) if u.get("apiOnly")]

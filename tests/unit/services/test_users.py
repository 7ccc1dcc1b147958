import pytest

from chalicelib.auth import api_key
from chalicelib.domain.errors import AlreadyExistsError, AuthenticationError, NotFoundError, PermissionDeniedError, SourceNotAllowedError
from chalicelib.services.customers import accounts as customers
from chalicelib.services.identity import users


def test_first_user_is_an_unrestricted_administrator(tenant):
    principal = api_key.authenticate(tenant["user"]["api_key"], "203.0.113.9")
    assert principal.is_admin and principal.can_read and principal.can_write
    assert principal.customer_access == "all"
    assert set(tenant["user"]) >= {"username", "password", "api_key", "totp_secret"}


def test_a_new_key_revokes_the_old_one(tenant):
    t, admin = tenant["tenant"]["id"], tenant["user"]
    old = admin["api_key"]
    api_key.authenticate(old, None)
    new = users.issue_api_key(tenant=t, user_id=admin["id"])
    assert api_key.authenticate(new, None).user_id == admin["id"]
    with pytest.raises(AuthenticationError):
        api_key.authenticate(old, None)


def test_usernames_are_unique_across_tenants(tenant):
    other = users.create_tenant(name="Other")
    users.create_user(tenant=tenant["tenant"]["id"], username="alice")
    with pytest.raises(AlreadyExistsError):
        users.create_user(tenant=other["tenant"]["id"], username="Alice")


def test_api_only_users_have_no_login(tenant):
    made = users.create_user(tenant=tenant["tenant"]["id"], username="crm-sync", api_only=True)
    assert "password" not in made and "totp_secret" not in made
    stored = users.get_user(tenant=tenant["tenant"]["id"], user_id=made["id"])
    assert "passwordHash" not in stored and "totpSecret" not in stored


def test_customer_users_are_bound_to_their_account(tenant):
    t = tenant["tenant"]["id"]
    admin = api_key.authenticate(tenant["user"]["api_key"], None)
    acme = customers.create_customer(principal=admin, fields={"name": "Acme", "accountNumber": "ACME-1"})
    made = users.create_user(tenant=t, username=f"acme-user-{t}", account_number="ACME-1")
    assert made["customerId"] == acme["id"] and made["customerAccess"] == "customer"
    with pytest.raises(NotFoundError):
        users.create_user(tenant=t, username=f"ghost-{t}", account_number="NOPE")


def test_allowlist_is_checked_against_the_source_address(tenant):
    t, admin = tenant["tenant"]["id"], tenant["user"]
    users.set_allowlist(tenant=t, user_id=admin["id"], ips=["198.51.100.0/24"])
    assert api_key.authenticate(admin["api_key"], "198.51.100.20").user_id == admin["id"]
    with pytest.raises(SourceNotAllowedError):
        api_key.authenticate(admin["api_key"], "203.0.113.1")
    users.set_allowlist(tenant=t, user_id=admin["id"], ips=[])
    api_key.authenticate(admin["api_key"], "203.0.113.1")


def test_self_service_key_needs_password_and_totp(tenant):
    import pyotp

    t, admin = tenant["tenant"]["id"], tenant["user"]
    principal = api_key.authenticate(admin["api_key"], None)
    with pytest.raises(PermissionDeniedError):
        users.generate_own_api_key(principal=principal, password="wrong", totp_code=pyotp.TOTP(admin["totp_secret"]).now())
    with pytest.raises(PermissionDeniedError):
        users.generate_own_api_key(principal=principal, password=admin["password"], totp_code="12345x")
    key = users.generate_own_api_key(principal=principal, password=admin["password"],
                                     totp_code=pyotp.TOTP(admin["totp_secret"]).now())
    assert api_key.authenticate(key, None).tenant_id == t


def test_only_primary_data_protection_may_reset_other_keys(tenant):
    t = tenant["tenant"]["id"]
    clerk = users.create_user(tenant=t, username=f"clerk-{t}", api_only=True)
    clerk_key = users.issue_api_key(tenant=t, user_id=clerk["id"])
    clerk_principal = api_key.authenticate(clerk_key, None)
    admin_principal = api_key.authenticate(tenant["user"]["api_key"], None)
    with pytest.raises(PermissionDeniedError):
        users.reset_api_key_of(principal=clerk_principal, user_id=tenant["user"]["id"])
    new_key = users.reset_api_key_of(principal=admin_principal, user_id=clerk["id"])
    assert api_key.authenticate(new_key, None).user_id == clerk["id"]


def test_a_totp_code_is_accepted_once(tenant):
    """Replay inside the code's window is refused: the last accepted time-step
    is recorded per user and a code must belong to a later one."""
    import time

    import pyotp

    admin = tenant["user"]
    principal = api_key.authenticate(admin["api_key"], None)
    totp = pyotp.TOTP(admin["totp_secret"])
    now = time.time()
    code = totp.at(now)
    first = users.generate_own_api_key(principal=principal, password=admin["password"], totp_code=code)
    principal = api_key.authenticate(first, None)
    with pytest.raises(PermissionDeniedError, match="already been used"):
        users.generate_own_api_key(principal=principal, password=admin["password"], totp_code=code)
    # The next step's code (inside the drift window) is fresh; after it, the
    # earlier step's code is refused even though it is still inside its window.
    later = totp.at(now + 30)
    second = users.generate_own_api_key(principal=principal, password=admin["password"], totp_code=later)
    principal = api_key.authenticate(second, None)
    with pytest.raises(PermissionDeniedError, match="already been used"):
        users.generate_own_api_key(principal=principal, password=admin["password"], totp_code=code)
    assert api_key.authenticate(second, None).user_id == admin["id"]  # the refusals revoked nothing


def test_totp_step_claim_is_conditional(tenant):
    from chalicelib.store.identity import users as store

    t, user_id = tenant["tenant"]["id"], tenant["user"]["id"]
    assert store.claim_totp_step(t, user_id, 100) is True
    assert store.claim_totp_step(t, user_id, 100) is False
    assert store.claim_totp_step(t, user_id, 99) is False
    assert store.claim_totp_step(t, user_id, 101) is True
    assert store.claim_totp_step(t, 999999, 5) is False  # no such user: nothing created
    assert users.get_user(tenant=t, user_id=user_id)["totpLastStep"] == 101


def test_wrong_password_does_not_spend_the_code(tenant):
    import pyotp

    admin = tenant["user"]
    principal = api_key.authenticate(admin["api_key"], None)
    code = pyotp.TOTP(admin["totp_secret"]).now()
    with pytest.raises(PermissionDeniedError, match="wrong"):
        users.generate_own_api_key(principal=principal, password="nope", totp_code=code)
    assert users.generate_own_api_key(principal=principal, password=admin["password"], totp_code=code)


def test_totp_seeds_are_stored_sealed_and_old_clear_ones_are_sealed_by_the_migration(tenant):
    import pyotp

    from chalicelib.auth import sealing
    from chalicelib.store.dynamo import entities
    from chalicelib.store.identity.users import USER

    t, admin = tenant["tenant"]["id"], tenant["user"]
    stored = users.get_user(tenant=t, user_id=admin["id"])["totpSecret"]
    assert sealing.is_sealed(stored) and admin["totp_secret"] not in stored
    # A user from before sealing: the seed in clear still verifies, and is sealed on that use.
    legacy = users.create_user(tenant=t, username="legacy-totp", password="legacy-password-1")
    entities.update(USER, t, users.get_user(tenant=t, user_id=legacy["id"]), {"totpSecret": legacy["totp_secret"]})
    principal = api_key.authenticate(users.issue_api_key(tenant=t, user_id=legacy["id"]), None)
    assert users.generate_own_api_key(principal=principal, password="legacy-password-1",
                                      totp_code=pyotp.TOTP(legacy["totp_secret"]).now())
    assert sealing.unseal(users.get_user(tenant=t, user_id=legacy["id"])["totpSecret"]) == legacy["totp_secret"]
    # The migration seals every seed still in clear, once.
    other = users.create_user(tenant=t, username="legacy-totp-2")
    entities.update(USER, t, users.get_user(tenant=t, user_id=other["id"]), {"totpSecret": other["totp_secret"]})
    assert users.seal_totp_secrets(tenant=t) == 1 and users.seal_totp_secrets(tenant=t) == 0
    assert sealing.unseal(users.get_user(tenant=t, user_id=other["id"])["totpSecret"]) == other["totp_secret"]

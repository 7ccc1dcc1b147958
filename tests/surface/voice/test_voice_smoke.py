from __future__ import annotations

from datetime import datetime, timezone


def test_login_and_me(voice, tenant):
    assert voice.tokens["expires_in"] == 3600 and voice.tokens["refresh_expires_in"] == 36000
    reply = voice.get("/userAccounts/me")
    assert reply.status_code == 200, reply.text
    assert reply.json["name"] == "Test Tenant" and len(reply.json["id"]) == 24


def test_key_rotation_keeps_two_keys_live(voice, tenant):
    import jwt

    from chalicelib.auth import access_tokens

    old = voice.token
    old_kid = jwt.get_unverified_header(old)["kid"]
    rotated = access_tokens.rotate_keys()
    assert rotated["live"][1] == old_kid and rotated["active"] != old_kid
    assert voice.get("/userAccounts/me").status_code == 200  # signed by the previous key: still valid
    voice.login(tenant["user"]["username"], tenant["user"]["password"])
    assert jwt.get_unverified_header(voice.token)["kid"] == rotated["active"]
    assert [k["kid"] for k in voice.get("/oauth/jwks").json["keys"]] == rotated["live"]
    access_tokens.rotate_keys()
    assert voice.get("/userAccounts/me", token=old).status_code == 401  # two rotations later: retired


def test_a_token_this_process_has_verified_still_expires(voice, tenant):
    """On the project clock (frozen here), not the wall clock: a slow first
    request on a busy machine could otherwise outlive the token it tests."""
    from chalicelib import clock
    from chalicelib.auth import access_tokens
    from chalicelib.services.identity import users

    user = users.find_user(tenant=tenant["tenant"]["id"], user=tenant["user"]["username"])
    issued = clock.epoch()
    token = access_tokens.issue(tenant=tenant["tenant"]["id"], user=user, now=issued)
    last_good = issued + access_tokens.ACCESS_SECONDS + access_tokens.LEEWAY_SECONDS
    with clock.frozen(datetime.fromtimestamp(last_good - 1, timezone.utc)):
        assert voice.get("/userAccounts/me", token=token).status_code == 200  # verified, and remembered
        assert voice.get("/userAccounts/me", token=token).status_code == 200
    with clock.frozen(datetime.fromtimestamp(last_good + 1, timezone.utc)):
        expired = voice.get("/userAccounts/me", token=token)
    assert expired.status_code == 401 and "expired" in expired.text


def test_a_key_another_process_rotated_in_is_read_before_a_token_is_refused(voice, tenant, monkeypatch):
    """A warm process keeps the key set for KEY_CACHE_SECONDS; a token signed
    meanwhile by the key another process rotated in must still verify."""
    import time

    import jwt

    from chalicelib.auth import access_tokens

    voice.get("/userAccounts/me")
    stale = dict(access_tokens._keys)  # this process's view, before the rotation elsewhere
    access_tokens.rotate_keys()
    voice.login(tenant["user"]["username"], tenant["user"]["password"])  # signed by the new key
    access_tokens.forget_keys()
    access_tokens._keys.update(stale, loaded=time.monotonic() - access_tokens.UNKNOWN_KID_RELOAD_SECONDS - 1)
    assert jwt.get_unverified_header(voice.token)["kid"] not in access_tokens._keys["public"]
    assert voice.get("/userAccounts/me").status_code == 200

    # A made-up kid right after that read does not make the process read the key set again.
    reads = []
    real = access_tokens._raw_key_set
    monkeypatch.setattr(access_tokens, "_raw_key_set", lambda: reads.append(1) or real())
    header, rest = voice.token.split(".", 1)
    forged = jwt.utils.base64url_encode(b'{"alg":"RS256","kid":"made-up","typ":"JWT"}').decode() + "." + rest
    refused = voice.get("/userAccounts/me", token=forged)
    assert refused.status_code == 401 and "unknown key" in refused.text
    assert reads == []


def test_a_password_change_ends_refresh_tokens_and_revokes_their_family(voice, tenant):
    from chalicelib import settings
    from chalicelib.auth import access_tokens
    from chalicelib.services.identity import users
    from chalicelib.store.voice import keys as voice_keys, oauth as token_store
    from chalicelib.store.dynamo.table import get

    username = tenant["user"]["username"]
    user = users.find_user(tenant=tenant["tenant"]["id"], user=username)
    first = voice.tokens["refresh_token"]
    family = token_store.get_refresh(access_tokens.refresh_hash(first))["family"]
    users.set_password(tenant=tenant["tenant"]["id"], user_id=user["id"], password="a-new-password-1")
    refused = voice.authorize(token=first)
    assert refused.status_code == 401 and refused.json["error"] == "invalid_grant"
    assert token_store.get_refresh(access_tokens.refresh_hash(first))["used"] is False  # nothing was rotated
    assert voice.authorize(token=first).status_code == 401
    assert get(settings.main_table(), voice_keys.family_key(family))["revoked"] is True
    fresh = voice.login(username, "a-new-password-1")
    assert voice.authorize(token=fresh["refresh_token"]).status_code == 200  # the new password's family works


def test_tokens_are_timed_by_the_project_clock(voice, tenant):
    from chalicelib import clock
    from chalicelib.auth import access_tokens
    from chalicelib.services.identity import users

    user = users.find_user(tenant=tenant["tenant"]["id"], user=tenant["user"]["username"])
    with clock.frozen("2031-03-01T12:00:00"):
        token = access_tokens.issue(tenant=tenant["tenant"]["id"], user=user)
        refresh = voice.login(tenant["user"]["username"], tenant["user"]["password"])["refresh_token"]
        assert voice.get("/userAccounts/me", token=token).status_code == 200
    late = access_tokens.ACCESS_SECONDS + access_tokens.LEEWAY_SECONDS
    with clock.frozen(f"2031-03-01T13:00:{late - 3600:02d}"):
        expired = voice.get("/userAccounts/me", token=token)
        assert expired.status_code == 401 and "expired" in expired.text
    with clock.frozen("2031-03-02T12:00:00"):  # past refresh_expires_in (10 hours)
        assert voice.authorize(token=refresh).status_code == 401

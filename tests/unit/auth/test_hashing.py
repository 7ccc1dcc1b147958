from chalicelib.auth import hashing as secrets
from chalicelib.domain import identity


def test_password_hash_is_salted_and_verifies(aws):
    first, second = secrets.hash_password("s3cret!"), secrets.hash_password("s3cret!")
    assert first != second and "s3cret" not in first
    assert secrets.verify_password("s3cret!", first)
    assert not secrets.verify_password("wrong", first)
    assert not secrets.verify_password("s3cret!", "garbage")


def test_api_keys_are_random_prefixed_and_hashed():
    key = secrets.new_api_key()
    assert key.startswith("dtk_") and secrets.looks_like_api_key(key)
    assert key != secrets.new_api_key()
    assert len(secrets.api_key_hash(key)) == 64 and key not in secrets.api_key_hash(key)


def test_totp_codes_verify():
    import pyotp

    secret = secrets.new_totp_secret()
    assert secrets.verify_totp(secret, pyotp.TOTP(secret).now())
    assert not secrets.verify_totp(secret, "000000") or pyotp.TOTP(secret).now() == "000000"


def test_allowlist_matching():
    networks = identity.parse_allowlist(["10.0.0.0/8", " 192.168.1.7 ", ""])
    assert networks == ["10.0.0.0/8", "192.168.1.7/32"]
    assert identity.source_allowed(networks, "10.2.3.4")
    assert not identity.source_allowed(networks, "11.2.3.4")
    assert not identity.source_allowed(networks, None)
    assert identity.source_allowed([], "11.2.3.4")


def test_totp_step_names_the_matching_step():
    import pyotp

    secret = secrets.new_totp_secret()
    totp = pyotp.TOTP(secret)
    at = 1_700_000_015
    step = totp.timecode(at)
    assert secrets.totp_step(secret, totp.at(at), at=at) == step
    assert secrets.totp_step(secret, totp.at(at - 30), at=at) == step - 1
    assert secrets.totp_step(secret, totp.at(at + 30), at=at) == step + 1
    assert secrets.totp_step(secret, totp.at(at - 60), at=at) in (None, step - 1, step, step + 1)
    assert secrets.totp_step(secret, "", at=at) is None and secrets.totp_step(None, "123456", at=at) is None

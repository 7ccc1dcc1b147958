"""Deployed stages read their secrets from SSM Parameter Store at first use."""
from __future__ import annotations

import pytest

from chalicelib.services.identity import links
from chalicelib.adapters import parameters
from chalicelib.store.clients import client


@pytest.fixture()
def deployed(aws, monkeypatch):
    monkeypatch.setenv("DIALTONE_STAGE", "dev")
    monkeypatch.delenv("LINK_SIGNING_SECRET", raising=False)
    monkeypatch.delenv("RECAPTCHA_SECRET", raising=False)
    # A deployed stage seals TOTP secrets with its key (the tenant fixture makes a user).
    monkeypatch.setenv("TOTP_SEALING_KEY", "test-only-sealing-key")
    parameters.forget()
    yield monkeypatch
    parameters.forget()


def test_link_secret_comes_from_the_parameter(deployed, tenant):
    name = f"/dialtone/dev/link-signing-secret-{tenant['tenant']['id']}"
    client("ssm").put_parameter(Name=name, Value="from-ssm", Type="SecureString", Overwrite=True)
    deployed.setenv("LINK_SIGNING_SECRET_PARAMETER", name)
    assert parameters.secret("LINK_SIGNING_SECRET") == "from-ssm"
    t = tenant["tenant"]["id"]
    token = links.issue(purpose=links.LOGIN, tenant=t, customer_id=1, user_id=1)
    assert links.consume(token=token, purpose=links.LOGIN)["tenantId"] == t
    # Cached per process: a changed value is read after CACHE_SECONDS or forget().
    client("ssm").put_parameter(Name=name, Value="rotated", Type="SecureString", Overwrite=True)
    assert parameters.secret("LINK_SIGNING_SECRET") == "from-ssm"
    parameters.forget()
    assert parameters.secret("LINK_SIGNING_SECRET") == "rotated"


def test_a_deployed_stage_without_a_secret_refuses_to_sign(deployed):
    deployed.delenv("LINK_SIGNING_SECRET_PARAMETER", raising=False)
    with pytest.raises(RuntimeError):
        links.issue(purpose=links.LOGIN, tenant="t1", customer_id=1, user_id=1)


def test_recaptcha_secret_from_the_parameter(deployed):
    from chalicelib.adapters import captcha

    client("ssm").put_parameter(Name="/dialtone/dev/recaptcha-secret", Value="rc", Type="SecureString",
                                Overwrite=True)
    deployed.setenv("RECAPTCHA_SECRET_PARAMETER", "/dialtone/dev/recaptcha-secret")
    verifier = captcha.verifier()
    assert isinstance(verifier, captcha.RecaptchaVerifier) and verifier.secret == "rc"

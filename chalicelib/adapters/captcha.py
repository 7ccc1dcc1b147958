"""reCAPTCHA verification for the partner API's POST methods.

Two verifiers behind one call, chosen per stage by ``CAPTCHA_VERIFIER``:
- ``recaptcha``: Google's siteverify call with the stage's secret
  (``RECAPTCHA_SECRET``; ``RECAPTCHA_VERIFY_URL`` only to point tests at a stub);
- ``local``: accepts exactly the token ``test-pass``, so a missing or wrong
  captcha can be tried on the local runtime without Google.
"""
from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from typing import Protocol

from chalicelib.domain.errors import CaptchaFailedError

LOCAL_PASS = "test-pass"
GOOGLE_VERIFY_URL = "https://www.google.com/recaptcha/api/siteverify"


class CaptchaVerifier(Protocol):
    def verify(self, token: str, remote_ip: str | None) -> bool: ...


class LocalVerifier:
    def verify(self, token: str, remote_ip: str | None) -> bool:
        return token == LOCAL_PASS


class RecaptchaVerifier:
    def __init__(self, secret: str, url: str = GOOGLE_VERIFY_URL, timeout: float = 5.0) -> None:
        self.secret, self.url, self.timeout = secret, url, timeout

    def verify(self, token: str, remote_ip: str | None) -> bool:
        form = {"secret": self.secret, "response": token}
        if remote_ip:
            form["remoteip"] = remote_ip
        request = urllib.request.Request(self.url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                body = json.loads(answer.read().decode("utf-8"))
        except (OSError, ValueError):
            # Google unreachable or garbled: refuse (fail closed), the client may retry.
            return False
        return body.get("success") is True


def verifier() -> CaptchaVerifier:
    # Deployed stages default to the real verifier: "local" would accept test-pass.
    default = "local" if os.environ.get("DIALTONE_STAGE", "local") in ("local", "test") else "recaptcha"
    kind = os.environ.get("CAPTCHA_VERIFIER", default)
    if kind == "local":
        return LocalVerifier()
    if kind == "recaptcha":
        from chalicelib.adapters import parameters

        secret = parameters.secret("RECAPTCHA_SECRET")
        if not secret:
            raise RuntimeError("CAPTCHA_VERIFIER=recaptcha needs RECAPTCHA_SECRET (or RECAPTCHA_SECRET_PARAMETER)")
        return RecaptchaVerifier(secret, os.environ.get("RECAPTCHA_VERIFY_URL") or GOOGLE_VERIFY_URL)
    raise RuntimeError(f"unknown CAPTCHA_VERIFIER '{kind}'")


def require_captcha(token: str | None, remote_ip: str | None) -> None:
    if not token:
        raise CaptchaFailedError("google_captcha is required", field="google_captcha")
    if not verifier().verify(token, remote_ip):
        raise CaptchaFailedError("google_captcha was not accepted", field="google_captcha")

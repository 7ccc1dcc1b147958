"""The real reCAPTCHA verifier against a local HTTP stub of Google's siteverify."""
from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from chalicelib.adapters import captcha
from chalicelib.domain.errors import CaptchaFailedError


class Stub(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        Stub.seen.append({k: v[0] for k, v in form.items()})
        ok = form.get("secret") == ["s3cr3t"] and form.get("response") == ["good-token"]
        body = json.dumps({"success": ok} if ok else {"success": False, "error-codes": ["invalid-input-response"]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture()
def stub(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("CAPTCHA_VERIFIER", "recaptcha")
    monkeypatch.setenv("RECAPTCHA_SECRET", "s3cr3t")
    monkeypatch.setenv("RECAPTCHA_VERIFY_URL", f"http://127.0.0.1:{server.server_port}/recaptcha/api/siteverify")
    Stub.seen.clear()
    yield server
    server.shutdown()


def test_recaptcha_accepts_what_google_accepts(stub):
    captcha.require_captcha("good-token", "203.0.113.5")
    assert Stub.seen == [{"secret": "s3cr3t", "response": "good-token", "remoteip": "203.0.113.5"}]


@pytest.mark.parametrize("token", [None, "", "bad-token", "test-pass"])
def test_recaptcha_refuses_the_rest(stub, token):
    with pytest.raises(CaptchaFailedError):
        captcha.require_captcha(token, None)


def test_unreachable_google_fails_closed(monkeypatch):
    monkeypatch.setenv("CAPTCHA_VERIFIER", "recaptcha")
    monkeypatch.setenv("RECAPTCHA_SECRET", "x")
    monkeypatch.setenv("RECAPTCHA_VERIFY_URL", "http://127.0.0.1:9/")
    with pytest.raises(CaptchaFailedError):
        captcha.require_captcha("anything", None)


def test_local_verifier_accepts_only_test_pass(monkeypatch):
    monkeypatch.setenv("CAPTCHA_VERIFIER", "local")
    captcha.require_captcha("test-pass", None)
    with pytest.raises(CaptchaFailedError):
        captcha.require_captcha("test-pass ", None)

"""The portal as a browser without JavaScript sees it, over the in-process
Chalice client: a cookie jar, form posts carrying the page's CSRF token, and
TOTP codes computed from the user's secret (never the same step twice)."""
from __future__ import annotations

import re
import time
import urllib.parse
from typing import Any

import pyotp

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Codes:
    """TOTP codes of one secret, each of a later time-step than the last one
    handed out (the portal, like the API, accepts a step once, and one step
    either side of now for clock drift)."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last = -10**9

    def next(self) -> str:
        now = time.time()
        current = self.totp.timecode(now)
        # The current step, not the one before: a code about to expire could
        # be refused after the time it takes a browser to submit it.
        step = max(self.last + 1, current)
        if step > current + 1:  # all three usable steps spent: wait for the clock
            time.sleep(self.totp.interval * (step - 1) - now + 0.5)
        self.last = step
        return self.totp.generate_otp(step)


class Portal:
    def __init__(self, client: Any, *, prefix: str = "/portal") -> None:
        self.client = client
        self.prefix = prefix
        self.jar: dict[str, str] = {}
        self.last: Any = None

    @property
    def cookie(self) -> str | None:
        """The Cookie header the browser sends (the session's and the login form's)."""
        return "; ".join(f"{name}={value}" for name, value in self.jar.items()) or None

    @cookie.setter
    def cookie(self, header: str | None) -> None:
        self.jar = dict(pair.split("=", 1) for pair in (header or "").split("; ") if "=" in pair)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        return headers

    def _keep_cookie(self, response: Any) -> None:
        value = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
        if value:
            name, _, kept = value.split(";")[0].partition("=")
            if kept and "Max-Age=0" not in value:
                self.jar[name] = kept
            else:
                self.jar.pop(name, None)

    def get(self, path: str) -> Any:
        response = self.client.get(self.prefix + path, headers=self._headers())
        self._keep_cookie(response)
        self.last = response
        return response

    def csrf(self, html: str | None = None) -> str:
        found = CSRF.search(html if html is not None else self.last.body.decode())
        assert found, "no CSRF token on the page"
        return found.group(1)

    def post(self, path: str, fields: dict[str, str], *, csrf: str | bool = True) -> Any:
        body = dict(fields)
        if csrf is True:
            body["csrf"] = self.csrf()
        elif isinstance(csrf, str):
            body["csrf"] = csrf
        response = self.client.post(self.prefix + path, body=urllib.parse.urlencode(body).encode(),
                                    headers=self._headers({"Content-Type": "application/x-www-form-urlencoded"}))
        self._keep_cookie(response)
        self.last = response
        return response

    def login(self, username: str, password: str, code: str) -> Any:
        self.get("/login")
        return self.post("/login", {"username": username, "password": password, "code": code})


def text(response: Any) -> str:
    return response.body.decode()

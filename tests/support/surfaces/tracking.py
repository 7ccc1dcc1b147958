"""The call-tracking API through the Chalice test client, as a Digest client
would use it: the first request is answered with a challenge, the client
answers it (SHA-256 or MD5) and counts its nonce uses, as RFC 7616 says."""
from __future__ import annotations

import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any

from chalicelib.auth import digest
from tests.support.checks.tracking_openapi import check_request, check_response

BASE = "/tracking/v1"


def challenges(response: Any) -> list[dict[str, str]]:
    values = response.headers.get("WWW-Authenticate") or response.headers.get("www-authenticate")
    if isinstance(values, str):
        values = re.split(r",\s*(?=Digest )", values)
    found = []
    for value in values or []:
        params = digest.parse_authorization(value)
        assert params is not None, value
        found.append(params)
    return found


class Tracking:
    described = True  # check requests and answers against the OpenAPI description (described.py)

    def __init__(self, client: Any, username: str, password: str, *, algorithm: str = "SHA-256") -> None:
        self.client, self.username, self.password, self.algorithm = client, username, password, algorithm
        self.challenge: dict[str, str] | None = None
        self.nc = 0
        self.last_authorization: str | None = None

    def _authorization(self, method: str, uri: str) -> str | None:
        if self.challenge is None:
            return None
        self.nc += 1
        return digest.answer(self.challenge, username=self.username, password=self.password, method=method,
                             uri=uri, nc=self.nc)

    def call(self, method: str, path: str, *, data: dict | None = None, json_body: Any = None, raw: bytes | str | None = None,
             headers: dict | None = None, base: str = BASE) -> Any:
        uri = base + path
        all_headers = {"Host": "tracking.test", **(headers or {})}
        body: Any = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif json_body is not None:
            body = json.dumps(json_body)
            all_headers.setdefault("Content-Type", "application/json")
        elif raw is not None:
            body = raw
        for _ in range(3):
            authorization = self._authorization(method, uri)
            if authorization:
                all_headers["Authorization"] = authorization
                self.last_authorization = authorization
            response = self.client.request(method, uri, headers=all_headers, body=body)
            if response.status_code != 401:
                break
            offered = {c["algorithm"]: c for c in challenges(response)}
            stale = any(c.get("stale") == "true" for c in offered.values())
            if authorization and not stale:
                break
            self.challenge, self.nc = offered[self.algorithm], 0
        response.json = None
        response.xml = None
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        ctype = response.headers.get("Content-Type") or response.headers.get("content-type") or ""
        if text and "json" in ctype:
            response.json = json.loads(text)
        elif text and "xml" in ctype:
            response.xml = ET.fromstring(text.encode())
        response.text = text
        if self.described:
            # Every answer is described; a request that succeeded was valid by the description.
            check_response(method, uri, response)
            if 200 <= response.status_code < 300:
                check_request(method, uri, all_headers, body)
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.call("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.call("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)

from __future__ import annotations

import json
from typing import Any


class Api:
    """The billing platform API through the Chalice test client, as one user."""

    base = "/backend/api/v1"

    def __init__(self, client: Any, key: str) -> None:
        self.client, self.key = client, key

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json",
                "Accept": "application/json", **(extra or {})}

    def call(self, method: str, path: str, body: Any = None, raw: str | None = None, headers: dict | None = None):
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client, method.lower())(self.base + path, headers=self.headers(headers), body=payload)
        is_json = response.headers.get("Content-Type", "application/json").startswith("application/json")
        response.json = json.loads(response.body) if response.body and is_json else None
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

"""Issue 16's figures for the portal.

- The main menu (GET /portal/dashboard of a logged-in staff user: session,
  user, wallet balance and the last 30 days of movements) as a ratio of its
  time to the billing API's Bearer GET /customers/{id}, both over kept-alive
  HTTP against the same runtime in the same run. Target <= 3.
- The AWS requests the dashboard makes in a warm process (in-process app,
  deployed stage settings, AUDIT_SINK=log): the session, the wallet state
  and one Query of its movements (the user is cached like a resolved API
  key). Target <= 3.
"""
from __future__ import annotations

import os
import re
import statistics
from contextlib import redirect_stdout
from typing import Any

from bench import cost
from bench.events import LambdaContext, api_event
from bench.platform import production_like, rate

ROUNDS = 3
REQUEST_TARGET = 3
SMOKE = {"ROUNDS": 1}


def _seed(env: dict[str, str]) -> dict[str, Any]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from chalicelib.auth import api_key
        from chalicelib.services.customers import accounts
        from chalicelib.services.identity import users

        made = users.create_tenant(name="Portal bench")
        principal = api_key.authenticate(made["user"]["api_key"], None)
        customer = accounts.create_customer(principal=principal, fields={"name": "Bench customer"})
        return {**made["user"], "customer_id": customer["id"]}
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _login(runtime: Any, user: dict[str, Any]) -> Any:
    import pyotp
    import requests

    session = requests.Session()
    page = session.get(f"{runtime.base_url}/portal/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    answer = session.post(f"{runtime.base_url}/portal/login", allow_redirects=False, data={
        "csrf": csrf.group(1), "username": user["username"], "password": user["password"],
        "code": pyotp.TOTP(user["totp_secret"]).now()})
    assert answer.status_code == 303, answer.text
    return session


def _count_requests(env: dict[str, str], event: dict[str, Any],
                    times: int = 3) -> tuple[int, list[str], dict[str, Any]]:
    """AWS requests made while answering the last of ``times`` identical events,
    and the event's AWS cost per million (bench/cost.py)."""
    import app as dialtone
    from chalicelib.store.clients import client

    seen: list[str] = []

    def count(model: Any = None, **_: Any) -> None:
        seen.append(model.name if model is not None else "?")

    saved = dict(os.environ)
    os.environ.update(env)
    from chalicelib.store import clients

    clients.reset()
    for name in ("dynamodb", "s3", "sqs"):
        client(name).meta.events.register("before-call", count)
    try:
        with open(os.devnull, "w") as sink:
            for _ in range(times):
                seen.clear()
                with redirect_stdout(sink):
                    answer = dialtone.app(event, LambdaContext())
                assert answer["statusCode"] == 200, answer
            made = len(seen), list(seen)

            def call() -> None:
                with redirect_stdout(sink):
                    assert dialtone.app(event, LambdaContext())["statusCode"] == 200

            usage, ms = cost.measure_call(call)
        return (*made, cost.api_call_figure("portal", "GET /portal/dashboard (staff, logged in)", usage=usage, ms=ms,
                                            memory_mb=cost.lambda_memory()))
    finally:
        for name in ("dynamodb", "s3", "sqs"):
            client(name).meta.events.unregister("before-call", count)
        clients.reset()
        os.environ.clear()
        os.environ.update(saved)


def run(runtime: Any) -> list[dict[str, Any]]:
    import requests

    env = production_like(runtime.env)
    # Seeded with the runtime's own settings: the user's TOTP secret is sealed with the key its API
    # server opens it with (production_like adds a bench stage key of its own).
    user = _seed(runtime.env)
    portal = _login(runtime, user)
    billing = requests.Session()
    billing.headers["Authorization"] = f"Bearer {user['api_key']}"
    dashboard_url = f"{runtime.base_url}/portal/dashboard"
    customer_url = f"{runtime.base_url}/backend/api/v1/customers/{user['customer_id']}"

    def dashboard() -> None:
        answer = portal.get(dashboard_url, allow_redirects=False)
        assert answer.status_code == 200 and 'id="balance"' in answer.text, answer.text[:500]

    def customer() -> None:
        assert billing.get(customer_url).status_code == 200

    dashboard_rates, customer_rates = [], []
    for _ in range(ROUNDS):  # interleaved: load from anything else hits both alike
        dashboard_rates.append(rate(dashboard))
        customer_rates.append(rate(customer))
    dashboard_ms = 1000 / statistics.median(dashboard_rates)
    customer_ms = 1000 / statistics.median(customer_rates)
    ratio = dashboard_ms / customer_ms

    cookie = "; ".join(f"{k}={v}" for k, v in portal.cookies.items())
    event = api_event("GET", "/portal/dashboard", "/portal/dashboard", {}, {"cookie": cookie, "host": "bench"})
    requests_made, names, cost_figure = _count_requests(env, event)
    return [
        {"name": "Portal GET /dashboard time / billing API GET /customers/{id}, kept-alive HTTP",
         "value": round(ratio, 2), "target": "<= 3", "ok": ratio <= 3,
         "detail": {"dashboard_ms": round(dashboard_ms, 2), "customer_ms": round(customer_ms, 2)}},
        {"name": "AWS requests per page: portal GET /dashboard (warm)", "value": requests_made,
         "target": f"<= {REQUEST_TARGET}", "ok": requests_made <= REQUEST_TARGET, "detail": {"requests": names}},
        cost_figure,
    ]


def main() -> int:
    from bench.run import main as run_main

    return run_main(["bench.bench_portal"])


if __name__ == "__main__":
    raise SystemExit(main())

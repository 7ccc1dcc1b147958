"""Issue 13's figures, each a ratio against a baseline measured in the same run:
- access tokens issued per second vs PyJWT signing the same claims with the same key (target >= 0.8);
- access tokens verified per second (every check but the user read) vs PyJWT decoding them (>= 0.8);
- JWT-authenticated GET /api/v1/account/{id} over one kept-alive connection vs the billing
  API's Bearer GET /backend/api/v1/customers/{id} (>= 0.8);
- calls from POST to the ``call.completed`` event delivered, per second, and the time from
  POST to the first event (reported, no target).
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

SECONDS = 2.0
CALLS = 10  # calls placed for the POST -> call.completed figure
SMOKE = {"SECONDS": 0.1, "CALLS": 2}


def _rate(action: Callable[[], Any], seconds: float | None = None) -> float:
    seconds = SECONDS if seconds is None else seconds
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        action()
        done += 1
    return done / (time.perf_counter() - began)


def _cost_of_account_get(runtime: Any, account: str, token: str) -> dict[str, Any]:
    """The AWS cost per million of a JWT-authenticated GET /api/v1/account/{id}, in-process (bench/cost.py)."""
    import os
    from contextlib import redirect_stdout

    from bench import cost
    from bench.events import LambdaContext, api_event
    from bench.platform import production_like
    from infra.local.environment import applied

    event = api_event("GET", "/api/v1/account/{account}", f"/api/v1/account/{account}", {"account": account},
                      {"authorization": f"Bearer {token}", "accept": "application/json", "host": "bench"})
    with applied(production_like(runtime.env)), open(os.devnull, "w") as sink:
        import app as dialtone

        def call() -> None:
            with redirect_stdout(sink):
                answer = dialtone.app(event, LambdaContext())
            assert answer["statusCode"] == 200, answer

        usage, ms = cost.measure_call(call)
    return cost.api_call_figure("voice API", "JWT GET /api/v1/account/{id}", usage=usage, ms=ms,
                                memory_mb=cost.lambda_memory())


def run(runtime: Any) -> list[dict[str, Any]]:
    import jwt
    import requests

    from chalicelib.auth import access_tokens, api_key
    from chalicelib.services.identity import users
    from tests.support.voice import EVENT_HOOK, account_ref, make_account

    results = []
    with runtime.environment():
        created = users.create_tenant(name="Bench Voice")
        principal = api_key.authenticate(created["user"]["api_key"], None)
        customer = make_account(principal, name="Bench Pizzas", numbers=("2065559100",))
        user = users.find_user(tenant=principal.tenant_id, user=created["user"]["username"])
        keys = access_tokens._key_set()
        private, public = keys["private"][keys["active"]], keys["public"][keys["active"]]
        token = access_tokens.issue(tenant=principal.tenant_id, user=user)
        claims = jwt.decode(token, options={"verify_signature": False})
        header = {"kid": keys["active"], "typ": "JWT"}
        ours_issue = _rate(lambda: access_tokens.issue(tenant=principal.tenant_id, user=user))
        theirs_issue = _rate(lambda: jwt.encode(claims, private, algorithm="RS256", headers=header))
        ours_verify = _rate(lambda: access_tokens.verify(token))
        theirs_verify = _rate(lambda: jwt.decode(token, public, algorithms=["RS256"], audience="dialtone-voice"))
    results.append({"name": "voice token issue / PyJWT encode", "value": round(ours_issue / theirs_issue, 2),
                    "target": ">= 0.8", "ok": ours_issue / theirs_issue >= 0.8,
                    "detail": {"ours_per_s": round(ours_issue), "pyjwt_per_s": round(theirs_issue)}})
    results.append({"name": "voice token verify / PyJWT decode", "value": round(ours_verify / theirs_verify, 2),
                    "target": ">= 0.8", "ok": ours_verify / theirs_verify >= 0.8,
                    "detail": {"ours_per_s": round(ours_verify), "pyjwt_per_s": round(theirs_verify)}})

    base = runtime.base_url
    session = requests.Session()
    tokens = session.post(base + "/api/v1/oauth/authorize", data={"username": created["user"]["username"],
                                                                 "password": created["user"]["password"]}).json()
    account = account_ref(principal, customer)
    voice_headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
    bearer_headers = {"Authorization": f"Bearer {created['user']['api_key']}", "Accept": "application/json"}
    assert session.get(f"{base}/api/v1/account/{account}", headers=voice_headers).status_code == 200
    assert session.get(f"{base}/backend/api/v1/customers/{customer['id']}", headers=bearer_headers).status_code == 200
    jwt_rate = _rate(lambda: session.get(f"{base}/api/v1/account/{account}", headers=voice_headers))
    bearer_rate = _rate(lambda: session.get(f"{base}/backend/api/v1/customers/{customer['id']}",
                                            headers=bearer_headers))
    results.append({"name": "voice JWT GET /account/{id} / Bearer GET /customers/{id}",
                    "value": round(jwt_rate / bearer_rate, 2), "target": ">= 0.8", "ok": jwt_rate / bearer_rate >= 0.8,
                    "detail": {"jwt_per_s": round(jwt_rate), "bearer_per_s": round(bearer_rate)}})
    results.append(_cost_of_account_get(runtime, account, tokens["access_token"]))

    first_event: dict[str, float] = {}
    completed: dict[str, float] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            with lock:
                first_event.setdefault(body["call"]["id"], time.perf_counter())
                if body["event"] == "call.completed":
                    completed[body["call"]["id"]] = time.perf_counter()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session.post(f"{base}/api/v1/account/{account}/hook", headers=voice_headers,
                     json={**EVENT_HOOK, "url": f"http://127.0.0.1:{server.server_address[1]}/e"})
        posted: dict[str, float] = {}
        count = CALLS
        began = time.perf_counter()
        for _ in range(count):
            at = time.perf_counter()
            reply = session.post(f"{base}/api/v1/account/{account}/channels/voice", headers=voice_headers, json={
                "callerId": "+441234567890", "target": {"phoneNumber": {"number": "+441234567893"}},
                "verbs": [{"say": {"text": ["Your pizza is outside!"]}}, {"hangup": {}}]})
            posted[reply.json()["id"]] = at
        deadline = time.monotonic() + 120
        while len(completed) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = max(completed.values(), default=time.perf_counter()) - began
        latency = statistics.median(first_event[c] - posted[c] for c in posted if c in first_event) \
            if first_event else None
    finally:
        server.shutdown()
    results.append({"name": "voice calls POST -> call.completed delivered, per second",
                    "value": round(len(completed) / elapsed, 2) if elapsed else 0, "target": "reported",
                    "ok": len(completed) == count,
                    "detail": {"calls": count, "completed": len(completed),
                               "median_post_to_first_event_ms": round(latency * 1000) if latency else None}})
    return results

"""Issue 13's figures, each a ratio against a baseline measured in the same run:
- access tokens issued per second vs PyJWT signing the same claims with the same key (target >= 0.8);
- access tokens verified per second (every check but the user read) vs PyJWT decoding them (>= 0.8);
- JWT-authenticated GET /api/v1/account/{id} over one kept-alive connection vs the billing
  API's Bearer GET /backend/api/v1/customers/{id} over another, in alternating rounds (>= 0.8),
  and the AWS requests each makes in a warm process (the JWT path's must not exceed the Bearer's);
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
ROUNDS = 5  # JWT and Bearer alternate, so load from anything else on the machine hits both alike
CALLS = 10  # calls placed for the POST -> call.completed figure
SMOKE = {"SECONDS": 0.1, "CALLS": 2, "ROUNDS": 1}


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


def _alternating(ours: Callable[[], Any], theirs: Callable[[], Any]) -> tuple[float, float]:
    """Per-second rates of both, measured in alternating rounds (median round of each)."""
    rates: tuple[list[float], list[float]] = ([], [])
    for round_ in range(ROUNDS):
        for index in ((0, 1) if round_ % 2 == 0 else (1, 0)):
            rates[index].append(_rate((ours, theirs)[index], SECONDS / 2))
    return statistics.median(rates[0]), statistics.median(rates[1])


def run(runtime: Any) -> list[dict[str, Any]]:
    import jwt
    import requests

    from chalicelib.auth import access_tokens, api_key
    from chalicelib.services.identity import users
    from tests.support.surfaces.voice import DOCUMENT_NUMBER, EVENT_HOOK, account_ref, make_account

    results = []
    with runtime.environment():
        created = users.create_tenant(name="Bench Voice")
        principal = api_key.authenticate(created["user"]["api_key"], None)
        customer = make_account(principal, name="Bench Pizzas", numbers=("2065559100",),
                                own_numbers=(DOCUMENT_NUMBER,))  # the number its calls present
        user = users.find_user(tenant=principal.tenant_id, user=created["user"]["username"])
        keys = access_tokens._key_set()
        private, public = keys["private"][keys["active"]], keys["public"][keys["active"]]
        token = access_tokens.issue(tenant=principal.tenant_id, user=user)
        claims = jwt.decode(token, options={"verify_signature": False})
        header = {"kid": keys["active"], "typ": "JWT"}
        ours_issue, theirs_issue = _alternating(
            lambda: access_tokens.issue(tenant=principal.tenant_id, user=user),
            lambda: jwt.encode(claims, private, algorithm="RS256", headers=header))
        # verify, not authenticate: every signature and claim check, on every call (no remembered tokens).
        ours_verify, theirs_verify = _alternating(
            lambda: access_tokens.verify(token),
            lambda: jwt.decode(token, public, algorithms=["RS256"], audience="dialtone-voice"))
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
    results.append(_jwt_against_bearer(runtime, account, customer["id"], voice_headers, bearer_headers))
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


def _jwt_against_bearer(runtime: Any, account: str, customer_id: int, voice_headers: dict[str, str],
                        bearer_headers: dict[str, str]) -> dict[str, Any]:
    """Each path over its own kept-alive connection, in alternating rounds (the
    median round of each); and the AWS requests each makes in a warm process."""
    import requests

    base = runtime.base_url
    paths = {"jwt": (f"{base}/api/v1/account/{account}", voice_headers),
             "bearer": (f"{base}/backend/api/v1/customers/{customer_id}", bearer_headers)}
    sessions = {name: requests.Session() for name in paths}

    def get(name: str) -> None:
        url, headers = paths[name]
        assert sessions[name].get(url, headers=headers).status_code == 200

    for name in paths:  # warm: the user (or key) resolved and cached, the connection open
        for _ in range(20):
            get(name)
    rates: dict[str, list[float]] = {name: [] for name in paths}
    for round_ in range(ROUNDS):
        for name in (("jwt", "bearer") if round_ % 2 == 0 else ("bearer", "jwt")):
            rates[name].append(_rate(lambda: get(name), SECONDS / 2))  # noqa: B023 (called at once)
    opened = {name: sum(pool.num_connections for pool in s.get_adapter(base).poolmanager.pools._container.values())
              for name, s in sessions.items()}
    for s in sessions.values():
        s.close()
    jwt_rate, bearer_rate = statistics.median(rates["jwt"]), statistics.median(rates["bearer"])
    aws = {"jwt": _aws_requests(runtime, "/api/v1/account/{account}", f"/api/v1/account/{account}",
                                {"account": account}, voice_headers),
           "bearer": _aws_requests(runtime, "/backend/api/v1/customers/{customer_id}",
                                   f"/backend/api/v1/customers/{customer_id}", {"customer_id": str(customer_id)},
                                   bearer_headers)}
    ratio = jwt_rate / bearer_rate
    return {"name": "voice JWT GET /account/{id} / Bearer GET /customers/{id}", "value": round(ratio, 2),
            "target": ">= 0.8, AWS requests <= Bearer's",
            "ok": ratio >= 0.8 and len(aws["jwt"]) <= len(aws["bearer"]) and set(opened.values()) == {1},
            "detail": {"jwt_per_s": round(jwt_rate), "bearer_per_s": round(bearer_rate),
                       "rounds": {k: [round(r) for r in v] for k, v in rates.items()},
                       "connections": opened, "aws_requests": aws}}


def _aws_requests(runtime: Any, resource: str, path: str, params: dict[str, str],
                  headers: dict[str, str]) -> list[str]:
    """The AWS requests the app makes for the third of three identical requests in
    this process (caches warm, as in a warm Lambda; audit records to the log)."""
    import os
    from contextlib import redirect_stdout

    from bench.events import LambdaContext, api_event

    saved = dict(os.environ)
    os.environ.update({**runtime.env, "AUDIT_SINK": "log", "AUTH_CACHE_SECONDS": "5"})
    import app as dialtone
    from chalicelib.store import clients

    seen: list[str] = []

    def count(model: Any = None, **_: Any) -> None:
        seen.append(model.name if model is not None else "?")

    clients.reset()
    for service in ("dynamodb", "s3", "sqs"):
        clients.client(service).meta.events.register("before-call", count)
    try:
        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            for _ in range(3):
                seen.clear()
                answer = dialtone.app(api_event("GET", resource, path, params, dict(headers)), LambdaContext())
                assert answer["statusCode"] == 200, answer
        return list(seen)
    finally:
        for service in ("dynamodb", "s3", "sqs"):
            clients.client(service).meta.events.unregister("before-call", count)
        clients.reset()
        os.environ.clear()
        os.environ.update(saved)

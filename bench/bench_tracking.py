"""Issue 12's figures for the call-tracking API.

- A Digest-authenticated GET /tracking/v1/customers/1 over one kept-alive
  connection (requests' HTTPDigestAuth: one challenge, then the nonce reused
  with nc counting up) as a ratio to the billing API's Bearer
  GET /customers/{id} of the same customer in the same run. Target >= 0.7.
- The AWS requests each makes in a warm process (in-process app, deployed
  stage settings: credentials cached AUTH_CACHE_SECONDS, AUDIT_SINK=log).
  Target: Digest at most one more than Bearer (the (nonce, nc) claim).
"""
from __future__ import annotations

import os
import statistics
from contextlib import redirect_stdout
from typing import Any

from bench.events import LambdaContext, api_event
from bench import cost, platform
from bench.platform import production_like, rate, seed_customer

SECRET = {"DIGEST_NONCE_SECRET": "bench-digest-secret"}


def _count_requests(env: dict[str, str], events: list[dict[str, Any]]) -> int:
    """AWS requests made while answering the last of ``events`` (the others warm up)."""
    import app as dialtone
    from chalicelib.store.clients import client

    seen = {"n": 0}

    def count(**_: Any) -> None:
        seen["n"] += 1

    sink = open(os.devnull, "w")
    for name in ("dynamodb", "s3", "sqs"):
        client(name).meta.events.register("before-send.*.*", count)
    try:
        for n, event in enumerate(events):
            if n == len(events) - 1:
                seen["n"] = 0
            with redirect_stdout(sink):
                answer = dialtone.app(event, LambdaContext())
            assert answer["statusCode"] == 200, answer
        return seen["n"]
    finally:
        for name in ("dynamodb", "s3", "sqs"):
            client(name).meta.events.unregister("before-send.*.*", count)


def run(runtime: Any) -> list[dict[str, Any]]:
    import requests
    from requests.auth import HTTPDigestAuth

    env = {**production_like(runtime.env), **SECRET}
    tenant, key, customer_id = seed_customer(env)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from chalicelib.auth import digest
        from chalicelib.services.tracking import fields

        issued = fields.issue_digest_password(tenant=tenant, user=f"admin-{tenant}")
        username, password = issued["user"], issued["password"]
        bearer_event = api_event("GET", "/backend/api/v1/customers/{customer_id}",
                                 f"/backend/api/v1/customers/{customer_id}", {"customer_id": str(customer_id)},
                                 {"authorization": f"Bearer {key}", "host": "bench"})
        path = f"/tracking/v1/customers/{customer_id}"
        challenge = {"realm": digest.REALM, "nonce": digest.new_nonce(), "opaque": digest.opaque(),
                     "algorithm": "SHA-256"}

        def digest_event(nc: int) -> dict[str, Any]:
            header = digest.answer(challenge, username=username, password=password, method="GET", uri=path, nc=nc)
            return api_event("GET", "/tracking/{version}/{p1}/{p2}", path,
                             {"version": "v1", "p1": "customers", "p2": str(customer_id)},
                             {"authorization": header, "host": "bench"})

        bearer_requests = _count_requests(env, [bearer_event] * 3)
        digest_requests = _count_requests(env, [digest_event(n) for n in range(1, 4)])
        import app as dialtone

        counts = iter(range(4, 10**6))
        sink = open(os.devnull, "w")

        def digest_call() -> None:
            with redirect_stdout(sink):
                answer = dialtone.app(digest_event(next(counts)), LambdaContext())
            assert answer["statusCode"] == 200, answer

        usage, ms = cost.measure_call(digest_call)
        cost_figure = cost.api_call_figure("call-tracking API", "Digest GET /tracking/v1/customers/{id}", usage=usage,
                                           ms=ms, memory_mb=cost.lambda_memory())
    finally:
        os.environ.clear()
        os.environ.update(saved)

    # Over HTTP the runtime's own settings and secret apply; the same user and customer.
    bearer_session, digest_session = requests.Session(), requests.Session()
    digest_session.auth = HTTPDigestAuth(username, password)
    bearer_url = f"{runtime.base_url}/backend/api/v1/customers/{customer_id}"
    digest_url = f"{runtime.base_url}/tracking/v1/customers/{customer_id}"
    bearer_headers = {"Authorization": f"Bearer {key}"}

    def bearer_call() -> None:
        answer = bearer_session.get(bearer_url, headers=bearer_headers)
        assert answer.status_code == 200, answer.text

    def digest_call() -> None:
        answer = digest_session.get(digest_url)
        assert answer.status_code == 200 and not answer.history, answer.text

    digest_session.get(digest_url)  # the one challenge round trip
    bearer_rates, digest_rates = [], []
    for _ in range(platform.ROUNDS):  # interleaved: load from anything else hits both alike
        bearer_rates.append(rate(bearer_call))
        digest_rates.append(rate(digest_call))
    bearer_rate, digest_rate = statistics.median(bearer_rates), statistics.median(digest_rates)
    ratio = digest_rate / bearer_rate
    return [
        {"name": "Digest GET /tracking/v1/customers/1 / Bearer GET /customers/{id}, kept-alive HTTP",
         "value": round(ratio, 3), "target": ">= 0.7", "ok": ratio >= 0.7,
         "detail": {"digest_per_s": round(digest_rate), "bearer_per_s": round(bearer_rate)}},
        {"name": "AWS requests, Digest GET one customer (warm) vs Bearer", "value": digest_requests,
         "target": f"<= {bearer_requests + 1}", "ok": digest_requests <= bearer_requests + 1,
         "detail": {"digest": digest_requests, "bearer": bearer_requests}},
        cost_figure,
    ]


def main() -> int:
    from bench.run import main as run_main

    return run_main(["bench.bench_tracking"])


if __name__ == "__main__":
    raise SystemExit(main())

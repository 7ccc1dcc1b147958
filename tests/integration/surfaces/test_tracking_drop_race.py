"""DELETE /customers/{id} (the drop) racing POST /customers/{id}/sources over
real HTTP against DynamoDB Local (moto does not serialise concurrent
transactions): whichever wins, no Ex-Customer keeps a live source. The
deterministic interleavings are tests/surface/tracking/test_tracking_source_races.py."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests
from requests.auth import HTTPDigestAuth

ROUNDS = 10


def _seed(runtime):
    from chalicelib.auth import api_key
    from chalicelib.services.customers import accounts
    from chalicelib.services.identity import users
    from tests.support.worlds.numbers import import_landlines

    with runtime.environment():
        tenant = users.create_tenant(name="Drop race")
        principal = api_key.authenticate(tenant["user"]["api_key"], None)
        ids = [accounts.create_customer(principal=principal, fields={"name": f"Racer {n}", "creditLimit": Decimal("-100")})["id"]
               for n in range(ROUNDS + 1)]
        numbers = [f"20655502{n:02d}" for n in range(ROUNDS + 1)]
        import_landlines(tenant["tenant"]["id"], numbers)
        return tenant, ids, numbers


def test_a_drop_racing_a_new_source_never_leaves_an_ex_customer_with_a_live_source(runtime):
    # Seen outcomes (source, drop): (403, 200) the drop first, the sale refused; (404, 200) the
    # drop between the sale and the source's transaction, which refused; (200, 403) the source first.
    tenant, ids, numbers = _seed(runtime)
    base = runtime.base_url + "/tracking/v1"
    user, password = tenant["user"]["username"], tenant["user"]["password"]
    sessions = []
    for _ in range(2):
        session = requests.Session()
        session.auth = HTTPDigestAuth(user, password)
        assert session.get(base + "/miscellaneous/ping", timeout=30).status_code == 200  # challenge and connection warm
        sessions.append(session)
    # How long a source's creation (check, sale, transaction) takes here: the
    # drops below start across that span, so some land inside its window
    # between the check and the transaction.
    started = time.monotonic()
    assert sessions[0].post(f"{base}/customers/{ids[-1]}/sources", data={"name": "Warm", "number": numbers[-1]},
                            timeout=60).status_code == 200
    span = time.monotonic() - started
    outcomes, overlapped = [], []
    for n, (cid, number) in enumerate(zip(ids[:-1], numbers[:-1])):
        barrier = threading.Barrier(2)
        delay = 0.6 * span * n / ROUNDS  # across the creation's span, as the previous round measured it

        def create(session=sessions[0], cid=cid, number=number):
            barrier.wait()
            started = time.monotonic()
            answer = session.post(f"{base}/customers/{cid}/sources", data={"name": "Racer", "number": number}, timeout=60)
            return started, time.monotonic(), answer.status_code

        def drop(session=sessions[1], cid=cid, delay=delay):
            barrier.wait()
            time.sleep(delay)
            started = time.monotonic()
            answer = session.delete(f"{base}/customers/{cid}", timeout=60)
            return started, time.monotonic(), answer.status_code

        with ThreadPoolExecutor(2) as pool:
            racing = pool.submit(create), pool.submit(drop)
            made, dropped = racing[0].result(), racing[1].result()
        # Did the two requests overlap (each started before the other finished)?
        # A loaded machine can stretch one round's delay past the creation, so
        # the proof is asked of the rounds together, below, not of each one.
        overlapped.append(max(made[0], dropped[0]) < min(made[1], dropped[1]))
        assert (made[2], dropped[2]) != (200, 200), (made, dropped)
        span = made[1] - made[0]
        outcomes.append((made[2], dropped[2]))
    assert sum(overlapped) >= ROUNDS // 2, (overlapped, outcomes)

    with runtime.environment():
        from chalicelib.auth import api_key
        from chalicelib.services.customers import accounts
        from chalicelib.store.tracking import sources as store

        principal = api_key.authenticate(tenant["user"]["api_key"], None)
        for cid in ids[:-1]:
            status = accounts.get_customer(principal=principal, customer_id=cid).get("status", 1)
            active = [s for s in store.sources_of(tenant["tenant"]["id"], cid) if s.get("active")]
            assert not (status == 2 and active), (cid, status, active, outcomes)
    for session in sessions:
        session.close()

"""Issue 4's figures: a bulk reservation of 1000 numbers on DynamoDB Local.

- AWS requests one bulkreserve of 1000 numbers makes (target <= 15): the
  candidates Query, the id counter, the expired-cart check and the claim
  transactions (<= 100 actions each, counters included);
- its time as a ratio to writing the same 1000 number items with plain
  BatchWriteItem (40 requests of 25) on the same DynamoDB Local (target <= 2.0).
Each figure is the median of several rounds on fresh inventory.

    python -m bench.bench_numbers   # starts its own runtime, prints one JSON line
"""
from __future__ import annotations

import io
import json
import statistics
import sys
import time
from typing import Any

ROUNDS = 3
QUANTITY = 1000
SMOKE = {"ROUNDS": 1, "QUANTITY": 50}


class RequestCounter:
    """Counts the requests a boto3 client sends (botocore's before-send event)."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        client.meta.events.register("before-send.dynamodb.*", self._seen)

    def _seen(self, **_: Any) -> None:
        self.count += 1


def _inventory(npanxx: str) -> str:
    from tests.support.surfaces.carrier import inventory_csv, landlines

    return inventory_csv(landlines(npanxx, QUANTITY))


def run(runtime: Any) -> list[dict[str, Any]]:
    with runtime.environment():
        from chalicelib import settings
        from chalicelib.domain.numbers import inventory as rules
        from chalicelib.domain.identity import principal_from_user
        from chalicelib.services.customers import accounts as customers
        from chalicelib.services.numbers import inventory as numbers
        from chalicelib.services.numbers import reservations
        from chalicelib.services.identity import users
        from chalicelib.store.numbers import inventory as store
        from chalicelib.store.clients import client
        from chalicelib.store.dynamo.codec import to_attr

        made = users.create_tenant(name="Bench numbers")
        tenant = made["tenant"]["id"]
        principal = principal_from_user(users.get_user(tenant=tenant, user_id=made["user"]["id"]), tenant)
        customer = customers.create_customer(principal=principal, fields={"name": "Bulk buyer"})
        ddb = client("dynamodb")
        counter = RequestCounter(ddb)
        requests_made, bulk_times, batch_times = [], [], []
        for n in range(ROUNDS):
            npanxx = f"2062{20 + n:02d}"
            numbers.import_numbers(tenant=tenant, lines=io.StringIO(_inventory(npanxx)))
            criteria = rules.Criteria(category=rules.LANDLINE, state="WA", npanxx=npanxx)
            before = counter.count
            began = time.perf_counter()
            result = reservations.bulk_reserve(principal=principal, customer=customer, criteria=criteria,
                                          quantity=QUANTITY)
            bulk_times.append(time.perf_counter() - began)
            requests_made.append(counter.count - before)
            assert len(result["numbers"]) == QUANTITY

            # Baseline: the same 1000 items (as stored) written with plain batch writes, under other keys.
            items = [dict(i) for i in store.existing(tenant, result["numbers"]).values()]
            for item in items:
                item["PK"] = f"T#{tenant}#BENCHCOPY{n}"
            requests = [{"PutRequest": {"Item": {k: to_attr(v) for k, v in i.items()}}} for i in items]
            began = time.perf_counter()
            for start in range(0, len(requests), 25):
                pending = {settings.main_table(): requests[start:start + 25]}
                while pending:
                    pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            batch_times.append(time.perf_counter() - began)
    request_count = max(requests_made)
    ratio = statistics.median(bulk_times) / statistics.median(batch_times)
    return [
        {"name": "bulkreserve 1000 numbers: AWS requests", "value": request_count, "target": "<= 15",
         "ok": request_count <= 15, "detail": {"per_round": requests_made}},
        {"name": "bulkreserve 1000 numbers / 1000 plain batch writes (time)", "value": round(ratio, 3),
         "target": "<= 2.0", "ok": ratio <= 2.0,
         "detail": {"bulk_ms": round(statistics.median(bulk_times) * 1000, 1),
                    "batch_ms": round(statistics.median(batch_times) * 1000, 1)}},
    ]


def main() -> int:
    from tests.support.harness.runtime import LocalRuntime

    with LocalRuntime() as runtime:
        results = run(runtime)
    print(json.dumps({"results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The voice delivery log as the store hands it to the webhook worker."""
from __future__ import annotations

import pathlib
import re

import chalicelib


def test_a_calls_deliveries_come_back_in_sequence_order(aws):
    from chalicelib.store.voice import deliveries as store

    rows = [{"hookId": 3, "callId": 41, "seq": seq, "deliveryId": f"d{seq}", "event": "call.verb", "callRef": "c",
             "body": "{}", "createdAt": "2026-06-01T10:00:00.000000Z"} for seq in (10, 2, 1, 9)]
    store.put_deliveries("t1", rows)
    store.put_deliveries("t1", [{**rows[0], "callId": 40}, {**rows[0], "callId": 410}])  # other calls, same hook
    assert [d["seq"] for d in store.pending_deliveries("t1", 3, 41)] == [1, 2, 9, 10]
    assert [d["seq"] for d in store.call_deliveries("t1", 3, 41)] == [1, 2, 9, 10]


def test_services_never_read_key_attributes():
    # Keys belong to store/ (docs/architecture.md): a service that sorts or picks by
    # "PK"/"SK" depends on a key layout it must not know.
    services = pathlib.Path(chalicelib.__file__).parent / "services"
    found = [f"{path.relative_to(services)}:{n}" for path in sorted(services.rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"""\[\s*["'](PK|SK|GSI\d?(PK|SK))["']\s*\]""", line)]
    assert found == []

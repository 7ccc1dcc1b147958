"""A closed day's export files: per customer, direction and outcome, one CSV
of its calls with their cost (written by the engine at close), stored as
``cdr-exports/<day>/<customerId>-<direction>-<success|failed>.csv`` under the
tenant and offered to the customer by the carrier API (services/calls/stats.py)."""
from __future__ import annotations

from typing import Sequence

from chalicelib.services.calls.shared import timed
from chalicelib.store import calls as store


def export_key(day: str, customer_id: int, direction: str, outcome: str) -> str:
    return f"cdr-exports/{day}/{customer_id}-{direction}-{outcome}.csv"


def store_exports(tenant: str, day: str, files: Sequence[tuple[int, str, str, str]]) -> None:
    """(customer, direction, outcome, local path) of a shard group, several PUTs in flight."""
    with timed("s3.exports"):
        store.upload_many(tenant, [(export_key(day, customer, direction, outcome), path, "text/csv")
                                   for customer, direction, outcome, path in files])

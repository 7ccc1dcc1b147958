"""A closed day's export files: per customer, direction and outcome, one CSV
of its calls with their cost, offered to the customer by the carrier API
(services/calls/stats.py) as ``cdr-exports/<day>/<customerId>-<direction>-<success|failed>.csv``
under the tenant (docs/cdrs.md, "Export files").

The engine writes a shard group's files as one body, ordered by customer,
direction and outcome, without headers. At close a group of at most
EAGER_FILES files stores each file as its own object; a bigger group stores
its body as ONE packed object, ``cdr-exports/<day>/packed/<stamp>/<group>.csv``,
with its index (``customer-direction`` -> offset, failed and success
lengths) appended as JSON, and the day record maps each of the group's
shards to [packed object, index offset] (``exportsPacked``). A customer's
files of such a day are cut from the packed object when first asked for
(``ensure_files``: one ranged GET of the index, one of its rows, two PUTs),
and the day record remembers it (``exportsCut``). Files nobody asks for are
never written one by one.
"""
from __future__ import annotations

import json
import os
import uuid
from typing import Any, Mapping, Sequence

from chalicelib.domain.calls import cdrs as rules
from chalicelib.services.calls.scan import shard
from chalicelib.services.calls.shared import timed
from chalicelib.store import calls as store

# A group with at most this many files stores them as they are: packing saves
# few PUTs there, and the first reader of each would pay for a cut.
EAGER_FILES = int(os.environ.get("CDR_EAGER_EXPORT_FILES", "16"))
EXPORT_HEADER = (",".join(rules.HEADER + ("cost",)) + "\n").encode()


def export_key(day: str, customer_id: int, direction: str, outcome: str) -> str:
    return f"cdr-exports/{day}/{customer_id}-{direction}-{outcome}.csv"


def packed_prefix(day: str, stamp: str) -> str:
    return f"cdr-exports/{day}/packed/{stamp}/"


class DayExports:
    """Stores a closing day's export files, group by group (one thread)."""

    def __init__(self, tenant: str, day: str) -> None:
        self.tenant, self.day = tenant, day
        self.stamp = uuid.uuid4().hex[:12]  # a close's packed objects never overwrite the ones readers use
        self.packed: dict[str, list[Any]] = {}  # shard -> [packed object key, index offset]

    def store(self, group: int, shards: Sequence[int], path: str | None,
              files: Sequence[tuple[int, str, str, int, int]]) -> None:
        """A group's body (``path``) and its files (customer, direction,
        outcome, offset, length), failed before success per customer and
        direction as the engine writes them."""
        if path is None or not files:
            return
        with timed("s3.exports"):
            if len(files) <= EAGER_FILES:
                with open(path, "rb") as body:
                    store.put_many_bytes(self.tenant, [
                        (export_key(self.day, customer, direction, outcome), EXPORT_HEADER + os.pread(
                            body.fileno(), length, offset) if length else EXPORT_HEADER, "text/csv")
                        for customer, direction, outcome, offset, length in files])
                return
            index: dict[str, list[int]] = {}
            for customer, direction, outcome, offset, length in files:
                entry = index.setdefault(f"{customer}-{direction}", [offset, 0, 0])
                entry[1 if outcome == "failed" else 2] = length
            index_at = os.path.getsize(path)
            with open(path, "ab") as body:
                body.write(json.dumps(index, separators=(",", ":")).encode())
            key = f"{packed_prefix(self.day, self.stamp)}{group:03d}.csv"
            store.upload_file(self.tenant, key, path, content_type="text/csv")
            self.packed.update({str(shard): [key, index_at] for shard in shards})

    def day_fields(self) -> dict[str, Any]:
        return {"exportsPacked": self.packed}


def forget_packed(tenant: str, day: str, before: Mapping[str, Any] | None) -> None:
    """The packed objects of an earlier close of the day (``before``: its
    ``exportsPacked``), once the day record names the new ones."""
    stale = {str(entry[0]) for entry in (before or {}).values()}
    if stale:
        store.delete_objects(tenant, sorted(stale))


def ensure_files(tenant: str, day: Mapping[str, Any], customer_id: int, direction: str, *,
                 again: bool = True) -> None:
    """Make the customer's two files of a closed day exist as objects: cut
    them from the day's packed object when they are packed and not cut yet.
    (A close of the day again deletes the packed objects it replaced once the
    day record names the new ones: a reader that read the record before
    reads it again.)"""
    entry = (day.get("exportsPacked") or {}).get(str(shard(customer_id)))
    if not entry:
        return  # stored one by one at close
    key, index_at = str(entry[0]), int(entry[1])
    marker = f"{key}:{customer_id}-{direction}"
    if marker in (day.get("exportsCut") or set()):
        return
    try:
        index = json.loads(store.read_range(tenant, key, index_at, None))
    except store.MissingObject:
        fresh = store.get_day(tenant, str(day["day"]))
        if not again or fresh is None:
            raise
        ensure_files(tenant, {**fresh, "day": day["day"]}, customer_id, direction, again=False)
        return
    found = index.get(f"{customer_id}-{direction}")
    if not found:
        return
    offset, failed, success = (int(v) for v in found)
    rows = store.read_range(tenant, key, offset, offset + failed + success) if failed + success else b""
    store.put_many_bytes(tenant, [
        (export_key(day["day"], customer_id, direction, "failed"), EXPORT_HEADER + rows[:failed], "text/csv"),
        (export_key(day["day"], customer_id, direction, "success"), EXPORT_HEADER + rows[failed:], "text/csv")])
    store.add_day_marks(tenant, day["day"], "exportsCut", [marker])

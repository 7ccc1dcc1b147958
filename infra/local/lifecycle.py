"""The local stand-in for the blob bucket's lifecycle rules.

On AWS the bucket's LifecycleConfiguration (infra/resources.json) expires
what nothing will ever name: presigned uploads never confirmed (under
pending/) and files whose record was never written because the process
died (still tagged dialtone-upload=pending: store/pending_files.py) after
a day, restaged CDR pieces after a week.
moto keeps the rules it is given but never runs them, and the local
runtime's objects persist across restarts (infra/local/moto_journal.py), so
without this the small install would keep every leftover for ever.

The pump runs ``expire`` at its start and every hour on the rules of the
template, as S3 does: a rule with ``ExpirationInDays`` N removes an object
(under its prefix and carrying all of its ``TagFilters``) at the first
midnight UTC at least N days after its last change. Only the
current-version expirations apply: the local bucket is not versioned.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

_log = logging.getLogger("infra.local.lifecycle")
PERIOD_SECONDS = 3600


@dataclass(frozen=True)
class Expiration:
    prefix: str
    days: int
    tags: tuple[tuple[str, str], ...] = ()  # every one must be on the object

    def expires_at(self, last_modified: datetime) -> datetime:
        # S3 counts from the object's last change and rounds up to the next midnight UTC.
        later = last_modified.astimezone(timezone.utc) + timedelta(days=self.days)
        midnight = datetime.combine(later.date(), time(0), tzinfo=timezone.utc)
        return midnight if midnight == later else midnight + timedelta(days=1)


def expirations(template: dict[str, Any]) -> list[Expiration]:
    """The enabled prefix rules of the template's bucket that expire current objects."""
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        for rule in resource["Properties"].get("LifecycleConfiguration", {}).get("Rules", []):
            if rule.get("Status") == "Enabled" and "ExpirationInDays" in rule:
                tags = tuple((t["Key"], t["Value"]) for t in rule.get("TagFilters", []))
                found.append(Expiration(rule.get("Prefix", ""), int(rule["ExpirationInDays"]), tags))
    return found


def expire(s3: Any, bucket: str, rules: list[Expiration], now: datetime,
           untagged: set[tuple[str, datetime]] | None = None) -> list[str]:
    """Delete the objects the rules expire by ``now``; their keys.
    ``untagged`` remembers (key, last change) of objects found without a
    rule's tags, so the next run does not ask again: Dialtone tags an object
    pending only in its PUT (a new last change), never afterwards."""
    gone = []
    known = untagged if untagged is not None else set()
    for rule in rules:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=rule.prefix):
            for found in page.get("Contents", []):
                if rule.expires_at(found["LastModified"]) > now:
                    continue
                if rule.tags:
                    seen = (found["Key"], found["LastModified"])
                    if seen in known:
                        continue
                    tags = s3.get_object_tagging(Bucket=bucket, Key=found["Key"])["TagSet"]
                    if not set(rule.tags) <= {(t["Key"], t["Value"]) for t in tags}:
                        known.add(seen)
                        continue
                s3.delete_object(Bucket=bucket, Key=found["Key"])
                gone.append(found["Key"])
    return gone


def run(stop: threading.Event, *, period: float = PERIOD_SECONDS) -> None:
    """``expire`` on the stage's bucket now and every ``period`` seconds, until ``stop``."""
    from chalicelib import settings
    from chalicelib.store.clients import client
    from infra.local.resources import load_template

    rules = expirations(load_template())
    untagged: set[tuple[str, datetime]] = set()
    while True:
        try:
            gone = expire(client("s3"), settings.blob_bucket(), rules, datetime.now(timezone.utc), untagged)
            if gone:
                _log.info("lifecycle: %d expired object(s) removed", len(gone))
        except Exception:  # noqa: BLE001 - S3 runs the rules again the next day; so do we next period
            _log.exception("lifecycle run failed")
        if stop.wait(period):
            return

"""The local runtime's stand-in for the bucket's lifecycle rules
(infra/local/lifecycle.py): moto never runs them, and the local objects
persist, so leftovers under pending/ would stay for ever."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from infra.local import lifecycle
from infra.local.resources import load_template


def test_the_template_rules_are_the_ones_run_locally() -> None:
    from infra.stateful import CDR_STAGED_PREFIX, PENDING_PREFIX

    rules = {r.prefix: r.days for r in lifecycle.expirations(load_template())}
    assert rules == {PENDING_PREFIX: 1, CDR_STAGED_PREFIX: 7}  # tenants/ never expires


def test_an_object_expires_at_the_first_midnight_utc_its_days_after_its_last_change() -> None:
    rule = lifecycle.Expiration("pending/", 1)
    changed = datetime(2026, 3, 2, 15, 30, tzinfo=timezone.utc)
    assert rule.expires_at(changed) == datetime(2026, 3, 4, tzinfo=timezone.utc)
    assert rule.expires_at(datetime(2026, 3, 2, tzinfo=timezone.utc)) == datetime(2026, 3, 3, tzinfo=timezone.utc)


def test_expire_removes_only_what_the_rules_cover_once_due(aws: None) -> None:
    from chalicelib import settings
    from chalicelib.store.clients import client

    s3: Any = client("s3")
    bucket = settings.blob_bucket()
    keys = ["pending/tenants/tlife/files/000000000001", "tenants/tlife/files/000000000001",
            "cdr-staged/tlife/f/00000.csv"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    rules = lifecycle.expirations(load_template())
    now = datetime.now(timezone.utc)
    assert lifecycle.expire(s3, bucket, rules, now) == []
    assert lifecycle.expire(s3, bucket, rules, now + timedelta(days=2)) == [keys[0]]
    assert lifecycle.expire(s3, bucket, rules, now + timedelta(days=8)) == [keys[2]]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="tenants/tlife/")
    assert [o["Key"] for o in listed["Contents"]] == [keys[1]]

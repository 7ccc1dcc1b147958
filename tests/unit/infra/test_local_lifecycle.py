"""The local runtime's stand-in for the bucket's lifecycle rules
(infra/local/lifecycle.py): moto never runs them, and the local objects
persist, so leftovers under pending/, or tagged pending under tenants/,
would stay for ever."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from infra.local import lifecycle
from infra.local.resources import load_template


def test_the_template_rules_are_the_ones_run_locally() -> None:
    from infra.stateful import CDR_STAGED_PREFIX, PENDING_PREFIX, TENANT_PREFIX

    rules = {(r.prefix, r.tags): r.days for r in lifecycle.expirations(load_template())}
    # Under tenants/ only what carries the pending upload tag expires.
    assert rules == {(PENDING_PREFIX, ()): 1, (CDR_STAGED_PREFIX, ()): 7,
                     (TENANT_PREFIX, (("dialtone-upload", "pending"),)): 1}


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


def test_under_tenants_only_files_still_tagged_pending_expire(aws: None) -> None:
    """A client's file is PUT tagged pending and retagged recorded once its
    record is written (store/pending_files.py): only the former expires."""
    from chalicelib import settings
    from chalicelib.store import blobs
    from chalicelib.store.clients import client

    s3: Any = client("s3")
    bucket = settings.blob_bucket()
    blobs.put("tlife", "files/000000000001", b"never recorded", tagged=True)
    blobs.put("tlife", "files/000000000002", b"recorded", tagged=True)
    assert blobs.mark_recorded("tlife", "files/000000000002")
    blobs.put("tlife", "files/000000000003", b"stored before tags")
    assert blobs.upload_tag("tlife", "files/000000000001") == blobs.PENDING
    assert blobs.upload_tag("tlife", "files/000000000002") == blobs.RECORDED
    rules = lifecycle.expirations(load_template())
    now = datetime.now(timezone.utc)
    untagged: set[Any] = set()
    assert lifecycle.expire(s3, bucket, rules, now, untagged) == []
    assert lifecycle.expire(s3, bucket, rules, now + timedelta(days=2), untagged) == ["tenants/tlife/files/000000000001"]
    assert {key for key, _ in untagged} == {"tenants/tlife/files/000000000002", "tenants/tlife/files/000000000003"}
    assert lifecycle.expire(s3, bucket, rules, now + timedelta(days=3), untagged) == []
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="tenants/tlife/")
    assert [o["Key"] for o in listed["Contents"]] == ["tenants/tlife/files/000000000002",
                                                      "tenants/tlife/files/000000000003"]
    assert not blobs.mark_recorded("tlife", "files/000000000001")  # gone: nothing to mark


def test_the_local_journal_keeps_the_tags_the_rules_expire_by(aws: None, tmp_path: Any) -> None:
    """The local S3 persists through infra/local/moto_journal.py: a file's
    pending tag, and its retagging alone (no new last change), survive a
    restart, or the small install would keep an unrecorded upload for ever
    or expire a recorded one."""
    from moto.core.base_backend import BackendDict

    from chalicelib.store import blobs
    from infra.local.moto_journal import Journal

    blobs.put("tjournal", "files/1", b"never recorded", tagged=True)
    blobs.put("tjournal", "files/2", b"recorded", tagged=True)
    journal = Journal(tmp_path)
    journal.sync()
    assert blobs.mark_recorded("tjournal", "files/2")
    journal.sync()
    BackendDict.reset()  # the process stops: moto's memory is gone
    Journal(tmp_path).restore()
    assert [blobs.upload_tag("tjournal", k) for k in ("files/1", "files/2")] == [blobs.PENDING, blobs.RECORDED]
    assert blobs.get("tjournal", "files/2") == b"recorded"

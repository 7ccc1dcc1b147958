"""Uploaded files with a fault at each AWS call: attachments (billing
platform API) and voicemail greetings (call-tracking API); port-in documents
are crashed in tests/unit/services/test_porting.py. The request answers
cleanly or succeeds, the client's retry stores the file, and once the
settle_pending_files schedule has run, every object under the tenant
belongs to a record or still carries the pending upload tag (the bucket's
lifecycle rule ExpireUnrecordedUploads expires it), every record's object is
in place with its bytes and without that tag, no promotion is left pending,
and the tenant's storage usage is the sum of its files. Objects left under
pending/ are allowed too: nothing names them and the lifecycle expires them
(store/pending_files.py; the design and its crash points:
docs/architecture.md, "Files: nothing orphaned, nothing lost")."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support.harness import events
from tests.support.harness.concurrency import run_concurrently
from tests.support.injection.fault_sweep import Flow, sweep
from tests.support.injection.faults import CRASH, LOST_ANSWER, Crash, Fault, Faults
from tests.support.surfaces.platform import Api

CONTENT = b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 200


def check_tags(tenant: str, named: set[str], objects: set[str]) -> None:
    """Every object no record names carries the pending upload tag, so the
    lifecycle rule removes it; no recorded object keeps that tag."""
    from chalicelib.store import blobs

    prefix = f"tenants/{tenant}/"
    tags = {key: blobs.upload_tag(tenant, key[len(prefix):]) for key in objects}
    assert named <= objects, f"records without their file: {named - objects}"
    unnamed = {key for key in objects - named if tags[key] != blobs.PENDING}
    assert not unnamed, f"objects no record names and no lifecycle rule removes: {unnamed}"
    still = {key for key in named if tags[key] == blobs.PENDING}
    assert not still, f"recorded files the lifecycle rule would expire: {still}"


class AttachmentUpload(Flow):
    name = "attachment upload (platform API)"

    def __init__(self, client: Any, tenant: dict[str, Any]) -> None:
        self.api = Api(client, tenant["user"]["api_key"])
        self.tenant = tenant["tenant"]["id"]
        owner = self.api.post("/customers", {"customerName": "Acme Corp"}).json
        self.note = self.api.post(f"/customers/{owner['id']}/notes", {"text": "files"}).json
        self.customer_id = int(owner["id"])
        self.contents: dict[int, bytes] = {}  # the files replaced by a test, by attachment id
        self.downloaded: set[tuple[int, int]] = set()  # (attachment id, stored file id) already compared

    def _upload(self) -> int:
        response = self.api.post(f"/notes/{self.note['id']}/noteAttachments", {
            "fileName": "order.pdf", "_fileContent": base64.b64encode(CONTENT).decode(), "description": "d"})
        return int(response.status_code)

    def act(self, ctx: Any) -> int:
        return self._upload()

    def recover(self, ctx: Any) -> None:
        assert self._upload() == 201  # the client sends the file again
        settle_pending_files()  # the schedule's next run

    def check(self) -> None:
        from chalicelib import settings
        from chalicelib.store import blobs, pending_files
        from chalicelib.store.clients import client as aws_client

        from chalicelib.store.customers.attachments import NOTE_ATTACHMENT
        from chalicelib.store.dynamo import entities

        records = list(entities.every(NOTE_ATTACHMENT, self.tenant, page_size=500))
        stored = {f"tenants/{self.tenant}/files/{r['storedFileId']:012d}" for r in records}
        answer = aws_client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"tenants/{self.tenant}/")
        objects = {o["Key"] for o in answer.get("Contents", [])}
        check_tags(self.tenant, stored, objects)
        assert not pending_files.pending(self.tenant), "promotions left pending after the schedule ran"
        assert blobs.storage_used(self.tenant) == sum(r["fileSize"] for r in records)
        for record in records:  # bytes once per file (the listing above keeps checking it is there)
            if (record["id"], record["storedFileId"]) not in self.downloaded:
                assert self.download(record["id"]) == self.contents.get(record["id"], CONTENT)
                self.downloaded.add((record["id"], record["storedFileId"]))

    def download(self, attachment_id: int) -> bytes:
        response = self.api.get(f"/noteAttachments/{attachment_id}", headers={"Accept": "application/octet-stream"})
        assert response.status_code == 200, response.body
        return bytes(response.body)


def settle_pending_files() -> None:
    from chalice.local import LambdaContext

    from app import app

    context = LambdaContext(function_name="dialtone-test-settle_pending_files", memory_size=1024,
                            max_runtime_ms=60_000)
    app.handler_map["settle_pending_files"](events.load("eventbridge_scheduled"), context)


def test_attachment_uploads_survive_a_fault_at_each_aws_call(client: Any, tenant: dict[str, Any]) -> None:
    flow = AttachmentUpload(client, tenant)
    with Faults() as faults:
        coverage = sweep(faults, flow, offset=1)
    assert coverage.calls and coverage.injected == coverage.scenarios


@pytest.mark.parametrize("fault_at", ["s3.PutObject", "dynamodb.UpdateItem after the PUT"])
def test_an_upload_that_fails_after_its_put_leaves_no_object(client: Any, tenant: dict[str, Any],
                                                              fault_at: str) -> None:
    """The PUT's answer is lost (the object is stored, the client sees a
    timeout), or the attachment's id cannot be had after the PUT: the request
    fails and the object it stored is deleted, not left without an attachment."""
    flow = AttachmentUpload(client, tenant)
    with Faults() as faults:
        faults.record()
        assert flow._upload() == 201
        put = faults.calls.index("s3.PutObject")
        index = put if fault_at == "s3.PutObject" else faults.calls.index("dynamodb.UpdateItem", put)
        faults.arm(Fault(LOST_ANSWER, index))
        assert flow._upload() == 503
        assert faults.fired == [f"lost_answer@{index} at {fault_at.split()[0]}"]
    flow.check()


def test_an_upload_whose_record_answer_was_lost_keeps_its_file(client: Any, tenant: dict[str, Any]) -> None:
    """The attachment's record commits but its answer is lost: the file is
    kept (deleting it left an attachment without its file) and the request
    answers with the attachment."""
    flow = AttachmentUpload(client, tenant)
    with Faults() as faults:
        faults.record()
        assert flow._upload() == 201
        index = faults.calls.index("dynamodb.TransactWriteItems", faults.calls.index("s3.PutObject"))
        faults.arm(Fault(LOST_ANSWER, index))
        assert flow._upload() == 201
        assert faults.fired == [f"lost_answer@{index} at dynamodb.TransactWriteItems"]
    flow.check()


def test_a_crash_between_the_put_and_the_record_leaves_no_object_the_lifecycle_keeps(
        client: Any, tenant: dict[str, Any]) -> None:
    """The process dies after the file's PUT, before its attachment is
    written: what it stored still carries the pending upload tag, which the
    bucket's lifecycle rule expires; the recorded file does not."""
    from chalicelib import settings
    from chalicelib.store import blobs
    from chalicelib.store.clients import client as aws_client

    flow = AttachmentUpload(client, tenant)
    with Faults() as faults:
        faults.record()
        assert flow._upload() == 201
        index = faults.calls.index("dynamodb.TransactWriteItems", faults.calls.index("s3.PutObject"))
        faults.arm(Fault(CRASH, index))
        with pytest.raises(Crash):
            flow._upload()
    answer = aws_client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix="")
    left = [o["Key"] for o in answer.get("Contents", []) if flow.tenant in o["Key"]]
    in_place = sorted(k for k in left if k.startswith("tenants/"))
    assert len(in_place) == 2 and not [k for k in left if k.startswith("pending/")]
    prefix = f"tenants/{flow.tenant}/"
    # The first upload's file is recorded; the crashed one's is left to the lifecycle rule.
    assert [blobs.upload_tag(flow.tenant, k[len(prefix):]) for k in in_place] == [blobs.RECORDED, blobs.PENDING]
    flow.check()


@pytest.mark.parametrize("crash_before", ["s3.PutObjectTagging", "dynamodb.DeleteItem"])
def test_a_crash_after_the_record_loses_no_file(client: Any, tenant: dict[str, Any], crash_before: str) -> None:
    """The attachment is committed, then the process dies before its file is
    marked recorded or before the item that says so is deleted: the
    download finds the file byte for byte (it is in place), and the
    schedule's run leaves nothing pending and nothing the lifecycle expires."""
    flow = AttachmentUpload(client, tenant)
    with Faults() as faults:
        faults.record()
        assert flow._upload() == 201
        committed = faults.calls.index("dynamodb.TransactWriteItems", faults.calls.index("s3.PutObject"))
        faults.arm(Fault(CRASH, faults.calls.index(crash_before, committed)))
        with pytest.raises(Crash):
            flow._upload()
    from chalicelib.store.customers.attachments import NOTE_ATTACHMENT
    from chalicelib.store.dynamo import entities

    records = list(entities.every(NOTE_ATTACHMENT, flow.tenant))
    assert len(records) == 2
    assert all(flow.download(r["id"]) == CONTENT for r in records)
    settle_pending_files()
    flow.check()


def test_a_file_stored_before_pending_uploads_still_downloads(client: Any, tenant: dict[str, Any]) -> None:
    """Files stored before uploads went through pending/ sit at their key
    under the tenant with no pending item: they download as they did."""
    from chalicelib.store import blobs
    from chalicelib.store.customers import attachments as store
    from chalicelib.store.dynamo import entities

    flow = AttachmentUpload(client, tenant)
    stored_id = store.allocate_stored_file_id(flow.tenant)
    blobs.put(flow.tenant, store.object_key(stored_id), CONTENT, content_type="application/pdf")
    blobs.storage_usage_update(tx := entities.Transaction(), flow.tenant, len(CONTENT), 10**9, None)
    record = entities.create(store.NOTE_ATTACHMENT, flow.tenant, {
        "fileName": "old.pdf", "noteId": flow.note["id"], "customerId": flow.customer_id,
        "storedFileId": stored_id, "fileSize": len(CONTENT), "fileHash": "0" * 40, "mimeType": "application/pdf",
    }, also=tx)
    assert flow.download(record["id"]) == CONTENT
    settle_pending_files()
    flow.check()


class GreetingUpload(Flow):
    """A voicemail greeting (call-tracking API): its audio is PUT, then its record written."""
    name = "greeting upload (call-tracking API)"

    def __init__(self, client: Any, tenant: dict[str, Any]) -> None:
        from tests.support.surfaces.tracking import Tracking

        self.api = Tracking(client, tenant["user"]["username"], tenant["user"]["password"])
        self.tenant = tenant["tenant"]["id"]
        made = self.api.post("/customers", data={"name": "Acme"})
        self.customer = int(made.json["customers"][0]["customer_id"])

    def act(self, ctx: Any) -> int:
        made = self.api.post(f"/customers/{self.customer}/voicemail_greetings",
                             data={"name": "Welcome", "audio": base64.b64encode(WAV).decode()})
        return int(made.status_code)

    def recover(self, ctx: Any) -> None:
        assert self.act(ctx) == 200
        settle_pending_files()

    def check(self) -> None:
        from chalicelib import settings
        from chalicelib.store import blobs, pending_files
        from chalicelib.store.tracking import greetings as store
        from chalicelib.store.clients import client as aws_client

        records = store.greetings_of(self.tenant, [self.customer])
        named = {f"tenants/{self.tenant}/{g['objectKey']}" for g in records}
        answer = aws_client("s3").list_objects_v2(Bucket=settings.blob_bucket(),
                                                  Prefix=f"tenants/{self.tenant}/greetings/")
        objects = {o["Key"] for o in answer.get("Contents", [])}
        check_tags(self.tenant, named, objects)
        assert not pending_files.pending(self.tenant), "promotions left pending after the schedule ran"
        assert all(blobs.get(self.tenant, g["objectKey"]) == WAV for g in records)


WAV = b"RIFF" + (36 + 1600).to_bytes(4, "little") + b"WAVEfmt " + bytes.fromhex("1000000001000100401f0000803e000002001000") \
    + b"data" + (1600).to_bytes(4, "little") + b"\x00" * 1600


def test_greeting_uploads_survive_a_fault_at_each_aws_call(client: Any, tenant: dict[str, Any]) -> None:
    flow = GreetingUpload(client, tenant)
    with Faults() as faults:
        coverage = sweep(faults, flow, offset=4)  # another turn of kinds than the attachments'
    assert coverage.calls and coverage.injected == coverage.scenarios


@pytest.mark.parametrize("crash_before", ["dynamodb.TransactWriteItems", "s3.PutObjectTagging", "dynamodb.DeleteItem"])
def test_a_greeting_upload_that_crashes_leaves_nothing_unnamed(client: Any, tenant: dict[str, Any],
                                                              crash_before: str) -> None:
    """Before its record (the audio keeps the pending tag, which the lifecycle
    expires) or after it (the schedule marks the audio recorded): the same
    state once the schedule ran."""
    flow = GreetingUpload(client, tenant)
    with Faults() as faults:
        faults.record()
        assert flow.act(None) == 200
        faults.arm(Fault(CRASH, faults.calls.index(crash_before, faults.calls.index("s3.PutObject"))))
        with pytest.raises(Crash):
            flow.act(None)
    settle_pending_files()
    flow.check()


def _uploaded_then_crashed_before_settling(client: Any, tenant: dict[str, Any]) -> AttachmentUpload:
    """One clean upload, then one whose process dies after its record's
    commit, before the retag: its file is in place, still tagged pending."""
    flow = AttachmentUpload(client, tenant)
    with Faults() as faults:
        faults.record()
        assert flow._upload() == 201
        committed = faults.calls.index("dynamodb.TransactWriteItems", faults.calls.index("s3.PutObject"))
        faults.arm(Fault(CRASH, faults.calls.index("s3.PutObjectTagging", committed)))
        with pytest.raises(Crash):
            flow._upload()
    return flow


def test_replacing_a_file_a_crash_left_pending_leaves_no_orphan(client: Any, tenant: dict[str, Any]) -> None:
    """An upload crashed after its record, so its file still carries the
    pending tag; the client then replaces that file. The replaced file is
    settled first and then deleted with the change: a schedule run that had
    read its pending item before finds it gone and brings nothing back."""
    from chalicelib.store import pending_files
    from chalicelib.store.customers import attachments as store
    from chalicelib.store.dynamo import entities

    flow = _uploaded_then_crashed_before_settling(client, tenant)
    (crashed,) = pending_files.pending(flow.tenant)  # what a schedule run reads before the change
    attachment = max(entities.every(store.NOTE_ATTACHMENT, flow.tenant), key=lambda a: a["id"])
    assert crashed["SK"] == store.object_key(attachment["storedFileId"])
    other = CONTENT.replace(b"Catalog", b"Pages  ")
    changed = flow.api.patch(f"/noteAttachments/{attachment['id']}",
                             {"_fileContent": base64.b64encode(other).decode(), "fileName": "order.pdf"})
    assert changed.status_code == 200, changed.body
    with pytest.raises(FileNotFoundError):  # that run goes on: its file is gone, nothing is brought back
        pending_files.settle(flow.tenant, crashed["SK"], tagged=crashed["tagged"])
    assert flow.download(attachment["id"]) == other
    flow.contents[attachment["id"]] = other
    settle_pending_files()
    flow.check()


def test_deleting_a_greeting_whose_audio_a_crash_left_pending_leaves_nothing(client: Any,
                                                                             tenant: dict[str, Any]) -> None:
    """As for a replaced attachment: the audio is settled before the
    greeting's deletion records its removal, so a schedule run that had read
    its pending item before finds it gone and brings nothing back."""
    from chalicelib.store import pending_files

    flow = GreetingUpload(client, tenant)
    with Faults() as faults:
        faults.record()
        assert flow.act(None) == 200
        committed = faults.calls.index("dynamodb.TransactWriteItems", faults.calls.index("s3.PutObject"))
        faults.arm(Fault(CRASH, faults.calls.index("s3.PutObjectTagging", committed)))
        with pytest.raises(Crash):
            flow.act(None)
    (crashed,) = pending_files.pending(flow.tenant)
    listed = flow.api.get(f"/customers/{flow.customer}/voicemail_greetings").json["voicemail_greetings"]
    newest = max(int(g["vm_greeting_id"]) for g in listed)
    gone = flow.api.delete(f"/customers/{flow.customer}/voicemail_greetings/{newest}")
    assert gone.status_code == 200, gone.text
    with pytest.raises(FileNotFoundError):
        pending_files.settle(flow.tenant, crashed["SK"], tagged=crashed["tagged"])
    settle_pending_files()
    flow.check()


def test_a_download_link_of_a_file_a_crash_left_pending_points_at_the_file(client: Any, tenant: dict[str, Any],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the inline size the answer is a presigned link: the file is in
    place, and the download settles it (one GetItem) before signing it."""
    from chalicelib.store import blobs, pending_files
    from chalicelib.store.customers import attachments as store
    from chalicelib.store.dynamo import entities

    flow = _uploaded_then_crashed_before_settling(client, tenant)
    attachment = max(entities.every(store.NOTE_ATTACHMENT, flow.tenant), key=lambda a: a["id"])
    assert blobs.upload_tag(flow.tenant, store.object_key(attachment["storedFileId"])) == blobs.PENDING
    monkeypatch.setenv("INLINE_DOWNLOAD_BYTES", "100")
    link = flow.api.get(f"/noteAttachments/{attachment['id']}", headers={"Accept": "application/octet-stream"})
    assert link.status_code == 303
    assert blobs.get(flow.tenant, store.object_key(attachment["storedFileId"])) == CONTENT
    assert blobs.upload_tag(flow.tenant, store.object_key(attachment["storedFileId"])) == blobs.RECORDED
    assert not pending_files.pending(flow.tenant)


def test_the_settling_schedule_run_twice_at_once_settles_each_file_once(client: Any, tenant: dict[str, Any]) -> None:
    """Two runs of settle_pending_files at the same moment (EventBridge may
    deliver a schedule twice) over files two crashes left pending: each file
    ends in place, tagged recorded, its item gone, nothing else touched."""
    from chalicelib.store import pending_files

    flows = [_uploaded_then_crashed_before_settling(client, tenant) for _ in range(2)]
    assert len(pending_files.pending(flows[0].tenant)) == 2
    _, peak = run_concurrently(2, lambda _: settle_pending_files())
    assert peak == 2, "the two runs did not overlap"
    assert pending_files.pending(flows[0].tenant) == []
    for flow in flows:
        flow.check()

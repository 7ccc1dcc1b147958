import base64
import json

import pytest
import requests

from chalicelib.store import blobs, queues
from chalicelib.store.clients import client


def test_blobs_live_under_the_tenant_prefix(aws):
    key = blobs.put("t1", "notes/1/a.txt", b"hello", content_type="text/plain")
    assert key == "tenants/t1/notes/1/a.txt"
    assert blobs.get("t1", "notes/1/a.txt") == b"hello"
    assert blobs.head("t2", "notes/1/a.txt") is None  # another tenant's prefix holds nothing
    blobs.delete("t1", "notes/1/a.txt")
    assert blobs.head("t1", "notes/1/a.txt") is None


@pytest.mark.parametrize("bad", ["../t2/x", "/etc/passwd"])
def test_keys_cannot_escape_the_prefix(aws, bad):
    with pytest.raises(ValueError):
        blobs.object_key("t1", bad)


def test_presigned_download_names_the_object_and_expires(aws):
    blobs.put("t1", "invoices/2026-10.pdf", b"%PDF-1.4")
    url = blobs.presigned_download("t1", "invoices/2026-10.pdf", filename="invoice.pdf", expires=60)
    assert "tenants/t1/invoices/2026-10.pdf" in url and "X-Amz-Expires=60" in url
    # moto serves presigned URLs in-process through its mocked transport.
    assert requests.get(url).content == b"%PDF-1.4"


def test_presigned_upload_limits_the_size(aws):
    form = blobs.presigned_upload("t1", "uploads/big.bin", content_type="application/octet-stream", max_bytes=10)
    # Under pending/ until confirmed: the bucket's lifecycle rule expires it otherwise.
    assert form["fields"]["key"] == "pending/tenants/t1/uploads/big.bin"
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, 10] in policy["conditions"]


def test_publish_delivers_json_messages(aws):
    queues.forget_urls()
    queues.publish("orders", {"orderId": 7}, attributes={"tenant": "t1"})
    assert queues.publish_batch("orders", [{"orderId": n} for n in range(12)]) == 12
    url = queues.queue_url("orders")
    seen = []
    for _ in range(5):
        answer = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        for message in answer.get("Messages", []):
            seen.append(json.loads(message["Body"])["orderId"])
            client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(seen) == [0, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11]


def test_tagged_puts_carry_the_pending_upload_tag_until_marked_recorded(aws):
    """Streamed (unsigned payload, ChecksumSHA1) or not, a tagged PUT stores
    the tag the lifecycle rule ExpireUnrecordedUploads expires on."""
    import hashlib

    data = b"abcdef"
    writer = blobs.ObjectWriter("tw5", "files/streamed", size=6, content_type="text/plain",
                                sha1_hex=hashlib.sha1(data).hexdigest(), tagged=True)
    writer.write(data)
    writer.close()
    blobs.put("tw5", "files/whole", data, sha1_hex=hashlib.sha1(data).hexdigest(), tagged=True)
    blobs.put("tw5", "files/plain", data)
    assert [blobs.upload_tag("tw5", k) for k in ("files/streamed", "files/whole", "files/plain")] == [
        blobs.PENDING, blobs.PENDING, None]
    assert blobs.mark_recorded("tw5", "files/streamed") and blobs.mark_recorded("tw5", "files/streamed")
    assert blobs.upload_tag("tw5", "files/streamed") == blobs.RECORDED
    assert blobs.get("tw5", "files/streamed") == data
    assert not blobs.mark_recorded("tw5", "files/absent")


def test_object_writer_waits_for_a_late_key_and_stores_the_bytes(aws):
    import threading

    ready = threading.Event()

    def key() -> str:  # e.g. an id still being allocated while the producer starts
        assert ready.wait(5)
        return "files/late"

    writer = blobs.ObjectWriter("tw1", key, size=6, content_type="text/plain", sha1_hex=None)
    writer.write(b"abc")  # queued before the key exists
    ready.set()
    writer.write(b"def")
    writer.close()
    assert blobs.get("tw1", "files/late") == b"abcdef"


def test_object_writer_whose_key_fails_stores_nothing_and_raises_its_error(aws):
    def key() -> str:
        raise LookupError("note not found")

    writer = blobs.ObjectWriter("tw2", key, size=6, content_type="text/plain", sha1_hex=None)
    with pytest.raises(LookupError):
        writer.write(b"abc")
        writer.close()
    writer.abort()  # nothing to delete: the key was never worked out
    assert client("s3").list_objects_v2(Bucket=blobs.settings.blob_bucket(), Prefix="tenants/tw2/").get("KeyCount") == 0


def test_object_writer_aborted_while_its_key_is_pending_sends_nothing(aws):
    import threading

    release = threading.Event()
    puts: list[str] = []
    streaming = client("s3", unsigned_payload=True)

    def seen(model=None, **_):
        puts.append(model.name)

    def key() -> str:
        assert release.wait(5)
        return "files/never"

    streaming.meta.events.register("before-call.s3.PutObject", seen)
    try:
        writer = blobs.ObjectWriter("tw3", key, size=6, content_type="text/plain", sha1_hex=None)
        writer.write(b"abc")
        timer = threading.Timer(0.1, release.set)  # the key arrives after the producer gave up
        timer.start()
        writer.abort()
        timer.join()
    finally:
        streaming.meta.events.unregister("before-call.s3.PutObject", seen)
    assert puts == [] and writer.key is None


def test_object_writer_abort_reaches_a_reader_that_emptied_the_queue(aws, monkeypatch):
    """abort's first marker found the queue full, then the reader took every
    piece and waits on an empty queue: abort must still hand it the marker
    (it used to loop forever: it put the marker only after taking a piece)."""
    import queue
    import threading

    writer = blobs.ObjectWriter("tw4", "files/aborted", size=12, content_type="text/plain", sha1_hex=None)
    writer.write(b"abc")
    real_put = queue.Queue.put_nowait
    refused = {"first": True}

    def put_nowait(self, item):  # the first marker meets a full queue
        if refused["first"] and writer._pieces is self:
            refused["first"] = False
            raise queue.Full
        return real_put(self, item)

    monkeypatch.setattr(queue.Queue, "put_nowait", put_nowait)
    finished = threading.Event()
    aborting = threading.Thread(target=lambda: (writer.abort(), finished.set()), daemon=True)
    aborting.start()
    assert finished.wait(10), "abort never reached the reader"
    assert blobs.head("tw4", "files/aborted") is None

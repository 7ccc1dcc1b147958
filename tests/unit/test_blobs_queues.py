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

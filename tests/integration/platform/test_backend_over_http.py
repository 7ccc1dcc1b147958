"""The billing platform API through the local runtime's HTTP server: trailing
slash, gzip, multipart and JSON uploads, byte downloads."""
import base64
import hashlib

import zstandard

BASE = "/backend/api/v1"


def test_seed_paths_compression_and_files_over_http(runtime, http):
    url = runtime.base_url + BASE
    for n in range(15):
        assert http.post(f"{url}/customers", json={"customerName": f"Customer {n}", "city": "Leeds"}).status_code == 201
    listed = http.get(f"{url}/customers/?expandNumbers", headers={"Accept-Encoding": "gzip"})
    assert listed.status_code == 200 and listed.headers["Content-Encoding"] == "gzip"
    assert len(listed.json()) == 15 and all(c["numbers"] == [] for c in listed.json())
    small = http.get(f"{url}/customers?limit=1", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers

    owner = listed.json()[0]["id"]
    note = http.post(f"{url}/customers/{owner}/notes", json={"text": "files"}).json()
    original = b"%PDF-1.4\n" + b"line of an order\n" * 20000
    created = http.post(f"{url}/notes/{note['id']}/noteAttachments", json={
        "fileName": "order.pdf", "_fileContent": base64.b64encode(zstandard.ZstdCompressor().compress(original)).decode(),
        "_compression": "zstd", "_fileSize": len(original), "_fileHash": hashlib.sha1(original).hexdigest()})
    assert created.status_code == 201, created.text
    raw = http.get(f"{url}/noteAttachments/{created.json()['id']}", headers={"Accept": "application/octet-stream"})
    assert raw.status_code == 200 and raw.content == original and raw.headers["Content-Type"] == "application/pdf"

    multipart = http.post(f"{url}/notes/{note['id']}/noteAttachments",
                          files={"data": (None, '{"description": "scan"}', "application/json"),
                                 "file": ("scan.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64, "image/png")})
    assert multipart.status_code == 201, multipart.text
    # requests sends "Accept: */*" by default, which (per the seed) asks for the file itself.
    meta = http.get(f"{url}/noteAttachments/{multipart.json()['id']}?expandStoredFiles",
                    headers={"Accept": "application/json"}).json()
    assert meta["fileName"] == "scan.png" and meta["storedFile"]["mimeType"] == "image/png"
    png = http.get(f"{url}/noteAttachments/{multipart.json()['id']}", headers={"Accept": "image/png"})
    assert png.content.startswith(b"\x89PNG")


def _objects(runtime, tenant):
    with runtime.environment():
        from chalicelib import settings
        from chalicelib.store.clients import client

        answer = client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"tenants/{tenant}/")
        return [o["Key"] for o in answer.get("Contents", [])]


def test_streamed_upload_over_real_s3_http(runtime, http, api_tenant):
    """Announced size and hash: the object is PUT over HTTP while decoding. A
    file refused after megabytes were already sent leaves no object; a good
    one arrives byte for byte."""
    import random

    url = runtime.base_url + BASE
    tenant = api_tenant["tenant"]["id"]
    owner = http.post(f"{url}/customers", json={"customerName": "Streams"}).json()["id"]
    note = http.post(f"{url}/customers/{owner}/notes", json={"text": "big files"}).json()
    rng = random.Random(7)
    original = bytes(rng.getrandbits(8) for _ in range(64 * 1024)) * 96  # 6 MiB, several pieces
    packed = base64.b64encode(zstandard.ZstdCompressor().compress(original)).decode()
    good = {"fileName": "calls.bin", "_fileContent": packed, "_compression": "zstd", "_fileSize": len(original),
            "_fileHash": hashlib.sha1(original).hexdigest()}
    for bad, code in (({"_fileHash": "0" * 40}, 400013), ({"_fileSize": len(original) + 1}, 400012),
                      ({"_fileSize": len(original) - 1}, 400012)):
        refused = http.post(f"{url}/notes/{note['id']}/noteAttachments", json={**good, **bad})
        assert refused.status_code == 400 and refused.json()["error_code"] == code, refused.text
    assert _objects(runtime, tenant) == []
    created = http.post(f"{url}/notes/{note['id']}/noteAttachments", json=good)
    assert created.status_code == 201, created.text
    assert len(_objects(runtime, tenant)) == 1
    fetched = http.get(f"{url}/noteAttachments/{created.json()['id']}", headers={"Accept": "*/*"})
    assert fetched.status_code == 200 and fetched.content == original  # followed the 303 to S3


def test_presigned_upload_waits_under_pending_then_moves(runtime, http, api_tenant):
    import requests

    url = runtime.base_url + BASE
    tenant = api_tenant["tenant"]["id"]
    owner = http.post(f"{url}/customers", json={"customerName": "Presigned"}).json()["id"]
    note = http.post(f"{url}/customers/{owner}/notes", json={"text": "large"}).json()
    original = b"%PDF-1.4\n" + b"page\n" * 50000
    start = http.post(f"{url}/notes/{note['id']}/noteAttachmentUploads", json={
        "fileName": "big.pdf", "_fileSize": len(original), "_fileHash": hashlib.sha1(original).hexdigest()}).json()
    sent = requests.post(start["url"], data=start["fields"], files={"file": ("big.pdf", original)}, timeout=30)
    assert sent.status_code in (200, 204), sent.text
    with runtime.environment():
        from chalicelib import settings
        from chalicelib.store.clients import client

        listed = client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"pending/tenants/{tenant}/")
    assert len(listed.get("Contents", [])) == 1 and _objects(runtime, tenant) == []
    done = http.post(f"{url}/noteAttachmentUploads/{start['uploadID']}?action=complete", json={})
    assert done.status_code == 201, done.text
    with runtime.environment():
        listed = client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"pending/tenants/{tenant}/")
    assert listed.get("Contents", []) == [] and len(_objects(runtime, tenant)) == 1
    fetched = http.get(f"{url}/noteAttachments/{done.json()['id']}", headers={"Accept": "*/*"})
    assert fetched.content == original

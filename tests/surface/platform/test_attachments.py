"""Note attachments: the seed's upload and download examples, verification,
bounded decompression, quota, and nothing left behind on rejection."""
import base64
import hashlib
import json

import pytest
import zstandard

from chalicelib.services.identity import users
from chalicelib.store import blobs
from chalicelib.store.clients import client as aws_client
from chalicelib import settings
from tests.support.surfaces.platform import Api

PDF = b"%PDF-1.4\r\n%\xe2\xe3\xcf\xd3\r\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 2000
SHA1 = hashlib.sha1(PDF).hexdigest()


@pytest.fixture()
def note(api):
    owner = api.post("/customers", {"customerName": "Acme Corp"}).json
    return api.post(f"/customers/{owner['id']}/notes", {"text": "order call"}).json


def objects(tenant, root: str = "") -> list[str]:
    answer = aws_client("s3").list_objects_v2(Bucket=settings.blob_bucket(),
                                              Prefix=f"{root}tenants/{tenant['tenant']['id']}/")
    return [o["Key"] for o in answer.get("Contents", [])]


def pending(tenant) -> list[str]:
    """Presigned uploads not yet confirmed (expired by the bucket's lifecycle rule)."""
    return objects(tenant, "pending/")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def upload(api, note, **overrides):
    body = {"fileName": "order-details.pdf", "_fileContent": b64(zstandard.ZstdCompressor().compress(PDF)),
            "description": "Customer order specifications", "_compression": "zstd", "_fileSize": len(PDF),
            "_fileHash": SHA1, "_mimeType": "application/pdf", **overrides}
    return api.post(f"/notes/{note['id']}/noteAttachments", {k: v for k, v in body.items() if v is not None})


def test_seed_json_create_example(api, note, tenant):
    response = upload(api, note)
    assert response.status_code == 201, response.body
    body = response.json
    assert body["noteID"] == note["id"] and isinstance(body["storedFileID"], int)
    assert body["description"] == "Customer order specifications" and isinstance(body["id"], int)
    assert len(objects(tenant)) == 1


def test_seed_download_examples(api, note):
    created = upload(api, note).json
    path = f"/noteAttachments/{created['id']}"
    assert api.get(path, headers={"Accept": "application/json"}).json == created
    no_accept = api.client.get(api.base + path, headers={"Authorization": f"Bearer {api.key}"})
    assert json.loads(no_accept.body) == created
    for accept in ("application/octet-stream", "*/*", "application/pdf"):
        raw = api.client.get(api.base + path, headers={"Authorization": f"Bearer {api.key}", "Accept": accept})
        assert raw.status_code == 200 and raw.body == PDF, accept
        assert raw.headers["Content-Type"] == "application/pdf"
        assert 'filename="order-details.pdf"' in raw.headers["Content-Disposition"]


def test_expand_stored_files(api, note):
    created = upload(api, note).json
    listed = api.get(f"/notes/{note['id']}/noteAttachments?expandStoredFiles").json
    assert listed[0]["storedFile"] == {
        "id": created["storedFileID"], "fileName": "order-details.pdf", "fileSize": len(PDF), "fileHash": SHA1,
        "mimeType": "application/pdf", "createdDate": listed[0]["storedFile"]["createdDate"]}
    assert "storedFile" not in api.get("/noteAttachments").json[0]
    assert api.get(f"/noteAttachments/{created['id']}?expandStoredFiles=true").json["storedFile"]["fileSize"] == len(PDF)


def test_seed_json_update_example(api, note, tenant):
    created = upload(api, note).json
    revised = PDF + b"% revised\n"
    response = api.patch(f"/noteAttachments/{created['id']}", {
        "fileName": "revised-order-details.pdf", "_fileContent": b64(revised),
        "description": "Updated customer order specifications", "_fileSize": len(revised),
        "_fileHash": hashlib.sha1(revised).hexdigest()})
    assert response.status_code == 200, response.body
    assert response.json["storedFileID"] != created["storedFileID"]
    assert response.json["description"] == "Updated customer order specifications"
    raw = api.client.get(api.base + f"/noteAttachments/{created['id']}",
                         headers={"Authorization": f"Bearer {api.key}", "Accept": "*/*"})
    assert raw.body == revised
    assert len(objects(tenant)) == 1  # the replaced file is gone
    same = api.patch(f"/noteAttachments/{created['id']}", {"_fileContent": b64(revised),
                                                           "description": "Updated customer order specifications"})
    assert same.headers.get("X-API-No-Changes") == "1" and len(objects(tenant)) == 1


def multipart(parts: list[tuple[str, dict, bytes]], boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW") -> tuple[bytes, str]:
    out = b""
    for disposition, headers, data in parts:
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        out += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_seed_multipart_example(api, note):
    data = json.dumps({"fileName": "order-details.pdf", "description": "Customer order specifications",
                       "_fileSize": len(PDF), "_fileHash": SHA1, "_mimeType": "application/pdf"}).encode()
    body, content_type = multipart([
        ('form-data; name="data"', {"Content-Type": "application/json"}, data),
        ('form-data; name="file"; filename="order-details.pdf"', {"Content-Type": "application/pdf"}, PDF),
    ])
    response = api.client.post(api.base + f"/notes/{note['id']}/noteAttachments", body=body,
                               headers={"Authorization": f"Bearer {api.key}", "Content-Type": content_type,
                                        "Accept": "application/json"})
    assert response.status_code == 201, response.body
    created = json.loads(response.body)
    assert created["noteID"] == note["id"] and created["description"] == "Customer order specifications"
    raw = api.client.get(api.base + f"/noteAttachments/{created['id']}",
                         headers={"Authorization": f"Bearer {api.key}", "Accept": "application/octet-stream"})
    assert raw.body == PDF
    refused = api.client.patch(api.base + f"/noteAttachments/{created['id']}", body=body,
                               headers={"Authorization": f"Bearer {api.key}", "Content-Type": content_type})
    assert refused.status_code == 400


def test_mime_type_is_detected_without_override(api, note):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    created = upload(api, note, fileName="scan.dat", _fileContent=b64(png), _compression=None, _fileSize=None,
                     _fileHash=None, _mimeType=None).json
    assert api.get(f"/noteAttachments/{created['id']}?expandStoredFiles").json["storedFile"]["mimeType"] == "image/png"


BOMB = zstandard.ZstdCompressor().compress(b"\0" * (64 * 1024 * 1024))


@pytest.mark.parametrize("overrides, status, code", [
    ({"_fileContent": "JVBERi0xLjQNCiXi48/TDQo***"}, 400, 400010),
    ({"_fileSize": len(PDF) + 1}, 400, 400012),
    ({"_fileHash": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}, 400, 400013),
    ({"_fileHash": "da39a3ee5e6b4b0d3255bf..."}, 400, 400001),
    ({"_compression": "rar"}, 400, 400011),
    ({"_compression": "gzip"}, 400, 400010),
    ({"_fileContent": b64(BOMB), "_fileSize": None, "_fileHash": None}, 413, 413001),
    ({"fileName": None}, 400, 400001),
    ({"storedFileID": 5}, 400, 400005),
    ({"colour": "red"}, 400, 400004),
])
def test_rejected_uploads_leave_nothing_behind(api, note, tenant, overrides, status, code):
    response = upload(api, note, **overrides)
    assert response.status_code == status and response.json["error_code"] == code, response.body
    assert api.get("/noteAttachments").json == [] and objects(tenant) == []
    assert blobs.storage_used(tenant["tenant"]["id"]) == 0


BIG = bytes(range(256)) * (5 * 4096 + 7)  # ~5 MiB: several pieces through the streamed PUT


@pytest.mark.parametrize("overrides, status, code", [
    # announced size and hash: the object is PUT while decoding; each failure comes after pieces were sent
    ({"_fileContent": b64(BOMB), "_fileSize": 10 * 1024 * 1024, "_fileHash": "0" * 40}, 400, 400012),
    ({"_fileContent": b64(zstandard.ZstdCompressor().compress(BIG)), "_fileSize": len(BIG) + 1,
      "_fileHash": hashlib.sha1(BIG).hexdigest()}, 400, 400012),
    ({"_fileContent": b64(zstandard.ZstdCompressor().compress(BIG)), "_fileSize": len(BIG),
      "_fileHash": "0" * 40}, 400, 400013),
    # truncated: fewer bytes than announced, found only at the end
    ({"_fileContent": b64(zstandard.ZstdCompressor().compress(BIG))[:-8], "_fileSize": len(BIG),
      "_fileHash": hashlib.sha1(BIG).hexdigest()}, 400, 400012),
    ({"_fileContent": b64(zstandard.ZstdCompressor().compress(BIG)) + "***=", "_fileSize": len(BIG),
      "_fileHash": hashlib.sha1(BIG).hexdigest()}, 400, 400010),
])
def test_streamed_uploads_refused_late_leave_nothing_behind(api, note, tenant, overrides, status, code):
    response = upload(api, note, _mimeType=None, **overrides)
    assert response.status_code == status and response.json["error_code"] == code, response.body
    assert api.get("/noteAttachments").json == [] and objects(tenant) == []
    assert blobs.storage_used(tenant["tenant"]["id"]) == 0


def test_streamed_upload_stores_every_byte(api, note, tenant):
    response = upload(api, note, fileName="big.bin", _mimeType=None,
                      _fileContent=b64(zstandard.ZstdCompressor().compress(BIG)), _fileSize=len(BIG),
                      _fileHash=hashlib.sha1(BIG).hexdigest())
    assert response.status_code == 201, response.body
    [key] = objects(tenant)
    stored = aws_client("s3").get_object(Bucket=settings.blob_bucket(), Key=key)
    assert stored["Body"].read() == BIG and stored["ContentType"] == "application/octet-stream"


def test_storage_quota(api, note, tenant, monkeypatch):
    monkeypatch.setenv("STORAGE_QUOTA_BYTES", str(len(PDF) * 2 + 10))
    assert upload(api, note).status_code == 201
    assert upload(api, note).status_code == 201
    refused = upload(api, note)
    assert refused.status_code == 403 and refused.json["error_code"] == 403003
    assert len(api.get("/noteAttachments").json) == 2 and len(objects(tenant)) == 2
    assert blobs.storage_used(tenant["tenant"]["id"]) == 2 * len(PDF)


def test_file_size_limit(api, note, monkeypatch):
    monkeypatch.setenv("MAX_FILE_BYTES", "1000")
    response = upload(api, note)
    assert response.status_code == 413 and response.json["error_code"] == 413001


def test_large_downloads_redirect_to_s3(api, note, monkeypatch):
    created = upload(api, note).json
    monkeypatch.setenv("INLINE_DOWNLOAD_BYTES", "100")
    raw = api.client.get(api.base + f"/noteAttachments/{created['id']}",
                         headers={"Authorization": f"Bearer {api.key}", "Accept": "*/*"})
    assert raw.status_code == 303 and "X-Amz-Signature" in raw.headers["Location"]


def test_attachments_follow_the_notes_scope(client, api, note, tenant):
    created = upload(api, note).json
    other = Api(client, users.create_tenant(name="Other")["user"]["api_key"])
    assert other.get(f"/noteAttachments/{created['id']}").status_code == 404
    assert other.get(f"/noteAttachments/{created['id']}", headers={"Accept": "*/*"}).status_code == 404
    assert upload(other, note).status_code == 404
    t = tenant["tenant"]["id"]
    manager = users.create_user(tenant=t, username=f"mgr-{t}", api_only=True, customer_access="manager")
    as_manager = Api(client, users.issue_api_key(tenant=t, user_id=manager["id"]))
    assert as_manager.get(f"/noteAttachments/{created['id']}").status_code == 404
    assert as_manager.get("/noteAttachments").json == []


@pytest.mark.parametrize("announced", [True, False])
@pytest.mark.parametrize("valid", [True, False])
def test_an_upload_to_a_note_out_of_scope_is_404_and_stores_nothing(client, note, tenant, announced, valid):
    # The note's access check runs while the file decodes (services/attachments._store):
    # its 404 still comes first, whatever the file, and no byte reaches S3.
    t = tenant["tenant"]["id"]
    manager = users.create_user(tenant=t, username=f"mgr-{t}", api_only=True, customer_access="manager")
    as_manager = Api(client, users.issue_api_key(tenant=t, user_id=manager["id"]))
    encoded = b64(zstandard.ZstdCompressor().compress(BIG))
    response = upload(as_manager, note, fileName="big.bin", _mimeType=None,
                      _fileContent=encoded if valid else encoded + "***=",
                      _fileSize=len(BIG) if announced else None,
                      _fileHash=hashlib.sha1(BIG).hexdigest() if announced else None)
    assert response.status_code == 404, response.body
    assert objects(tenant) == [] and blobs.storage_used(t) == 0


def test_presigned_upload_path(api, note, tenant):
    import requests

    start = api.post(f"/notes/{note['id']}/noteAttachmentUploads",
                     {"fileName": "big.pdf", "description": "large", "_fileSize": len(PDF), "_fileHash": SHA1})
    assert start.status_code == 201, start.body
    early = api.post(f"/noteAttachmentUploads/{start.json['uploadID']}?action=complete", {})
    assert early.status_code == 400
    assert start.json["fields"]["key"].startswith(f"pending/tenants/{tenant['tenant']['id']}/")
    answer = requests.post(start.json["url"], data=start.json["fields"], files={"file": ("big.pdf", PDF)})
    assert answer.status_code in (200, 204), answer.text
    # Until confirmed it sits under pending/, which the lifecycle rule expires after a day.
    assert len(pending(tenant)) == 1 and objects(tenant) == []
    done = api.post(f"/noteAttachmentUploads/{start.json['uploadID']}?action=complete", {})
    assert done.status_code == 201, done.body
    assert pending(tenant) == [] and len(objects(tenant)) == 1  # moved to its place
    raw = api.client.get(api.base + f"/noteAttachments/{done.json['id']}",
                         headers={"Authorization": f"Bearer {api.key}", "Accept": "*/*"})
    assert raw.body == PDF
    assert api.post(f"/noteAttachmentUploads/{start.json['uploadID']}?action=complete", {}).status_code == 404
    assert blobs.storage_used(tenant["tenant"]["id"]) == len(PDF)


def test_presigned_upload_with_wrong_content_is_deleted(api, note, tenant):
    import requests

    start = api.post(f"/notes/{note['id']}/noteAttachmentUploads",
                     {"fileName": "big.pdf", "_fileSize": len(PDF), "_fileHash": "0" * 40}).json
    requests.post(start["url"], data=start["fields"], files={"file": ("big.pdf", PDF)})
    done = api.post(f"/noteAttachmentUploads/{start['uploadID']}?action=complete", {})
    assert done.status_code == 400 and done.json["error_code"] == 400013
    assert objects(tenant) == [] and pending(tenant) == [] and api.get("/noteAttachments").json == []


def test_a_large_upload_is_fetched_through_the_redirect(api, note, tenant):
    import requests

    big = (b"%PDF-1.4\n" + bytes(range(256)) * 4096) * 6  # ~6 MiB, above the inline download limit
    body = {"fileName": "big.pdf", "_fileContent": b64(zstandard.ZstdCompressor().compress(big)),
            "_compression": "zstd", "_fileSize": len(big), "_fileHash": hashlib.sha1(big).hexdigest()}
    bad = api.post(f"/notes/{note['id']}/noteAttachments", {**body, "_fileHash": "1" * 40})
    assert bad.status_code == 400 and bad.json["error_code"] == 400013 and objects(tenant) == []
    created = api.post(f"/notes/{note['id']}/noteAttachments", body)
    assert created.status_code == 201, created.body
    raw = api.client.get(api.base + f"/noteAttachments/{created.json['id']}",
                         headers={"Authorization": f"Bearer {api.key}", "Accept": "application/pdf"})
    assert raw.status_code == 303
    fetched = requests.get(raw.headers["Location"])
    assert fetched.status_code == 200 and fetched.content == big


@pytest.mark.parametrize("body, content_type", [
    (b"garbage", "multipart/form-data; boundary=xyz"),
    (b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated", "multipart/form-data; boundary=xyz"),
    (b"--xyz\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{}\r\n--xyz--\r\n", "multipart/form-data; boundary=xyz"),
    (b"--xyz\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{bad\r\n--xyz\r\n"
     b"Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--xyz--\r\n",
     "multipart/form-data; boundary=xyz"),
    (b"--xyz\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"_compression\": \"zstd\"}\r\n--xyz\r\n"
     b"Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--xyz--\r\n",
     "multipart/form-data; boundary=xyz"),
    (b"anything", "multipart/form-data"),
])
def test_malformed_multipart_is_400_and_stores_nothing(api, note, tenant, body, content_type):
    response = api.client.post(api.base + f"/notes/{note['id']}/noteAttachments", body=body,
                               headers={"Authorization": f"Bearer {api.key}", "Content-Type": content_type})
    assert response.status_code == 400, response.body
    assert api.get("/noteAttachments").json == [] and objects(tenant) == []


def test_multipart_file_name_defaults_to_the_part_filename(api, note):
    body, content_type = multipart([('form-data; name="file"; filename="hello.txt"', {}, b"hello world")])
    response = api.client.post(api.base + f"/notes/{note['id']}/noteAttachments", body=body,
                               headers={"Authorization": f"Bearer {api.key}", "Content-Type": content_type})
    assert response.status_code == 201
    created = json.loads(response.body)
    assert created["fileName"] == "hello.txt"
    assert api.get(f"/noteAttachments/{created['id']}?expandStoredFiles").json["storedFile"]["mimeType"] == "text/plain"

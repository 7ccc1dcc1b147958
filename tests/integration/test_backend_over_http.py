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

"""gzip responses on Accept-Encoding: gzip, from the minimum size API Gateway uses."""
import gzip
import json

from chalice import Response

from chalicelib.api import http


def test_large_responses_are_gzipped_when_accepted(api):
    for n in range(12):
        api.post("/customers", {"customerName": f"Customer number {n}", "address1": "1 Long Street"})
    plain = api.get("/customers")
    assert "Content-Encoding" not in plain.headers and len(plain.body) >= 1024
    zipped = api.client.get(api.base + "/customers", headers={**api.headers(), "Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["Content-Type"].startswith("application/json")
    assert json.loads(gzip.decompress(zipped.body)) == plain.json
    assert len(zipped.body) < len(plain.body) / 3


def test_small_responses_are_not_compressed(api):
    small = api.client.get(api.base + "/customers", headers={**api.headers(), "Accept-Encoding": "gzip"})
    assert small.body == b"[]" and "Content-Encoding" not in small.headers


class _Request:
    def __init__(self, accept_encoding):
        self.headers = {"accept-encoding": accept_encoding}


def test_off_where_the_gateway_compresses(monkeypatch):
    body = http.dumps([{"name": "x" * 50}] * 50)
    monkeypatch.setenv("GZIP_RESPONSES", "0")
    assert http.gzip_if_accepted(_Request("gzip"), Response(body)).body == body
    monkeypatch.setenv("GZIP_RESPONSES", "1")
    assert http.gzip_if_accepted(_Request("gzip;q=0"), Response(body)).body == body
    assert gzip.decompress(http.gzip_if_accepted(_Request("br, gzip"), Response(body)).body).decode() == body

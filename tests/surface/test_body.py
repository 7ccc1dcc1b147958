"""The one request-body parser (api/http/body.py): what each surface builds on."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api import http
from chalicelib.domain.errors import ValidationError


class _Request:
    def __init__(self, raw: bytes, content_type: str) -> None:
        self.raw_body = raw
        self.headers: dict[str, Any] = {"content-type": content_type}


def test_multipart_parts_are_views_into_the_body_not_copies() -> None:
    raw = (b"--xyz\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"a\": 1.10}\r\n"
           b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"caf\xc3\xa9.pdf\"\r\n"
           b"Content-Type: application/pdf\r\n\r\n%PDF\r\n--xy\r\n--xyz--\r\n")
    parts = http.multipart(_Request(raw, "multipart/form-data; boundary=xyz"))
    assert parts["data"].filename is None and str(http.json_object(bytes(parts["data"].content))["a"]) == "1.10"
    file = parts["file"]
    assert (file.filename, file.content_type, bytes(file.content)) == ("café.pdf", "application/pdf", b"%PDF\r\n--xy")
    assert isinstance(file.content, memoryview) and file.content.obj is raw


@pytest.mark.parametrize("raw, content_type", [
    (b"garbage", "multipart/form-data; boundary=xyz"),
    (b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated",
     "multipart/form-data; boundary=xyz"),
    (b"anything", "multipart/form-data"),
])
def test_malformed_multipart_is_a_body_error(raw: bytes, content_type: str) -> None:
    with pytest.raises(ValidationError) as raised:
        http.multipart(_Request(raw, content_type))
    assert raised.value.field == "body"


def test_multipart_over_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(ValidationError):
        http.multipart(_Request(b"x" * 11, "multipart/form-data; boundary=xyz"), max_bytes=10)


def test_json_numbers_are_exact_and_forms_keep_the_last_value() -> None:
    assert str(http.json_object(b'{"amount": 0.10}')["amount"]) == "0.10"
    with pytest.raises(ValidationError):
        http.json_object(b"[1]")
    assert http.form(b"a=1&b=&a=2") == {"a": "2", "b": ""}
    with pytest.raises(ValidationError):
        http.form(b"a=\xff")


@pytest.mark.parametrize("raw", [
    b"[" * 100_000, b"{\"a\":" * 50_000, "[" * 60_000, b"{\"a\": " + b"[" * 33 + b"]" * 33 + b"}",
])
def test_deeply_nested_json_is_a_body_error_not_a_recursion_error(raw: bytes | str) -> None:
    with pytest.raises(ValidationError) as raised:
        http.json_object(raw)
    assert raised.value.field == "body" and "nests deeper" in raised.value.message


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"note": "' + "[{" * 200 + '\\"[[["}'
    assert http.json_object(text.encode())["note"].startswith("[{[{")
    assert http.json_object(b'{"a": ' + b"[" * 31 + b"]" * 31 + b"}")["a"]


def test_an_unpaired_surrogate_escape_is_a_body_error_and_a_pair_is_text() -> None:
    for raw in (b'{"name": "a\\ud96a"}', b'{"\\udc9e": 1}', b'{"a": ["\\uDBFF"]}'):
        with pytest.raises(ValidationError) as raised:
            http.json_object(raw)
        assert raised.value.field == "body" and "surrogate" in raised.value.message
    assert http.json_object(b'{"name": "\\ud83d\\ude00"}') == {"name": "\U0001F600"}

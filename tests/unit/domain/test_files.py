"""Upload decoding: compression schemes, verification, bounded decompression, MIME detection."""
import base64
import bz2
import gzip
import hashlib
import tracemalloc
import zlib

import pytest
import zstandard

from chalicelib.domain.common import files
from chalicelib.domain.errors import (
    FileHashMismatchError, FileSizeMismatchError, FileTooLargeError, InvalidFileContentError,
    UnsupportedCompressionError,
)

ORIGINAL = b"%PDF-1.4\n" + b"order details line\n" * 5000
COMPRESS = {"gzip": gzip.compress, "zlib": zlib.compress, "bzip2": bz2.compress,
            "zstd": lambda d: zstandard.ZstdCompressor().compress(d)}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("scheme", [None, *files.COMPRESSIONS])
def test_each_scheme_round_trips_and_verifies(scheme):
    payload = COMPRESS[scheme](ORIGINAL) if scheme else ORIGINAL
    got = files.receive(base64_content=b64(payload), compression=scheme, limit=10**6,
                        expected_size=len(ORIGINAL), expected_hash=hashlib.sha1(ORIGINAL).hexdigest(),
                        file_name="x.bin")
    assert bytes(got.content.getbuffer()) == ORIGINAL and got.mime_type == "application/pdf"


def test_mismatches_and_bad_input():
    good = b64(ORIGINAL)
    with pytest.raises(FileSizeMismatchError):
        files.receive(base64_content=good, compression=None, limit=10**6, expected_size=len(ORIGINAL) - 1)
    with pytest.raises(FileSizeMismatchError):
        files.receive(base64_content=good, compression=None, limit=10**6, expected_size=len(ORIGINAL) + 1)
    with pytest.raises(FileHashMismatchError):
        files.receive(base64_content=good, compression=None, limit=10**6, expected_hash="0" * 40)
    with pytest.raises(InvalidFileContentError):
        files.receive(base64_content="not base64!!", compression=None, limit=10**6)
    with pytest.raises(InvalidFileContentError):
        files.receive(base64_content=good, compression="zstd", limit=10**6)  # not zstd data
    with pytest.raises(InvalidFileContentError):
        files.receive(base64_content=b64(gzip.compress(ORIGINAL)[:-20]), compression="gzip", limit=10**6)
    with pytest.raises(UnsupportedCompressionError):
        files.receive(base64_content=good, compression="lzma", limit=10**6)


@pytest.mark.parametrize("scheme", files.COMPRESSIONS)
def test_a_compression_bomb_is_refused_without_inflating_it(scheme):
    bomb = COMPRESS[scheme](b"\0" * (64 * 1024 * 1024))  # 64 MiB of zeros, a few KiB compressed
    assert len(bomb) < 300_000
    tracemalloc.start()
    try:
        with pytest.raises(FileTooLargeError):
            files.receive(base64_content=b64(bomb), compression=scheme, limit=1024 * 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # bounded by the limit and one chunk, not the 64 MiB


def test_announced_size_caps_decompression_too():
    bomb = zstandard.ZstdCompressor().compress(b"\0" * (8 * 1024 * 1024))
    with pytest.raises(FileSizeMismatchError):
        files.receive(base64_content=b64(bomb), compression="zstd", limit=10**9, expected_size=1000)


def test_line_wrapped_base64_is_accepted():
    wrapped = base64.encodebytes(ORIGINAL).decode()
    assert files.receive(base64_content=wrapped, compression=None, limit=10**6).size == len(ORIGINAL)


@pytest.mark.parametrize("head, name, mime", [
    (b"\x89PNG\r\n\x1a\nxxxx", "a.bin", "image/png"), (b"%PDF-1.7", None, "application/pdf"),
    (b"PK\x03\x04xx", "sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"PK\x03\x04xx", "a.bin", "application/zip"), (b"hello, world", "notes.txt", "text/plain"),
    (b"\x00\x01\x02\xff", None, "application/octet-stream"), (b"a,b\n1,2", "x.csv", "text/csv"),
])
def test_mime_detection(head, name, mime):
    assert files.detect_mime(head, name) == mime


def _streamed(data, **kw):
    """receive() with a sink: the pieces it got, and the MIME type it was opened with."""
    got, opened = [], []

    def open_sink(mime):
        opened.append(mime)
        return got.append

    encoded = base64.b64encode(zstandard.ZstdCompressor().compress(data)).decode()
    try:
        received = files.receive(base64_content=encoded, compression="zstd", limit=1 << 26, open_sink=open_sink,
                                 file_name="x.csv", **kw)
    except Exception as error:
        return got, opened, error
    return got, opened, received


def test_a_sink_gets_every_piece_and_the_last_only_after_verification():
    data = b"%PDF-1.4\n" + bytes(range(256)) * 20000  # ~5 MiB: several pieces
    sha1 = hashlib.sha1(data).hexdigest()
    got, opened, received = _streamed(data, expected_size=len(data), expected_hash=sha1)
    assert b"".join(bytes(p) for p in got) == data and len(got) > 2
    assert opened == ["application/pdf"] and received.content is None
    assert (received.size, received.sha1, received.mime_type) == (len(data), sha1, "application/pdf")
    # A wrong hash is found after the last byte: the sink never gets that last piece.
    got, _, error = _streamed(data, expected_size=len(data), expected_hash="0" * 40)
    assert isinstance(error, FileHashMismatchError) and 0 < sum(len(p) for p in got) < len(data)
    got, _, error = _streamed(data, expected_size=len(data) + 1, expected_hash=sha1)
    assert isinstance(error, FileSizeMismatchError) and sum(len(p) for p in got) < len(data)

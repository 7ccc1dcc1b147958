"""Uploaded file content: base64, optional compression, size and SHA-1
verification, MIME type detection. Pure Python, no AWS.

Decompression is streamed with a byte cap: a small payload that would expand
past the limit is refused after producing at most ``limit + 1`` bytes, never
after inflating all of it (a compression bomb costs what the limit allows).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from typing import Callable, Iterator

from chalicelib.domain.errors import (
    FileHashMismatchError, FileSizeMismatchError, FileTooLargeError, InvalidFileContentError,
    UnsupportedCompressionError, ValidationError,
)

COMPRESSIONS = ("gzip", "zlib", "bzip2", "zstd")
CHUNK = 1 << 20  # decompressed bytes produced per step
# base64 characters decoded per step (768 KiB of output): binascii holds the GIL
# while it decodes, and short steps let the upload thread and the background
# DynamoDB requests run (3 MiB steps stalled them ~8 ms at a time).
_B64_CHUNK = 4 * (1 << 18)


@dataclass
class ReceivedFile:
    content: io.BytesIO | None  # the original bytes (None: they went to a sink); getbuffer() avoids a copy
    size: int
    sha1: str
    mime_type: str


Sink = Callable[[bytes | memoryview], None]


def receive(*, base64_content: str | None = None, raw: bytes | memoryview | None = None,
            compression: str | None, limit: int, expected_size: int | None = None,
            expected_hash: str | None = None, mime_type: str | None = None,
            file_name: str | None = None, open_sink: Callable[[str], Sink] | None = None) -> ReceivedFile:
    """Decode, decompress (bounded), hash and verify one uploaded file.

    Without ``open_sink`` the bytes are kept in memory (``content``). With it,
    they are passed on as they are produced: ``open_sink(mime type)`` is called
    with the first piece and returns where the pieces go. The LAST piece is
    held back until the whole file is verified (size, SHA-1), so a sink that
    has not received every byte knows the file was refused (``content`` None)."""
    if compression is not None and compression not in COMPRESSIONS:
        raise UnsupportedCompressionError(
            f"_compression '{compression}' is not supported (use one of {', '.join(COMPRESSIONS)})",
            field="_compression")
    if expected_size is not None and expected_size > limit:
        raise FileTooLargeError(f"_fileSize {expected_size} exceeds the {limit}-byte file size limit",
                                field="_fileSize")
    # Never produce more than the limit, nor more than the size the client announced.
    cap = limit if expected_size is None else expected_size
    chunks = _input_chunks(base64_content, raw)
    if compression is None:
        produced: Iterator[bytes | memoryview] = chunks
    else:
        produced = _DECOMPRESSORS[compression](chunks, cap)
        if compression == "zstd":
            produced = _zstd_window_guard(produced, lambda: _too_big(cap + 1, limit, expected_size))
    out = io.BytesIO() if open_sink is None else None
    digest = hashlib.sha1()
    size = 0
    sink: Sink | None = None
    held: bytes | memoryview | None = None
    detected = mime_type
    for piece in produced:
        size += len(piece)
        if size > cap:
            _too_big(size, limit, expected_size)
        digest.update(piece)
        if out is not None:
            out.write(piece)
            continue
        if sink is None:
            assert open_sink is not None
            detected = mime_type or detect_mime(bytes(piece[:64]), file_name)
            sink = open_sink(detected)
        if held is not None:
            sink(held)
        held = piece
    if expected_size is not None and size != expected_size:
        raise FileSizeMismatchError(f"received {size} bytes but _fileSize is {expected_size}", field="_fileSize")
    sha1 = digest.hexdigest()
    if expected_hash is not None and sha1 != expected_hash.strip().lower():
        raise FileHashMismatchError(f"SHA-1 of the received file is {sha1}, not the given _fileHash",
                                    field="_fileHash")
    if size == 0:
        raise InvalidFileContentError("the file is empty", field="_fileContent")
    if out is None:
        assert sink is not None and held is not None and detected is not None
        sink(held)  # verified: the last piece completes the file
        return ReceivedFile(content=None, size=size, sha1=sha1, mime_type=detected)
    head = bytes(out.getbuffer()[:64])
    return ReceivedFile(content=out, size=size, sha1=sha1, mime_type=mime_type or detect_mime(head, file_name))


def _too_big(size: int, limit: int, expected: int | None) -> None:
    if expected is not None and expected < limit:
        raise FileSizeMismatchError(f"the file is larger than its _fileSize {expected}", field="_fileSize")
    raise FileTooLargeError(f"the file exceeds the {limit}-byte file size limit", field="_fileContent")


def _input_chunks(text: str | None, raw: bytes | memoryview | None) -> Iterator[bytes | memoryview]:
    if raw is not None:
        view = memoryview(raw)
        for start in range(0, len(view), CHUNK):
            yield view[start:start + CHUNK]
        return
    if not isinstance(text, str):
        raise InvalidFileContentError("_fileContent must be a base64 string", field="_fileContent")
    if any(c in text for c in "\r\n \t"):
        text = "".join(text.split())  # line-wrapped base64 (MIME style) is fine
    if len(text) % 4:
        raise InvalidFileContentError("_fileContent is not valid base64 (length)", field="_fileContent")
    for start in range(0, len(text), _B64_CHUNK):
        try:
            yield base64.b64decode(text[start:start + _B64_CHUNK], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidFileContentError("_fileContent is not valid base64", field="_fileContent") from None


def _zlib_family(wbits: int) -> Callable[[Iterator[bytes | memoryview], int], Iterator[bytes]]:
    def run(chunks: Iterator[bytes | memoryview], cap: int) -> Iterator[bytes]:
        import zlib

        engine = zlib.decompressobj(wbits)
        try:
            for data in chunks:
                pending = bytes(data)
                while pending:
                    out = engine.decompress(pending, CHUNK)
                    pending = engine.unconsumed_tail
                    if out:
                        yield out
                    if engine.eof:
                        break
                if engine.eof:
                    break
            tail = engine.flush()
        except zlib.error as error:
            raise InvalidFileContentError(f"not a valid compressed stream: {error}", field="_fileContent") from None
        if tail:
            yield tail
        if not engine.eof:
            raise InvalidFileContentError("the compressed stream is truncated", field="_fileContent")
    return run


def _bzip2(chunks: Iterator[bytes | memoryview], cap: int) -> Iterator[bytes]:
    import bz2

    engine = bz2.BZ2Decompressor()
    try:
        for data in chunks:
            out = engine.decompress(bytes(data), CHUNK)
            while True:
                if out:
                    yield out
                if engine.eof or engine.needs_input:
                    break
                out = engine.decompress(b"", CHUNK)
            if engine.eof:
                break
    except (OSError, ValueError) as error:
        raise InvalidFileContentError(f"not a valid bzip2 stream: {error}", field="_fileContent") from None
    if not engine.eof:
        raise InvalidFileContentError("the bzip2 stream is truncated", field="_fileContent")


class _ChunkReader(io.RawIOBase):
    """A read()-able view of an iterator of chunks (zstd's stream reader pulls from it).
    It hands out views of the chunks: slicing bytes would copy the rest of a
    3 MiB chunk at every 1 MiB read."""

    def __init__(self, chunks: Iterator[bytes | memoryview]) -> None:
        self._chunks = chunks
        self._buffer = memoryview(b"")
        self._at = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> memoryview:
        while self._at >= len(self._buffer):
            nxt = next(self._chunks, None)
            if nxt is None:
                return memoryview(b"")
            self._buffer, self._at = memoryview(nxt), 0
        end = len(self._buffer) if size < 0 else self._at + size
        out = self._buffer[self._at:end]
        self._at += len(out)
        return out


def _zstd(chunks: Iterator[bytes | memoryview], cap: int) -> Iterator[bytes]:
    import zstandard

    # The window a frame may demand is memory the decoder allocates: bound it too.
    window = max(1 << 20, min(1 << 27, 1 << max(cap, 1).bit_length()))
    engine = zstandard.ZstdDecompressor(max_window_size=window)
    try:
        # zstandard only calls .read() on its source; its stub asks for IO[bytes], which
        # no io.RawIOBase is in typeshed (typing.IO is a separate hierarchy).
        with engine.stream_reader(
            _ChunkReader(chunks),  # type: ignore[arg-type]
            read_size=CHUNK, read_across_frames=True,
        ) as reader:
            while True:
                out = reader.read(CHUNK)
                if not out:
                    break
                yield out
    except zstandard.ZstdError as error:
        raise InvalidFileContentError(f"not a valid zstd stream: {error}", field="_fileContent") from None


def _zstd_window_guard(produced: Iterator[bytes], overflow: Callable[[], None]) -> Iterator[bytes]:
    # A frame that asks for a window larger than the file may be is a file
    # larger than allowed (or announced): say that, not "invalid".
    try:
        yield from produced
    except InvalidFileContentError as error:
        if "too much memory" in error.message:
            overflow()
        raise


_DECOMPRESSORS = {"gzip": _zlib_family(31), "zlib": _zlib_family(15), "bzip2": _bzip2, "zstd": _zstd}

# Leading bytes -> MIME type, for the common document and image formats.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\x28\xb5\x2f\xfd", "application/zstd"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"RIFF", "audio/wav"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),
)
_ZIP_FAMILY = {".docx", ".xlsx", ".pptx", ".odt", ".ods", ".jar"}


def detect_mime(head: bytes, file_name: str | None) -> str:
    """From the content's first bytes, then the file name, else octet-stream."""
    import mimetypes  # loads the system's type table: only when a file arrives

    guessed = mimetypes.guess_type(file_name or "")[0]
    if head.startswith(b"PK\x03\x04"):
        # Office documents are zip files: the name tells which.
        if guessed and any((file_name or "").lower().endswith(ext) for ext in _ZIP_FAMILY):
            return guessed
        return "application/zip"
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if guessed:
        return guessed
    try:
        head.decode("utf-8")
        return "text/plain"
    except UnicodeDecodeError:
        return "application/octet-stream"


def check_hash_format(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if len(text) != 40 or any(c not in "0123456789abcdef" for c in text):
        raise ValidationError("_fileHash must be a SHA-1 hex digest (40 hex digits)", field="_fileHash")
    return text


@dataclass(frozen=True)
class Upload:
    """A file as a client sent it, before any checking."""

    base64_content: str | None = None
    raw: bytes | memoryview | None = None
    compression: str | None = None
    expected_size: int | None = None
    expected_hash: str | None = None
    mime_type: str | None = None

    def receive(self, *, limit: int, file_name: str | None,
                open_sink: Callable[[str], Sink] | None = None) -> ReceivedFile:
        return receive(base64_content=self.base64_content, raw=self.raw, compression=self.compression,
                       limit=limit, expected_size=self.expected_size, expected_hash=self.expected_hash,
                       mime_type=self.mime_type, file_name=file_name, open_sink=open_sink)


PLAIN_NAME_MAX = 128
_PLAIN_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def plain_file_name(value: object, *, field: str, max_length: int = PLAIN_NAME_MAX) -> str:
    """A file name that is safe as the last segment of an S3 key and in a
    shell: 1-128 (``max_length``) of letters, digits, '.', '_', '-', not
    starting with '.' (no '..', no hidden names) nor '-' (no option
    look-alikes). A path, a backslash, a space or a control character is
    refused, not cleaned: the caller should learn that its name was not used
    as given."""
    name = "" if value is None else str(value)
    if (not name or len(name) > max_length or name[0] in ".-"
            or any(c not in _PLAIN_NAME_CHARACTERS for c in name)):
        raise ValidationError(f"{field} must be 1-{max_length} letters, digits, '.', '_' or '-', "
                              "not starting with '.' or '-'", field=field)
    return name


# Display names of uploaded files --------------------------------------------------

DISPLAY_NAME_MAX = 255
DEFAULT_DISPLAY_NAME = "file"


def display_file_name(value: str) -> str:
    """The name a client gave a file, made safe to show and to send back in a
    header: its last path segment (a client's "../../../etc/passwd" or
    "C:\\\\scans\\\\a.pdf" is "passwd" or "a.pdf"), without control characters
    (CR/LF would split a header), line or paragraph separators or surrounding
    blanks and dots, at most 255 characters; "file" when nothing is left."""
    import re
    import unicodedata

    last = re.split(r"[/\\]", value)[-1]
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in last
                   if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn"))
    kept = " ".join(kept.split()).strip(" .")
    if len(kept) > DISPLAY_NAME_MAX:
        stem, dot, extension = kept.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            kept = stem[:DISPLAY_NAME_MAX - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            kept = kept[:DISPLAY_NAME_MAX].rstrip(" .")
    return kept or DEFAULT_DISPLAY_NAME


def content_disposition(name: str | None, *, disposition: str = "attachment") -> str:
    """A Content-Disposition header for any stored name (RFC 6266): an ASCII
    ``filename`` for old clients and ``filename*`` with the exact name in
    UTF-8, percent-encoded (RFC 8187). Names stored before display_file_name
    existed may hold anything: both forms are built from its result."""
    import unicodedata
    from urllib.parse import quote

    safe = display_file_name(name or "")
    ascii_only = unicodedata.normalize("NFKD", safe).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if c.isprintable() and c not in '"\\%' else "_" for c in ascii_only).strip()
    if not fallback.strip("._ "):
        fallback = DEFAULT_DISPLAY_NAME
    elif fallback.startswith("."):  # "日本.txt" would fall back to a hidden ".txt"
        fallback = DEFAULT_DISPLAY_NAME + fallback
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe, safe='')}"

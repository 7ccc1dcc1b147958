"""A CDR file as local plain text (docs/cdrs.md, "Engine" step 1 and "Scale").

- ``to_plain``: a file or object on local disk as plain CSV: gzip (several
  concatenated members too) and zstd decoded as a stream, never whole in
  memory, lines counted on the way. A stream that breaks keeps the complete
  lines read before it and says where it broke.
- ``to_pieces``: the same decoding cut into pieces of about ``limit`` bytes
  on line ends, each behind the file's header, handed over as they fill.
  Compressed bytes cannot be split by range, so a compressed file too big
  for one function is restaged as plain pieces that parts process in
  parallel, with /tmp holding one piece at a time.
"""
from __future__ import annotations

import io
import os
import zlib
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, Callable, Iterator, cast

GZIP_MAGIC, ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
BLOCK = 1 << 20


@dataclass
class Plain:
    path: str
    lines: int = 0          # physical lines (a last line without a newline counts)
    error: str | None = None  # a stream that could not be decoded, at line ``lines + 1``


def is_compressed(first: bytes) -> bool:
    return first[:2] == GZIP_MAGIC or first[:4] == ZSTD_MAGIC


class UnreadableStream(Exception):
    """The compressed stream broke (truncated, corrupt)."""


def decoded(first: bytes, blocks: Iterator[bytes]) -> Iterator[bytes]:
    """The plain bytes of a stream whose first block is ``first`` (the magic
    bytes decide, not a name). Raises UnreadableStream where it breaks."""

    def rest() -> Iterator[bytes]:
        yield first
        yield from blocks

    try:
        if first[:2] == GZIP_MAGIC:
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
            for block in rest():
                yield decoder.decompress(block)
                while decoder.eof and decoder.unused_data:  # concatenated gzip members
                    tail = decoder.unused_data
                    decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    yield decoder.decompress(tail)
            if not decoder.eof:
                raise UnreadableStream("compressed file ended before the end-of-stream marker was reached")
        elif first[:4] == ZSTD_MAGIC:
            import zstandard

            # zstandard's stub asks for IO[bytes]; it only ever calls read() on its source.
            reader = zstandard.ZstdDecompressor().stream_reader(cast("IO[bytes]", _Chained(rest())), read_size=BLOCK)
            while data := reader.read(BLOCK):
                yield data
        else:
            yield from rest()
    except UnreadableStream:
        raise
    except Exception as error:  # noqa: BLE001 - zlib.error, EOFError, zstandard.ZstdError and friends
        raise UnreadableStream(str(error)) from error


def _blocks(source: BinaryIO, *, digest: Any = None, progress: Callable[[int], None] | None = None
            ) -> Iterator[bytes]:
    while block := source.read(BLOCK):
        if digest is not None:
            digest.update(block)
        if progress:
            progress(len(block))
        yield block


def to_plain(source: BinaryIO, scratch: str, *, digest: Any = None,
             progress: Callable[[int], None] | None = None, source_path: str | None = None) -> Plain:
    """The file as plain bytes on local disk, lines counted. A plain file
    already on disk (``source_path``) is used where it is (only counted)."""
    blocks = _blocks(source, digest=digest, progress=progress)
    first = next(blocks, b"")
    in_place = source_path is not None and not is_compressed(first)
    piece = _Piece(os.devnull if in_place else os.path.join(scratch, "plain.csv"))
    try:
        for data in decoded(first, blocks):
            piece.write(data)
    except UnreadableStream as error:
        piece.break_off(f"unreadable: {error}")
    plain = piece.close()
    if in_place:
        plain.path = source_path  # type: ignore[assignment]
    if digest is not None:
        for _ in blocks:  # hash what the decoder did not need
            pass
    return plain


def to_pieces(source: BinaryIO, scratch: str, *, limit: int, ship: Callable[[Plain, int], None]) -> Plain | None:
    """Decode ``source`` into pieces of at most ``limit`` bytes cut on line ends
    (a longer line makes a longer piece),
    each starting with the file's header line. When the whole file fits one
    piece it is returned, on local disk, and nothing is shipped. Otherwise
    every piece is handed to ``ship(piece, first_data_line)`` as it fills
    (then removed), the last one included, and None is returned;
    ``first_data_line`` is the line of the original file that the piece's
    line 2 is. A broken stream ends the last piece with its ``error``."""
    blocks = _blocks(source)
    first = next(blocks, b"")
    n = 0
    piece = _Piece(os.path.join(scratch, f"piece-{n}.csv"), header=None)
    first_data_line, shipped = 2, False
    try:
        for data in decoded(first, blocks):
            while data:
                # Fill the piece up to the limit; the rest waits for the next piece.
                room = limit - piece.size
                if room > 0:
                    piece.write(data[:room])
                    data = data[room:]
                if piece.size < limit:
                    continue
                cut = piece.cut()
                if cut is None:  # one line longer than the limit: the piece grows to its end
                    piece.write(data)
                    data = b""
                    continue
                done, tail = cut
                n += 1
                shipped = True
                ship(done, first_data_line)
                first_data_line += done.lines - 1
                os.remove(done.path)
                piece = _Piece(os.path.join(scratch, f"piece-{n}.csv"), header=piece.header)
                piece.write(tail)
    except UnreadableStream as error:
        piece.break_off(f"unreadable: {error}")
    last = piece.close()
    if not shipped:
        return last
    ship(last, first_data_line)
    os.remove(last.path)
    return None


class _Piece:
    """A plain file being written: size, lines and the last line end tracked,
    so it can be cut there (``cut``) or cut back there (``break_off``).
    ``header``: written first (the file's header line, in pieces after the
    first); None: learnt from the piece's own first line; b"": not needed
    (the piece is never cut)."""

    def __init__(self, path: str, *, header: bytes | None = b"") -> None:
        self.path, self.header = path, header
        self.out = open(path, "wb")
        self.size = self.lines = 0
        self.last_line_end = -1  # offset just past the last b"\n" written
        self.error: str | None = None
        self._head = bytearray()  # the first line until its newline arrives
        if header:
            self.write(header)

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.header is None:
            newline = data.find(b"\n")
            if newline < 0:
                self._head += data
            else:
                self.header = bytes(self._head + data[:newline + 1])
        self.out.write(data)
        newline = data.rfind(b"\n")
        if newline >= 0:
            self.last_line_end = self.size + newline + 1
            self.lines += data.count(b"\n")
        self.size += len(data)

    def cut(self) -> tuple[Plain, bytes] | None:
        """Close the piece at its last line end; returns it and the bytes past
        that end (the start of the next piece's first line). None when the
        piece holds no complete row past its header (a line longer than the
        limit: the piece keeps growing)."""
        if self.header is None or self.last_line_end <= len(self.header):
            return None
        self.out.flush()
        with open(self.path, "rb") as handle:
            handle.seek(self.last_line_end)
            tail = handle.read()
        self.out.truncate(self.last_line_end)
        self.out.close()
        return Plain(self.path, self.lines), tail

    def break_off(self, error: str) -> None:
        """The stream broke: keep the complete lines only (the broken line is the error)."""
        keep = max(self.last_line_end, 0)
        if self.path != os.devnull:  # a plain file read in place is never cut back
            self.out.flush()
            self.out.truncate(keep)
        self.size = keep
        self.error = error

    def close(self) -> Plain:
        self.out.close()
        complete = self.size == max(self.last_line_end, 0)
        return Plain(self.path, self.lines + (0 if complete else 1), self.error)


class _Chained(io.RawIOBase):
    def __init__(self, blocks: Iterator[bytes]) -> None:
        self.blocks, self.pending = blocks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            self.pending = next(self.blocks, b"")
            if not self.pending:
                return 0
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

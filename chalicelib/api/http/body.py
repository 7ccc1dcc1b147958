"""The one request-body parser of every surface: a JSON object (numbers as
Decimal or int, never float), an application/x-www-form-urlencoded form, and
the parts of a multipart/form-data body (python-multipart). Each dialect
decides which it accepts and what it makes of the values; every malformed body
is a ``ValidationError`` on field ``body`` (or the part that was wrong)."""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simplejson
from chalice.app import Request

from chalicelib.domain.errors import ValidationError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# No request body of any surface nests deeper than a few levels; the decoder
# recurses once per level, so a body of 100,000 '[' would exhaust the stack.
MAX_JSON_DEPTH = 32


def media_type(request: Request) -> str:
    """The Content-Type without its parameters, lower case ('' when absent)."""
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def raw_bytes(request: Request) -> bytes:
    raw = request.raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}`` unless ``required``."""
    raw = request.raw_body
    if not raw or not raw.strip():
        if required:
            raise ValidationError("a JSON object body is required", field="body")
        return {}
    return json_object(raw)


def json_object(raw: bytes | str, *, field: str = "body", where: str | None = None) -> dict[str, Any]:
    """``raw`` as a JSON object, numbers as Decimal/int. ``where`` names the
    source in errors when it is not the whole body (e.g. "the 'data' part")."""
    value = json_value(raw, field=field, where=where)
    if not isinstance(value, dict):
        raise ValidationError(f"{where or 'the body'} must be a JSON object", field=field)
    return value


def json_value(raw: bytes | str, *, field: str = "body", where: str | None = None, decimals: bool = True) -> Any:
    """``raw`` as any JSON value, numbers as Decimal/int (floats when not
    ``decimals``), for the dialects whose bodies are not always objects."""
    # Parsed first, the nesting checked after: a parsed value's depth costs
    # nothing to walk, where counting brackets in the raw body read all of it
    # twice more (an 8 MiB upload: ~8 ms). The decoder refuses a body nested
    # past the recursion limit with RecursionError, and a refused body's
    # brackets are counted then, so the answer is the same as before.
    try:
        value = simplejson.loads(raw, use_decimal=decimals)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        if _nesting(raw) > MAX_JSON_DEPTH:
            raise _too_deep(field, where) from None
        raise ValidationError(f"malformed JSON{f' in {where}' if where else ''}: {error}", field=field) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise _too_deep(field, where)
    if _SURROGATE_ESCAPE.search(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")):
        # "\\ud800" alone decodes to a str that cannot be written as UTF-8 (a
        # pair is one character and fine): refused here, not when stored.
        try:
            _text_of(value).encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{where or 'the body'} holds an unpaired UTF-16 surrogate escape, which is "
                                  "not text", field=field) from None
    return value


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _too_deep(field: str, where: str | None) -> ValidationError:
    return ValidationError(f"{where or 'the body'} nests deeper than {MAX_JSON_DEPTH} levels", field=field)


def _depth(value: Any) -> int:
    """The deepest nesting of arrays and objects in a parsed value (as
    ``_nesting`` counts it in the raw text), at most MAX_JSON_DEPTH + 1."""
    if not isinstance(value, (dict, list)):
        return 0
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _text_of(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False)


def _nesting(raw: bytes | str) -> int:
    """The deepest nesting of arrays and objects in ``raw``, brackets inside
    strings not counted. Only bodies with many brackets are walked."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    break
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


# What a form field given twice means, per dialect: its last value counts
# (LAST), it may repeat only its value (SAME), or it is refused (ONCE).
LAST, SAME, ONCE = "last", "same", "once"


def form(raw: bytes | str, *, repeated: str = LAST, max_fields: int | None = None, strict_escapes: bool = False,
         what: str = "the body's fields", field: str = "body") -> dict[str, str]:
    """An urlencoded form (bytes must be UTF-8), a name given twice as
    ``repeated`` says. ``max_fields``: more are refused. ``strict_escapes``: a
    %-escape that is not UTF-8 is refused rather than read as U+FFFD. Errors
    of the whole form name ``field``; ``what`` names the fields in them."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ValidationError("the body is not UTF-8", field=field) from None
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="utf-8",
                                       errors="strict" if strict_escapes else "replace", max_num_fields=max_fields)
    except UnicodeDecodeError:
        raise ValidationError(f"{what} are not UTF-8", field=field) from None
    except ValueError:  # only max_num_fields: without strict_parsing a malformed pair is skipped
        raise ValidationError(f"{what} are too many (at most {max_fields})", field=field) from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in found and repeated != LAST:
            if repeated == ONCE:
                raise ValidationError(f"'{name}' is given more than once", field=name)
            if found[name] != value:
                raise ValidationError(f"{name} is given twice", field=name)
        found[name] = value
    return found


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data body. ``filename`` is None for a
    plain field and a string (maybe empty) for a file. ``content`` is a view
    into the request body, not a copy, whenever the part is one run of it."""

    name: str
    filename: str | None
    content_type: str | None
    content: memoryview | bytes

    def text(self) -> str:
        return bytes(self.content).decode("utf-8", "replace")


def multipart(request: Request, *, max_bytes: int | None = None) -> dict[str, Part]:
    """The named parts of a multipart/form-data body (a name given twice keeps
    its last part). The body must end with the closing boundary."""
    # Imported on the first multipart body: python-multipart brings shutil and
    # tempfile (~25 ms) that a cold start serving JSON does not need.
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, options = parse_options_header(request.headers.get("content-type") or "")
    boundary = options.get(b"boundary")
    if not boundary:
        raise ValidationError("multipart/form-data without a boundary", field="body")
    raw = raw_bytes(request)
    if max_bytes is not None and len(raw) > max_bytes:
        raise ValidationError(f"the multipart body is over {max_bytes} bytes", field="body")
    reader = _PartReader(raw, parse_options_header)
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        parser.write(raw)
        parser.finalize()
    except (FormParserError, ValueError) as error:
        raise ValidationError(f"malformed multipart body: {error}", field="body") from None
    if not reader.ended:
        raise ValidationError("malformed multipart body: no closing boundary", field="body")
    return reader.parts


class _PartReader:
    """Collects python-multipart's callbacks into Parts. The body is written to
    the parser in one piece, so a part's data arrives as one run of ``raw``
    and becomes a memoryview of it (an attachment is not copied); any other
    shape is joined into bytes."""

    def __init__(self, raw: bytes, parse_options: Any) -> None:
        self._raw = raw
        self._view = memoryview(raw)
        self._parse_options = parse_options
        self.parts: dict[str, Part] = {}
        self.ended = False
        self._headers: dict[str, str] = {}
        self._field = b""
        self._value = b""
        self._chunks: list[tuple[bytes, int, int]] = []

    def callbacks(self) -> MultipartCallbacks:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_part_data": self._data, "on_part_end": self._part_end, "on_end": self._end}

    def _begin(self) -> None:
        self._headers, self._chunks = {}, []
        self._field = self._value = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        # latin-1 keeps the bytes as they came; names and filenames are read as UTF-8 below.
        self._headers[self._field.decode("latin-1").strip().lower()] = self._value.decode("latin-1").strip()
        self._field = self._value = b""

    def _data(self, data: bytes, start: int, end: int) -> None:
        self._chunks.append((data, start, end))

    def _part_end(self) -> None:
        _, options = self._parse_options(self._headers.get("content-disposition", ""))
        name = options.get(b"name")
        if not name:
            return
        filename = options.get(b"filename")
        self.parts[name.decode("utf-8", "replace")] = Part(
            name=name.decode("utf-8", "replace"),
            filename=None if filename is None else filename.decode("utf-8", "replace"),
            content_type=self._headers.get("content-type"), content=self._content())

    def _content(self) -> memoryview | bytes:
        if len(self._chunks) == 1 and self._chunks[0][0] is self._raw:
            _, start, end = self._chunks[0]
            return self._view[start:end]
        return b"".join(data[start:end] for data, start, end in self._chunks)

    def _end(self) -> None:
        self.ended = True

"""JSON or XML bodies in the document's envelope: the collection's plural
name holds a list of items (one item too: ``{"customers": [{...}]}``), paging
fields beside it. XML is written by a library (xml.sax's XMLGenerator: it
escapes, and writes the UTF-8 declaration with double quotes as the
document shows), never by string concatenation: the plural name is the root,
each item its singular element, a null an empty element (``<custom_2/>``)."""
from __future__ import annotations

import io
import re
from typing import Any, Mapping, Sequence

from chalice import Response

from chalicelib.api import http

JSON = "json"
XML = "xml"
CONTENT_TYPES = {JSON: "application/json; charset=utf-8", XML: "application/xml; charset=utf-8"}


# What XML 1.0 cannot hold at all, escaped or not (its Char production):
# C0 controls but tab, LF and CR; lone surrogates; U+FFFE and U+FFFF.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    # This surface refuses such characters on input (dialect.py), but values
    # written through other surfaces, and a refused field's own name quoted in
    # an error, reach here too: XMLGenerator would write them raw and make
    # the document unreadable, so each becomes U+FFFD.
    return NOT_XML.sub("\ufffd", str(value))


def xml_document(plural: str, singular: str, items: Sequence[Mapping[str, Any]],
                 extra: Mapping[str, Any] | None = None) -> bytes:
    out = io.BytesIO()
    # Imported here: xml.sax.saxutils pulls in urllib.request (~45 ms), which a
    # cold start answering JSON must not pay for.
    from xml.sax.saxutils import XMLGenerator
    from xml.sax.xmlreader import AttributesImpl

    NO_ATTRIBUTES = AttributesImpl({})
    gen = XMLGenerator(out, encoding="UTF-8", short_empty_elements=True)
    gen.startDocument()  # <?xml version="1.0" encoding="UTF-8"?> and a line break
    gen.startElement(plural, NO_ATTRIBUTES)

    def scalar(name: str, value: Any, indent: str) -> None:
        gen.ignorableWhitespace("\n" + indent)
        gen.startElement(name, NO_ATTRIBUTES)
        text = _text(value)
        if text:
            gen.characters(text)
        gen.endElement(name)

    for name, value in (extra or {}).items():
        scalar(name, value, " ")
    for item in items:
        gen.ignorableWhitespace("\n ")
        gen.startElement(singular, NO_ATTRIBUTES)
        for name, value in item.items():
            scalar(name, value, "  ")
        gen.ignorableWhitespace("\n ")
        gen.endElement(singular)
    gen.ignorableWhitespace("\n")
    gen.endElement(plural)
    gen.endDocument()
    return out.getvalue() + b"\n"


def envelope(fmt: str, plural: str, singular: str, items: Sequence[Mapping[str, Any]], *,
             paging: Mapping[str, int] | None = None, status: int = 200,
             headers: Mapping[str, Any] | None = None) -> Response:
    """The answer to any request of this surface, errors included."""
    all_headers = {"Content-Type": CONTENT_TYPES[fmt], "Vary": "Accept", **(headers or {})}
    if fmt == XML:
        return Response(body=xml_document(plural, singular, items, paging).decode("utf-8"), status_code=status,
                        headers=all_headers)
    return Response(body=http.dumps({**(paging or {}), plural: list(items)}), status_code=status,
                    headers=all_headers)

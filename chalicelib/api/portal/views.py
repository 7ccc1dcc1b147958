"""Records -> HTML: the Jinja2 environment (built on the first page, never at
import: cold starts of the APIs do not pay for it), the page renderer, the
filters templates use and the static files with their cache headers."""
from __future__ import annotations

import functools
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from chalice import Response

HERE = Path(__file__).resolve().parent
STATIC = {"portal.css": "text/css; charset=utf-8", "copy.js": "text/javascript; charset=utf-8"}


@functools.lru_cache(maxsize=1)
def environment() -> Any:
    import jinja2  # heavy: loaded by the first page, not by a cold start

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             auto_reload=False)  # templates change only with a deployment
    env.filters["money"] = money
    env.globals["asset_version"] = asset_version
    return env


def page(template: str, *, status: int = 200, **context: Any) -> Response:
    html = environment().get_template(template).render(**context)
    return Response(body=html, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def money(value: Any) -> str:
    """Two decimals with a thousands separator; negative amounts with a minus sign."""
    import jinja2  # loaded already: filters run inside templates

    if value is None or value == "" or isinstance(value, jinja2.Undefined):  # a field the record lacks
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    return f"{amount:,.2f}"


@functools.lru_cache(maxsize=None)
def _asset(name: str) -> tuple[bytes, str]:
    content = (HERE / "static" / name).read_bytes()
    return content, hashlib.sha256(content).hexdigest()[:12]


def asset_version(name: str) -> str:
    return _asset(name)[1]


def static_file(name: str, version: str | None) -> Response:
    """A static file. Pages link it with its content hash (?v=...), so a
    browser may keep it for a year: a changed file gets a new URL."""
    if name not in STATIC:
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain"})
    content, digest = _asset(name)
    cache = "public, max-age=31536000, immutable" if version == digest else "public, max-age=300"
    return Response(body=content.decode("utf-8"), status_code=200,
                    headers={"Content-Type": STATIC[name], "Cache-Control": cache, "ETag": f'"{digest}"',
                             "X-Content-Type-Options": "nosniff"})


def statement_rows(statement: Any) -> list[tuple[str, Any]]:
    return [("Opening balance", statement.opening_balance), ("Payments", statement.payments),
            ("Adjustments", statement.adjustments), ("Call charges", -statement.call_charges),
            ("Other charges", -statement.other_charges), ("Closing balance", statement.closing_balance)]


def entry_view(entry: dict[str, Any]) -> dict[str, Any]:
    """A ledger entry as a table row."""
    return {"at": str(entry.get("at") or entry.get("day") or "")[:16].replace("T", " "),
            "activity": entry.get("activity", ""), "description": entry.get("description") or entry.get("reference", ""),
            "amount": entry.get("amount"), "balance": entry.get("balanceAfter")}

"""Every relative link of README.md and docs/*.md opens a file of the
repository (a moved or misspelled document is a broken link for the reader)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) and ![alt](target), an optional "title" after the target; code spans and blocks are not links.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")


def relative_links(text: str) -> list[str]:
    prose = CODE.sub("", FENCE.sub("", text))
    return [target for target in LINK.findall(prose)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("#")]


def test_the_link_finder_sees_links_and_skips_code_and_urls() -> None:
    text = ("[a](docs/a.md) ![b](img/b.png \"title\") [c](https://x.y) [d](#here) `[e](no.md)` "
            "[i](docs/j.md#part) [m](mailto:x@y.z)\n```\n[k](no.md)\n```\n")
    assert relative_links(text) == ["docs/a.md", "img/b.png", "docs/j.md#part"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    broken = []
    for target in relative_links(document.read_text()):
        path = (document.parent / target.split("#", 1)[0]).resolve()
        if not path.exists() or ROOT not in path.parents and path != ROOT:
            broken.append(target)
    assert broken == [], f"{document.relative_to(ROOT)} links to what is not in the repository: {broken}"

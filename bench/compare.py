"""Two bench runs side by side: ``python -m bench.compare OLD NEW`` (files
written by `make bench`, e.g. .bench/20261207T040000Z.json .bench/latest.json).
Figures are matched by name; the delta is NEW - OLD and its percentage."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def load(path: str) -> dict[str, Any]:
    """A run file: its last JSON line (a saved `make bench` output works too)."""
    lines = [line for line in Path(path).read_text().splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"{path}: no JSON line")
    run = json.loads(lines[-1])
    return {r["name"]: r for r in run["results"]} | {"": run}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _delta(old: Any, new: Any) -> str:
    a, b = _number(old), _number(new)
    if a is None or b is None:
        return ""
    change = f"{b - a:+,.3f}".rstrip("0").rstrip(".")
    return change + (f" ({(b - a) / a:+.0%})" if a else "")


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    names = [n for n in old if n] + [n for n in new if n and n not in old]
    width = max((len(n) for n in names), default=10)
    head = old[""], new[""]
    lines = [f"OLD {head[0].get('at', '?')} ({head[0].get('commit', '?')})  "
             f"NEW {head[1].get('at', '?')} ({head[1].get('commit', '?')})",
             f"{'figure':<{width}}  {'old':>12}  {'new':>12}  {'delta':<18} verdict  target"]
    for name in names:
        a, b = old.get(name), new.get(name)
        verdicts = "/".join("PASS" if r["ok"] else "MISS" if r else "-" for r in (a, b)) if a and b else \
            ("gone" if a else "new")
        value_a = a["value"] if a else ""
        value_b = b["value"] if b else ""
        lines.append(f"{name:<{width}}  {value_a!s:>12}  {value_b!s:>12}  {_delta(value_a, value_b):<18} "
                     f"{verdicts:<8} {(b or a or {}).get('target', '')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.compare OLD.json NEW.json", file=sys.stderr)
        return 2
    print(compare(load(args[0]), load(args[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

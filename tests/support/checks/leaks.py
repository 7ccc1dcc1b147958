"""Credentials that can be recognised without knowing them, in clear in a
runtime's log files: Dialtone API keys (their ``dtk_`` prefix) and card
numbers (13 to 19 digits that pass Luhn); and API keys in its stored data.
Every LocalRuntime scans its logs, items and objects when it stops
(tests/support/harness/runtime.py), so every integration test and benchmark of the
suite is a scan too (issue 15). Stored data is searched for API keys only:
its ids, timestamps and phone numbers are digit runs that pass Luhn by
chance. The dedicated scan with known passwords, TOTP secrets, cards and CVVs
everywhere is tests/integration/runtime/test_no_secrets_in_clear.py."""
from __future__ import annotations

import re
from pathlib import Path

_API_KEY = re.compile(r"\bdtk_[A-Za-z0-9_-]{16,}")
_CARD = re.compile(r"(?<![\w.])[2-6](?:[ -]?\d){12,18}(?![\w.])")


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_numbers(text: str) -> list[str]:
    """Every Luhn-valid card number in ``text``, as written there."""
    return [m.group(0) for m in _CARD.finditer(text) if _luhn(re.sub(r"[ -]", "", m.group(0)))]


def _where(line: str, card: str) -> str:
    """What surrounds a card-like run in a line, the run itself shown only by
    its first digit and length: enough to tell a leak from a number that
    passes Luhn by chance, without printing either."""
    at = line.find(card)
    shown = f"<{card[0]}… {len(card)} chars>"
    return (line[max(0, at - 60):at] + shown + line[at + len(card):at + len(card) + 40]).replace("\n", " ")


def in_clear(log_dir: Path) -> list[str]:
    """Where (file:line) a log line of ``log_dir`` holds an API key or a card number."""
    found: list[str] = []
    if not log_dir.is_dir():
        return found
    for path in sorted(p for p in log_dir.iterdir() if p.is_file()):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if _API_KEY.search(line):
                found.append(f"{path.name}:{number}: an API key")
            found.extend(f"{path.name}:{number}: a card number ({_where(line, card)})" for card in card_numbers(line))
    return found


def stored_in_clear() -> list[str]:
    """Where an API key is in clear in the runtime's stored data: every item
    of every table, every object of every bucket (os.environ points at it)."""
    from chalicelib.store.clients import client

    ddb, s3 = client("dynamodb"), client("s3")
    found: list[str] = []
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            found.extend(f"{table} {item['PK']['S']} / {item['SK']['S']}: an API key"
                         for item in page["Items"] if _API_KEY.search(str(item)))
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=entry["Key"])["Body"].read()
                if _API_KEY.search(body.decode("latin-1")):
                    found.append(f"s3 {bucket['Name']}/{entry['Key']}: an API key")
    return found

"""The scan every LocalRuntime runs on its logs when it stops (tests/support/checks/leaks.py)."""
from __future__ import annotations

from pathlib import Path

from chalicelib.auth import redaction
from tests.support.checks import leaks

KEY = "dtk_" + "Ab3_" * 8
LINES = [
    f'127.0.0.1 - - "GET /carrier/getnumbers?token={KEY}&accountno=1000001 HTTP/1.1" 200 -',
    '{"message": "charged", "card": "4242 4242 4242 4242"}',
    '{"message": "order 1796615759166 for +12065550123 at 2026-12-07T03:58:52Z"}',
]


def test_api_keys_and_card_numbers_are_found_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "api.log").write_text("\n".join(LINES) + "\n")
    found = leaks.in_clear(tmp_path)
    assert [f.split(" (")[0] for f in found] == ["api.log:1: an API key", "api.log:2: a card number"]
    # where the card is, without the card: its first digit and length only
    assert found[1].endswith('"card": "<4… 19 chars>"})') and "4242 4242" not in found[1]


def test_what_the_redactor_writes_passes_the_scan(tmp_path: Path) -> None:
    (tmp_path / "api.log").write_text("\n".join(redaction.redact(line) for line in LINES) + "\n")
    assert leaks.in_clear(tmp_path) == []


def test_a_missing_log_directory_has_nothing(tmp_path: Path) -> None:
    assert leaks.in_clear(tmp_path / "gone") == []


def test_an_api_key_stored_in_an_item_or_an_object_is_found(aws: None) -> None:
    from chalicelib import settings
    from chalicelib.store.clients import client

    assert leaks.stored_in_clear() == []
    client("dynamodb").put_item(TableName=settings.main_table(),
                                Item={"PK": {"S": "LEAK"}, "SK": {"S": "1"}, "note": {"S": f"key {KEY}"}})
    client("s3").put_object(Bucket=settings.blob_bucket(), Key="files/leak.txt", Body=f"token={KEY}".encode())
    assert sorted(leaks.stored_in_clear()) == [
        f"{settings.main_table()} LEAK / 1: an API key", f"s3 {settings.blob_bucket()}/files/leak.txt: an API key"]

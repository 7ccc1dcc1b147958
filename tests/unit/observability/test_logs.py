"""Log lines are JSON objects carrying the correlation scope they were
written in, and no credential reaches one in clear
(chalicelib/observability/logs.py, correlation.py)."""
from __future__ import annotations

import io
import json
import logging
from typing import Any, Iterator

import pytest

from chalicelib.auth.redaction import RedactingFilter
from chalicelib.observability import correlation, logs
from tests.support.checks import log_lines
from tests.support.checks.log_lines import Captured

API_KEY = "dtk_" + "A1b2C3d4E5f6G7h8I9j0"
CARD = "4242 4242 4242 4242"


@pytest.fixture()
def captured() -> Iterator[Captured]:
    with log_lines.captured() as found:
        yield found


def test_a_line_is_one_json_object_with_the_scope_it_was_written_in(captured: Captured) -> None:
    log = logging.getLogger("chalicelib.services.numbers.orders")
    with correlation.scope(correlation_id="req-123", surface="carrier", function="api_handler", request_id="gw-9"):
        log.info("order %s queued", 42, extra={"tenant": "t1"})
    log.warning("outside any scope")

    inside, outside = captured.lines()
    assert inside["message"] == "order 42 queued" and inside["level"] == "INFO"
    assert inside["timestamp"].endswith("Z") and "T" in inside["timestamp"]
    assert (inside["service"], inside["surface"], inside["function"]) == ("dialtone", "carrier", "api_handler")
    assert (inside["correlation_id"], inside["request_id"]) == ("req-123", "gw-9")
    assert inside["logger"] == "chalicelib.services.numbers.orders" and inside["tenant"] == "t1"
    assert inside["location"].startswith("test_logs.test_a_line_is_one_json_object")
    assert outside["level"] == "WARNING" and "correlation_id" not in outside


def test_scopes_nest_and_end(captured: Captured) -> None:
    log = logging.getLogger("chalicelib.workers.batch")
    with correlation.scope(correlation_id="outer", surface="queue", function="order_worker"):
        with correlation.scope(correlation_id="inner", surface="queue", function="order_worker"):
            log.info("one")
        log.info("two")
    assert [line["correlation_id"] for line in captured.lines()] == ["inner", "outer"]
    assert correlation.current() is None


def test_credentials_never_reach_a_line(captured: Captured) -> None:
    log = logging.getLogger("chalicelib.api.carrier.dialect")
    with correlation.scope(correlation_id="c1", surface="carrier", function="api_handler"):
        log.info("GET /carrier/get_balance?token=%s&accountno=1001", API_KEY)
        log.info("body %s", json.dumps({"username": "ann", "password": "hunter2", "cardnumber": CARD}))
        log.info("sent", extra={"header": f"Authorization: Bearer {API_KEY}"})
        try:
            raise ValueError(f"card {CARD} refused for key {API_KEY}")
        except ValueError:
            log.exception("payment failed")

    text = captured.text()
    for secret in (API_KEY, "hunter2", CARD, CARD.replace(" ", "")):
        assert secret not in text
    lines = captured.lines()
    assert "token=[REDACTED]" in lines[0]["message"] and "accountno=1001" in lines[0]["message"]
    assert json.loads(lines[1]["message"][len("body "):])["password"] == "[REDACTED]"
    assert "ValueError" in lines[3]["exception"] and "[REDACTED CARD]" in lines[3]["exception"]


def test_the_formatter_alone_redacts_too() -> None:
    # A handler someone added without the filter still writes no credential.
    record = logging.LogRecord("chalicelib.x", logging.INFO, __file__, 1, "key %s", (API_KEY,), None)
    assert API_KEY not in logs.JsonFormatter().format(record)


def test_extras_are_redacted_inside_lists_dicts_and_numbers() -> None:
    """A card number given as an int or inside a structure is written as
    digits the string redactor never saw; other numbers stay numbers."""
    record = logging.LogRecord("chalicelib.x", logging.INFO, __file__, 1, "paid", (), None)
    record.card_as_int = 4242424242424242
    record.fields = {"note": f"card {CARD}", "list": [f"key {API_KEY}", 7]}
    record.count = 12
    line = json.loads(logs.JsonFormatter().format(record))
    text = json.dumps(line)
    assert "4242424242424242" not in text and CARD not in text and API_KEY not in text
    assert line["card_as_int"] == "[REDACTED CARD]" and line["count"] == 12 and line["fields"]["list"][1] == 7


def test_a_bad_format_string_keeps_its_line() -> None:
    record = logging.LogRecord("chalicelib.x", logging.INFO, __file__, 1, "%d items", ("many",), None)
    assert json.loads(logs.JsonFormatter().format(record))["message"].startswith("%d items")


def test_configure_formats_default_handlers_and_leaves_chosen_formats() -> None:
    logger = logging.getLogger("dialtone-configure-test")
    plain, chosen = logging.StreamHandler(io.StringIO()), logging.StreamHandler(io.StringIO())

    class Custom(logging.Formatter):
        pass

    chosen.setFormatter(Custom())
    logger.addHandler(plain)
    logger.addHandler(chosen)
    try:
        logs.configure(logger)
        logs.configure(logger)  # idempotent
        assert isinstance(plain.formatter, logs.JsonFormatter) and isinstance(chosen.formatter, Custom)
        assert sum(isinstance(f, RedactingFilter) for f in plain.filters) == 1
    finally:
        logger.removeHandler(plain)
        logger.removeHandler(chosen)


def test_lambdas_own_handler_gets_one_line_per_record() -> None:
    # Lambda's handler (not a StreamHandler) writes the formatted text as is;
    # without a newline, lines written to stdout (outside the framed log
    # protocol) would run together.
    written: list[str] = []

    class LambdaLikeHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.append(self.format(record))

    logger = logging.getLogger("dialtone-lambda-like")
    handler = LambdaLikeHandler()
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(message)s\n"))
    logger.addHandler(handler)
    try:
        logs.configure(logger)
        logger.error("one")
        logger.error("two")
    finally:
        logger.removeHandler(handler)
    assert [json.loads(line)["message"] for line in "".join(written).splitlines()] == ["one", "two"]


@pytest.mark.parametrize("value, expected", [
    ("3f2b9c4e-1d2a-4b8e-9f00-0a1b2c3d4e5f", "3f2b9c4e-1d2a-4b8e-9f00-0a1b2c3d4e5f"),
    ("Root=1-5759e988-bd862e3fe1be46a994272793", "Root=1-5759e988-bd862e3fe1be46a994272793"),
    ("two words", None), ('quote"d', None), ("line\nbreak", None), ("x" * 200, None), ("", None), (None, None),
])
def test_only_plain_short_ids_from_callers_are_taken(value: Any, expected: str | None) -> None:
    assert correlation.from_headers({"x-request-id": value} if value is not None else {}) == expected

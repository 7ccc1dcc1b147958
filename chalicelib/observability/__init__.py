"""What operators see of a running Dialtone (docs/operations.md): one JSON
object per log line with the correlation id of the request or message it
belongs to (``correlation``, ``logs``), CloudWatch embedded-format metrics of
the business events (``metrics``), and the wrappers that open and close an
invocation's scope (``invocations``).

Standard library only: app.py and chalicelib/workers import this at every
cold start (tests/unit/infra/test_cold_start.py).
"""

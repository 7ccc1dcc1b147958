"""The workers of the local runtime: what Lambda's event sources do on AWS.

One thread per ``@app.on_sqs_message`` handler long-polls its queue, and one
thread fires the ``@app.schedule`` handlers; one more runs the bucket's
lifecycle rules (infra/local/lifecycle.py). Other event sources (S3, SNS,
Kinesis, DynamoDB streams, CloudWatch event patterns) are not emulated; the
pump names those it skips. CDR files reach their handler through a queue
that S3 notifies: moto's S3 sends those notifications itself once the stack
has configured them (infra/local/resources.py: connect_notifications), so
nothing here needs S3 events.

Usage: python -m infra.local.pump [--stage local] [--after PATH] [--ready-file PATH]
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from chalice.app import ScheduledEventConfig, SQSEventConfig

from chalicelib.auth import redaction
from infra.local import chalice_app, lifecycle
from infra.local.environment import STAGE
from infra.local.lambda_function import LambdaFunction
from infra.local.queue_consumer import LONG_POLL_SECONDS, consumers_for
from infra.local.resources import FAKE_ACCOUNT
from infra.local.schedules import Scheduler, jobs_for

# Not __name__, which is "__main__" under -m; nor "dialtone.*", which the Chalice
# app named "dialtone" mutes below ERROR.
_log = logging.getLogger("infra.local.pump")


def sqs_client() -> Any:
    """An SQS client of its own: chalicelib's read timeout is shorter than a long poll."""
    import boto3.session
    from botocore.config import Config

    return boto3.session.Session().client(
        "sqs", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL_SQS"),
        config=Config(read_timeout=LONG_POLL_SECONDS + 10, connect_timeout=3, retries={"mode": "standard"}),
    )


def start(stage: str, stop: threading.Event, *, resources_ready: Path | None = None) -> None:
    """Start the consumer and scheduler threads of the stage's app, once
    ``resources_ready`` exists when given (the queues are created by then)."""
    config = chalice_app.load(stage)
    app = config.chalice_app
    functions = {source.name: LambdaFunction.from_config(config, source.name)
                 for source in app.event_sources if isinstance(source, (SQSEventConfig, ScheduledEventConfig))}
    for source in app.event_sources:
        if source.name not in functions:
            _log.warning("%s (%s) is not emulated locally", source.name, type(source).__name__)
    sqs = sqs_client()
    while resources_ready and not resources_ready.exists():
        time.sleep(0.02)  # importing and loading above overlapped with the resources' creation
    workers: list[tuple[str, Any]] = []
    for consumer in consumers_for(app, functions, sqs):
        workers.append((f"{consumer.function.name} consumes {consumer.queue_url}", consumer.run))
    jobs = jobs_for(app, functions)
    if jobs:
        scheduler = Scheduler(jobs, start=datetime.now(timezone.utc),
                              region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), account=FAKE_ACCOUNT)
        workers.append((f"schedules fire {', '.join(f.name for f, _ in jobs)}", scheduler.run))
    # S3 would run the bucket's lifecycle rules; moto does not (infra/local/lifecycle.py).
    workers.append(("lifecycle rules expire the bucket's leftovers", lifecycle.run))
    for name, run in workers:
        threading.Thread(target=run, args=(stop,), name=name, daemon=True).start()
        _log.info("%s", name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default=STAGE)
    parser.add_argument("--after", type=Path, help="a file whose appearance says the queues exist")
    parser.add_argument("--ready-file", type=Path, help="created once every worker is running")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials ..." and such
    redaction.install()
    stop = threading.Event()
    start(args.stage, stop, resources_ready=args.after)
    if args.ready_file:
        args.ready_file.touch()
    # The threads run until the process is signalled; SIGTERM's default action
    # ends it at once, leaving in-flight messages to reappear, as on Lambda.
    stop.wait()


if __name__ == "__main__":
    main()

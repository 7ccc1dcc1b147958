"""The API on 127.0.0.1: `chalice local --stage <stage>`, built from chalice's
own classes with three changes that matter here.

* Nagle's algorithm off. Chalice's handler writes headers and body in two
  sends; with Nagle on, a kept-alive client gets an answer only every ~44 ms
  (the second send waits for the delayed ACK of the first).
* requestContext.identity.sourceIp is the real TCP peer. Chalice hard-codes
  127.0.0.1, and the IP allow-lists read that field.
* A deeper listen backlog: tests and benchmarks open many connections at once.

Threads: one per connection (chalice's ThreadingMixIn server). Chalice builds
a LocalGateway per handler instance, i.e. per connection, so nothing below is
shared between threads except the app, whose current_request chalice keeps
thread-local in local mode (its lambda_context is shared; chalicelib does
not read it).

Usage: python -m infra.local.api_server --port 8000 [--stage local] [--access-log]
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from chalice.deploy.validate import validate_routes
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer, ThreadedHTTPServer

from chalicelib.auth import redaction
from infra.local import chalice_app
from infra.local.environment import STAGE


class RequestHandler(ChaliceRequestHandler):
    disable_nagle_algorithm = True
    access_log = False

    def setup(self) -> None:
        super().setup()
        # This connection's own gateway (see the module docstring), so its
        # event converter may carry the peer address.
        self.local_gateway.event_converter.LOCAL_SOURCE_IP = self.client_address[0]

    def log_message(self, format: str, *args: Any) -> None:
        if self.access_log:
            # The request line carries the query string: the carrier API's token=.
            super().log_message("%s", redaction.redact(format % args))


class AccessLoggingRequestHandler(RequestHandler):
    access_log = True


class Server(ThreadedHTTPServer):
    request_queue_size = 128


def build(stage: str, host: str, port: int, *, access_log: bool = False) -> LocalDevServer:
    config = chalice_app.load(stage)
    app = config.chalice_app
    validate_routes(app.routes)  # as `chalice local` does: what API Gateway would refuse fails here too
    # What chalice.local.create_local_server does before building its server.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    handler = AccessLoggingRequestHandler if access_log else RequestHandler
    return LocalDevServer(app, config, host, port, handler_cls=handler, server_cls=Server)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stage", default=STAGE)
    parser.add_argument("--access-log", action="store_true", help="one line per request on stderr")
    args = parser.parse_args(argv)
    # Like `chalice local` (and Lambda): the app's log records go to stdout.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials ..." and such
    redaction.install()
    build(args.stage, args.host, args.port, access_log=args.access_log).serve_forever()


if __name__ == "__main__":
    main()

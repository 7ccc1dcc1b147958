"""The API on 127.0.0.1: `chalice local --stage <stage>`, built from chalice's
own classes with three changes that matter here.

* Nagle's algorithm off. Chalice's handler writes headers and body in two
  sends; with Nagle on, a kept-alive client gets an answer only every ~44 ms
  (the second send waits for the delayed ACK of the first).
* requestContext.identity.sourceIp is the real TCP peer. Chalice hard-codes
  127.0.0.1, and the IP allow-lists read that field.
* A deeper listen backlog: tests and benchmarks open many connections at once.
* Every path and method reaches the app, as on AWS (infra/gateway_routes.py
  routes every path and method of the stack to the function): a path no route
  matches arrives as resource ``/{proxy+}``, any method (TRACE included) is
  handed over, and OPTIONS is not answered here. The app's guard
  (chalicelib/api/http/guard.py) answers them, 404 or 405, in the envelope of
  the surface the path is under; chalice would answer 403 "Missing
  Authentication Token", 501 or its own 200 to OPTIONS.
* With ``--rate-limits`` (`make run`), the limits of infra/rate_limits.py,
  counted in memory (infra/local/throttle.py) as the stack's WAF counts them:
  a request over one is answered 429 here, in the envelope of its surface,
  and never reaches the app. Off by default, so tests and benchmarks that
  start the runtime are not throttled.

Threads: one per connection (chalice's ThreadingMixIn server). Chalice builds
a LocalGateway per handler instance, i.e. per connection, so nothing below is
shared between threads except the app, whose current_request chalice keeps
thread-local in local mode (its lambda_context is shared; chalicelib does
not read it).

Usage: python -m infra.local.api_server --port 8000 [--stage local] [--access-log] [--rate-limits]
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any
from urllib.parse import parse_qs, urlparse

from chalice.deploy.validate import validate_routes
from chalice.local import (
    ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer, LocalGateway, LocalGatewayAuthorizer,
    MatchResult, RouteMatcher, ThreadedHTTPServer,
)

from chalicelib.auth import redaction
from infra import rate_limits
from infra.local import chalice_app
from infra.local.throttle import Over, Throttle
from infra.local.environment import STAGE


class GreedyRouteMatcher(RouteMatcher):
    """What no route matches goes to ``/{proxy+}``, as API Gateway sends it to the stack's greedy resources."""

    def match_route(self, url: str) -> MatchResult:
        try:
            return super().match_route(url)
        except ValueError:
            parsed = urlparse(url)
            return MatchResult("/{proxy+}", {"proxy": parsed.path.lstrip("/")},
                               parse_qs(parsed.query, keep_blank_values=True))


class Authorizer(LocalGatewayAuthorizer):
    def _route_for_event(self, lambda_event: Any) -> Any:
        # chalice indexes app.routes (a defaultdict) with the resource path, which
        # would add "/{proxy+}" to the app's routes as a route with no methods.
        context = lambda_event["requestContext"]
        return self._app_object.routes.get(context.get("resourcePath"), {}).get(context["httpMethod"])


class Gateway(LocalGateway):
    def __init__(self, app_object: Any, config: Any, throttle: Throttle | None = None) -> None:
        super().__init__(app_object, config)
        self.event_converter._route_matcher = GreedyRouteMatcher(list(app_object.routes))
        self._authorizer = Authorizer(app_object)
        self.throttle = throttle

    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        if self.throttle is None:
            return super().handle_request(method, path, headers, body)
        source = self.event_converter.LOCAL_SOURCE_IP
        over = self.throttle.admit(method, path, headers, source)
        if over is not None:
            return self._too_many(method, path, headers, body, over)
        return super().handle_request(method, path, headers, body)

    def _too_many(self, method: str, path: str, headers: Any, body: bytes | None, over: Over) -> Any:
        """429 in the envelope of the surface the path is under (api/http/guard.py), as the WAF answers it."""
        from chalice.app import Request

        from chalicelib.api.http import guard

        request = Request(self._generate_lambda_event(method, path, headers, body))
        answer = guard.refusal(request, 429, rate_limits.MESSAGE,
                               rate_limits.refusal_headers(over.limit, over.reset_seconds))
        return answer.to_dict(self._app_object.api.binary_types)

    def _has_user_defined_options_method(self, lambda_event: Any) -> bool:
        # No route enables CORS; deployed, OPTIONS reaches the function like any method.
        return True


class RequestHandler(ChaliceRequestHandler):
    disable_nagle_algorithm = True
    access_log = False

    def setup(self) -> None:
        super().setup()
        self.local_gateway = Gateway(self.local_gateway._app_object, self.local_gateway._config,
                                     getattr(self.server, "throttle", None))
        # This connection's own gateway (see the module docstring), so its
        # event converter may carry the peer address.
        self.local_gateway.event_converter.LOCAL_SOURCE_IP = self.client_address[0]

    def __getattr__(self, name: str) -> Any:
        # http.server answers a method without a do_<METHOD> with its own 501 page.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._generic_handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        if self.access_log:
            # The request line carries the query string: the carrier API's token=.
            super().log_message("%s", redaction.redact(format % args))


class AccessLoggingRequestHandler(RequestHandler):
    access_log = True


class Server(ThreadedHTTPServer):
    request_queue_size = 128
    throttle: Throttle | None = None  # one for the whole server: every connection counts against it


def build(stage: str, host: str, port: int, *, access_log: bool = False,
          throttle: Throttle | None = None) -> LocalDevServer:
    config = chalice_app.load(stage)
    app = config.chalice_app
    validate_routes(app.routes)  # as `chalice local` does: what API Gateway would refuse fails here too
    # What chalice.local.create_local_server does before building its server.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    handler = AccessLoggingRequestHandler if access_log else RequestHandler
    server = type("ThrottledServer", (Server,), {"throttle": throttle}) if throttle else Server
    return LocalDevServer(app, config, host, port, handler_cls=handler, server_cls=server)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stage", default=STAGE)
    parser.add_argument("--access-log", action="store_true", help="one line per request on stderr")
    parser.add_argument("--rate-limits", action="store_true",
                        help="answer 429 past the limits of infra/rate_limits.py (DIALTONE_RATE_LIMITS=off overrides)")
    args = parser.parse_args(argv)
    limits = rate_limits.limits() if args.rate_limits else ()
    # Like `chalice local` (and Lambda): the app's log records go to stdout.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials ..." and such
    redaction.install()
    build(args.stage, args.host, args.port, access_log=args.access_log,
          throttle=Throttle(limits) if limits else None).serve_forever()


if __name__ == "__main__":
    main()

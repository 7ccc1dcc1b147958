"""The ``miscellaneous`` section: ping."""
from __future__ import annotations

from chalice import Response

from chalicelib.api.tracking.dialect import Call, ok, resource
from chalicelib import clock


def ping(call: Call) -> Response:
    # Authenticated like every resource: a client checks its credentials (and
    # its IP address) with it, as the document's first curl example does.
    return ok(call, "pings", "ping", [{"status": "ok", "version": "v1", "time": clock.now_iso()[:19] + "Z",
                                        "user": call.principal.username}])


resource("miscellaneous/ping", GET=ping)

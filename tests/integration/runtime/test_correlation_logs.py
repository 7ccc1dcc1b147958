"""Over the local runtime: a request's X-Request-Id comes back, and the API
server's log lines and the order worker's (in the pump) carry it, as JSON
objects (docs/operations.md, "Logs")."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.support.surfaces.carrier import landlines, make_shop
from tests.support.harness.runtime import LocalRuntime


def lines_with(log: Path, text: str, *, until: float) -> list[dict[str, Any]]:
    """The JSON lines of ``log`` (written as "<process> | <line>") mentioning ``text``, once there are any."""
    while True:
        found = []
        for raw in log.read_text(errors="replace").splitlines() if log.exists() else []:
            line = raw.split(" | ", 1)[-1]
            if text in line and line.startswith("{"):
                found.append(json.loads(line))
        if found or time.monotonic() > until:
            return found
        time.sleep(0.1)


def test_a_requests_id_comes_back_and_is_on_the_api_and_worker_log_lines(runtime: LocalRuntime) -> None:
    with runtime.environment():
        shop = make_shop(landlines("206219", 4), customers=1)
    account = shop.accounts[0]
    wanted = f"itest-{uuid.uuid4()}"

    def carrier(session: requests.Session, name: str, **params: str) -> requests.Response:
        return session.post(f"{runtime.base_url}/carrier/{name}",
                            json={"token": shop.keys[account], "accountno": account, **params})

    with requests.Session() as session:
        trunk = carrier(session, "defineTrunk", title="t", primaryTrunk="203.0.113.9", billingType="Metered").json()
        reserve = carrier(session, "bulkreserve", category="landline", state="WA", quantity="2").json()["reserveId"]
        order = carrier(session, "gen_order", reserveId=reserve, trunk_id=trunk["tg_id"]).json()["orderId"]
        session.headers["X-Request-Id"] = wanted
        answer = carrier(session, "process_order", orderId=order)

    assert answer.status_code == 200 and answer.headers["X-Request-Id"] == wanted
    until = time.monotonic() + 30
    (request,) = lines_with(runtime.log_dir / "api.log", wanted, until=until)
    assert (request["correlation_id"], request["route"], request["status"]) == (wanted, "/carrier/process_order", 200)
    assert request["surface"] == "carrier" and request["level"] == "INFO" and request["service"] == "dialtone"
    handled = [line for line in lines_with(runtime.log_dir / "workers.log", wanted, until=until)
               if line["message"].startswith("order message")]
    assert handled and all(line["correlation_id"] == wanted and line["function"] == "order_worker"
                           for line in handled), handled


def test_an_uploaded_cdr_file_is_taken_in_under_the_id_of_the_request_that_granted_it(runtime: LocalRuntime) -> None:
    from chalicelib.services.identity import users

    with runtime.environment():
        key = users.create_tenant(name="Correlated upload")["user"]["api_key"]
    wanted = f"itest-upload-{uuid.uuid4()}"
    header = "call_id,direction,account,trunk_id,from,to,start,answer,end,billsec,disposition\n"
    with requests.Session() as session:
        granted = session.post(f"{runtime.base_url}/carrier/cdr_upload", data={"token": key, "filename": "a.csv"},
                               headers={"X-Request-Id": wanted}).json()
        sent = session.post(granted["url"], data=granted["fields"], files={"file": ("a.csv", header.encode())})
        assert sent.status_code == 204, sent.text

    taken = [line for line in lines_with(runtime.log_dir / "workers.log", wanted, until=time.monotonic() + 30)
             if line["message"].startswith("CDR file")]
    assert [(line["correlation_id"], line["function"]) for line in taken] == [(wanted, "cdr_files")], taken

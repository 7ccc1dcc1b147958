import io
import json
from contextlib import redirect_stdout

from chalicelib.admin import cli
from chalicelib.domain.money.ledger import TENANT_ACCOUNT
from chalicelib.services.money import ledger
from tests.support.worlds.money import admin, ledger_sum, new_customer


def run(*argv):
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(["--stage", "test", *argv])
    return status, json.loads(out.getvalue())


def test_adjust_balance_of_customer_and_wallet(tenant):
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant))
    status, out = run("adjust-balance", "--tenant", t, "--account", customer["accountNumber"], "--amount", "12.5",
                      "--reason", "goodwill")
    assert status == 0 and out["balance"] == "12.50000"
    status, out = run("adjust-balance", "--tenant", t, "--amount", "-1", "--reason", "fee")
    assert status == 1 and "credit limit" in out["error"]  # the wallet starts at 0 with limit 0
    status, out = run("adjust-balance", "--tenant", t, "--amount", "3", "--reason", "seed")
    assert status == 0 and ledger.balance_of(tenant=t, account=TENANT_ACCOUNT)[0] == 3 == ledger_sum(t, TENANT_ACCOUNT)
    status, out = run("adjust-balance", "--tenant", t, "--amount", "1.000001", "--reason", "x")
    assert status == 1 and out["field"] == "amount"
    status, out = run("adjust-balance", "--tenant", "tnope", "--amount", "1", "--reason", "x")
    assert status == 1


def test_list_emails_is_empty_for_a_new_tenant(tenant):
    assert run("list-emails", "--tenant", tenant["tenant"]["id"]) == (0, {"emails": []})

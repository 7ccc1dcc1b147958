"""The admin CLI's number commands as an operator runs them, against the local runtime."""
from __future__ import annotations

import subprocess
import sys

from tests.support.harness.admin import admin
from tests.support.surfaces.carrier import inventory_csv, landlines, tollfree
from tests.support.harness.stage import ROOT


def test_import_numbers_reports_rejections_and_is_idempotent(runtime, tmp_path):
    tenant = admin(runtime, "create-tenant", "--name", "Importer")["tenant"]["id"]
    rows = landlines("206219", 40) + tollfree("888", 5) + [
        ("12345", "landline", "WA", "X", "X", "1", "1"),
        ("2065550100", "landline", "WA", "X", "X", "abc", "1"),
        ("8885550100", "landline", "WA", "X", "X", "1", "1"),
    ]
    csv_file = tmp_path / "numbers.csv"
    csv_file.write_text(inventory_csv(rows))
    done = subprocess.run([sys.executable, "-m", "chalicelib.admin", "import-numbers", "--tenant", tenant,
                           str(csv_file)], cwd=ROOT, env=runtime.process_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "48/48" in done.stderr  # the progress bar reached the end
    summary = __import__("json").loads(done.stdout.strip())
    assert (summary["added"], summary["existing"], summary["rejected"]) == (45, 0, 3)
    assert [r["line"] for r in summary["rejections"]] == [47, 48, 49]
    assert [r["field"] for r in summary["rejections"]] == ["number", "monthly_price", "category"]
    again = admin(runtime, "import-numbers", "--tenant", tenant, "--quiet", str(csv_file))
    assert (again["added"], again["existing"], again["rejected"]) == (0, 45, 3)
    with runtime.environment():
        from chalicelib.store.dynamo import keys
        from chalicelib.store.numbers import inventory as store

        counts = {c["SK"]: int(c["count"]) for c in store.counters(tenant, "")}
    assert counts[keys.npanxx_counter_sk("WA", "206219")] == 40
    assert counts[keys.state_counter_sk("tollfree", "888")] == 5


def test_port_order_states_from_the_cli(runtime, tmp_path):
    tenant = admin(runtime, "create-tenant", "--name", "Porter")["tenant"]["id"]
    table = tmp_path / "portability.csv"
    table.write_text("number,portable,reason,losing_carrier,min_port_days\n15035550100,yes,,Bandwidth,1\n"
                     "15035550101,maybe,,Bandwidth,1\n")
    loaded = admin(runtime, "import-portability", "--tenant", tenant, str(table))
    assert (loaded["loaded"], loaded["rejected"]) == (1, 1)
    missing = subprocess.run([sys.executable, "-m", "chalicelib.admin", "port-order", "--tenant", tenant, "--order",
                              "7", "--state", "complete"], cwd=ROOT, env=runtime.process_env(), capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 1 and '"field": "order"' in missing.stdout


def test_backfill_number_ids_from_the_cli(runtime):
    """Numbers stocked before integer ids existed get one (and GET /numbers/{id}
    finds them); running it again assigns nothing."""
    import requests

    made = admin(runtime, "create-tenant", "--name", "Backfiller")
    tenant, key = made["tenant"]["id"], made["user"]["api_key"]
    with runtime.environment():
        from chalicelib import settings
        from chalicelib.auth import api_key
        from chalicelib.services.customers import accounts as customers
        from chalicelib.store.dynamo import keys
        from chalicelib.store.numbers import inventory as store
        from chalicelib.store.dynamo.codec import to_item
        from chalicelib.store.dynamo.table import ddb
        from tests.support.worlds.numbers import own

        principal = api_key.authenticate(key, None)
        acme = customers.create_customer(principal=principal, fields={"name": "Legacy Ltd"})
        legacy = ["2062190700", "2062190701"]
        own(principal, acme, legacy)
        for number in legacy:  # as written before ids: no id, no lookup item
            item = store.get_number(tenant, number)
            ddb().update_item(TableName=settings.main_table(), Key=to_item(keys.number_key(tenant, number)),
                              UpdateExpression="REMOVE id")
            ddb().delete_item(TableName=settings.main_table(), Key=to_item(keys.number_id_key(tenant, item["id"])))
    listed = requests.get(f"{runtime.base_url}/backend/api/v1/customers/{acme['id']}/numbers",
                          headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
    assert listed == []  # without ids the billing API cannot show them
    first = admin(runtime, "backfill-number-ids", "--tenant", tenant)
    assert (first["assigned"], first["alreadyHadId"]) == (2, 0)
    listed = requests.get(f"{runtime.base_url}/backend/api/v1/customers/{acme['id']}/numbers",
                          headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
    assert sorted(n["number"] for n in listed) == legacy
    for shown in listed:
        one = requests.get(f"{runtime.base_url}/backend/api/v1/numbers/{shown['id']}",
                           headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
        assert one["number"] == shown["number"]
    again = admin(runtime, "backfill-number-ids", "--tenant", tenant)
    assert again["assigned"] == 0
    assert admin(runtime, "backfill-number-ids", "--tenant", "tnope")["field"] == "tenant"

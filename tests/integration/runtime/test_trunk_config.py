"""The termination trunk's `config` URL really serves its settings PDF (local runtime)."""
from __future__ import annotations

import requests

from tests.support.surfaces.carrier import make_shop


def test_config_url_serves_the_settings_pdf(runtime):
    with runtime.environment():
        shop = make_shop([], customers=1)
    account = shop.accounts[0]
    base = {"token": shop.keys[account], "accountno": account}
    with requests.Session() as http:
        made = http.post(f"{runtime.base_url}/carrier/defineTrunk_termination",
                         data={**base, "title": "out", "ipaddress": "198.51.100.20", "ports": "10", "cps": "2"}).json()
        assert made["status"] == "200", made
        listed = http.get(f"{runtime.base_url}/carrier/get_trunk_termination",
                          params={**base, "tg_id": made["tg_id"]}).json()
        config = listed["data"][0]["config"]
        assert config.startswith("http://127.0.0.1:")
        pdf = http.get(config)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"198.51.100.20" in pdf.content

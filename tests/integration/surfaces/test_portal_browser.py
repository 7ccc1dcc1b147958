"""The portal in headless Chromium over the local runtime (issue 16): log in
with a TOTP code, make an API key in the page and use it, allow-list an
address, order a number, download an invoice, read the statistics charts,
and the refusals that must change nothing.

Set DIALTONE_PORTAL_SCREENSHOTS=<dir> to also write each page's screenshots
at desktop and phone width (docs/portal/ holds the ones in the docs)."""
from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from infra.local import demo
from tests.support.harness.browser import chromium, screenshot
from tests.support.surfaces.portal import Codes
from tests.support.harness.runtime import LocalRuntime

SHOTS = Path(os.environ["DIALTONE_PORTAL_SCREENSHOTS"]) if os.environ.get("DIALTONE_PORTAL_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def world(runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo tenant (customers, numbers, yesterday's calls closed), an
    origination trunk for its first customer and an invoice of this month."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "DEMO_FILE", tmp_path_factory.mktemp("demo") / "demo.json")
        with runtime.environment():
            loaded = demo.load(runtime.base_url, name="Portal Test")
            _trunk_and_invoice(loaded)
    loaded["codes"] = Codes(loaded["staff"]["totp_secret"])
    return loaded


def _trunk_and_invoice(loaded: dict[str, Any]) -> None:
    from chalicelib import clock
    from chalicelib.auth import api_key
    from chalicelib.services.customers import accounts
    from chalicelib.services.money import invoices
    from chalicelib.services.numbers import trunks

    staff = api_key.authenticate(loaded["staff"]["api_key"], "127.0.0.1")  # the demo allow-lists 127.0.0.1
    first = loaded["customers"][0]
    customer = accounts.get_customer(principal=staff, customer_id=first["id"])
    loaded["trunk"] = trunks.define_origination(principal=staff, customer=customer, params={
        "title": "main office", "primaryTrunk": "192.0.2.10", "billingType": "Metered"})["id"]
    today = clock.today()
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=2)
    with clock.frozen(next_month.isoformat() + "T00:00:00"):  # this month is over there
        invoices.close_one(tenant=loaded["tenant"]["id"], account_number=first["accountNumber"],
                           month=today.strftime("%Y-%m"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    session = chromium()
    try:
        yield session
    finally:
        session.quit()


def _log_in(browser: Any, runtime: LocalRuntime, username: str, password: str, code: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{runtime.base_url}/portal/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "code").send_keys(code)
    _submit(browser, "login")


def _submit(browser: Any, button_id: str) -> None:
    """Click a form's button and wait for the answer's page to replace this one."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, button_id).click()

    def replaced(_: Any) -> bool:
        # Selenium's staleness_of, plus Chromium's other answer for an element
        # of a page being replaced mid-navigation (CI saw it once): "Node with
        # given id does not belong to the document".
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    WebDriverWait(browser, 30).until(replaced)


def _cookies(browser: Any) -> dict[str, str]:
    return {c["name"]: c["value"] for c in browser.get_cookies()}


def test_1_log_in_with_a_totp_code(world, runtime, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{runtime.base_url}/portal/login")
    screenshot(browser, SHOTS, "login")
    staff = world["staff"]
    _log_in(browser, runtime, staff["username"], staff["password"], world["codes"].next())
    assert browser.current_url.endswith("/portal/dashboard"), browser.page_source[-3000:]
    assert browser.find_element(By.ID, "balance").text
    screenshot(browser, SHOTS, "dashboard")


def test_2_an_api_key_made_in_the_page_works_and_the_old_one_stops(world, runtime, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{runtime.base_url}/portal/api")
    browser.find_element(By.ID, "key-password").send_keys(world["staff"]["password"])
    browser.find_element(By.ID, "key-code").send_keys(world["codes"].next())
    _submit(browser, "generate-key")
    key = browser.find_element(By.ID, "new-key").text
    screenshot(browser, SHOTS, "api-key")
    old = world["staff"]["api_key"]
    assert key.startswith("dtk_") and key != old
    url = f"{runtime.base_url}/backend/api/v1/customers"
    assert requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code == 200
    assert requests.get(url, headers={"Authorization": f"Bearer {old}"}, timeout=10).status_code == 401
    world["staff"]["api_key"] = key
    browser.get(f"{runtime.base_url}/portal/api")
    assert key not in browser.page_source  # shown once


def test_3_an_added_ip_makes_the_partner_api_refuse_other_addresses(world, runtime, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{runtime.base_url}/portal/api")
    field = browser.find_element(By.ID, "ip")
    assert field.get_attribute("value") == "127.0.0.1"  # prefilled with the address the portal sees
    url = f"{runtime.base_url}/partner/api/v1/customers/{world['customers'][0]['accountNumber']}/balance"
    headers = {"token": world["staff"]["api_key"]}
    assert runtime.session(source_ip="127.0.0.3").get(url, headers=headers, timeout=10).status_code == 401
    field.clear()
    field.send_keys("127.0.0.3")
    _submit(browser, "add-ip")
    assert "127.0.0.3/32" in browser.find_element(By.ID, "allowlist").text
    screenshot(browser, SHOTS, "api-access")
    assert runtime.session(source_ip="127.0.0.3").get(url, headers=headers, timeout=10).status_code == 200
    refused = runtime.session(source_ip="127.0.0.2").get(url, headers=headers, timeout=10)
    assert refused.status_code == 401


def test_4_a_number_ordered_in_the_page_is_in_the_carrier_api(world, runtime, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    first = world["customers"][0]
    browser.get(f"{runtime.base_url}/portal/numbers?customer={first['id']}&category=landline")
    box = browser.find_element(By.CSS_SELECTOR, "#available input[type=checkbox]")
    number = box.get_attribute("name").removeprefix("n_")
    box.click()
    Select(browser.find_element(By.ID, "trunk")).select_by_value(str(world["trunk"]))
    screenshot(browser, SHOTS, "numbers")
    _submit(browser, "order")
    assert "placed for " + number in browser.find_element(By.CSS_SELECTOR, ".notice").text
    user = world["customer_user"]
    params = {"token": user["api_key"], "accountno": user["accountNumber"]}
    deadline = time.monotonic() + 60
    while True:  # the order worker activates the number
        answer = requests.get(f"{runtime.base_url}/carrier/getnumbers", params=params, timeout=10).json()
        if number in str(answer) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert number in str(answer), answer


def test_5_an_invoice_pdf_downloads(world, runtime, browser):
    from selenium.webdriver.common.by import By

    first = world["customers"][0]
    browser.get(f"{runtime.base_url}/portal/invoices?customer={first['id']}")
    screenshot(browser, SHOTS, "invoices")
    link = browser.find_element(By.CSS_SELECTOR, "#invoices a.pdf").get_attribute("href")
    pdf = requests.get(link, cookies=_cookies(browser), timeout=20)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_6_the_statistics_charts_show_did_stats(world, runtime, browser):
    from selenium.webdriver.common.by import By

    first, user = world["customers"][0], world["customer_user"]
    number = first["numbers"][0]
    day = date.fromisoformat(world["cdrs"]["day"])
    browser.get(f"{runtime.base_url}/portal/statistics?customer={first['id']}&target=DID:{number}"
                f"&from={(day - timedelta(days=6)).isoformat()}&to={(day + timedelta(days=1)).isoformat()}")
    screenshot(browser, SHOTS, "statistics")
    stats = requests.get(f"{runtime.base_url}/carrier/did_stats", timeout=10, params={
        "token": user["api_key"], "accountno": user["accountNumber"], "number": number}).json()["data"][0]
    shown = {name: browser.find_element(By.ID, f"total-{name}").text
             for name in ("processed", "completed", "asr", "acd", "mou", "peak")}
    assert shown == {name: stats[name] for name in shown}
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-calls rect.bar")
    assert len(bars) == 8
    by_day = {b.get_attribute("data-day"): int(b.get_attribute("data-value")) for b in bars}
    assert sum(by_day.values()) == int(stats["processed"]) and by_day[day.isoformat()] == int(stats["processed"])
    minutes = browser.find_elements(By.CSS_SELECTOR, "#chart-minutes rect.bar")
    assert {b.get_attribute("data-day"): b.get_attribute("data-value") for b in minutes}[day.isoformat()] == stats["mou"]


def test_7_customer_pages_and_another_tenants_customer(world, runtime, browser):
    from selenium.webdriver.common.by import By

    first = world["customers"][0]
    browser.get(f"{runtime.base_url}/portal/customers")
    screenshot(browser, SHOTS, "customers")
    browser.get(f"{runtime.base_url}/portal/customers/{first['id']}")
    assert browser.find_element(By.ID, "account-number").text == first["accountNumber"]
    assert f"/partner/api/v1/customers/{first['accountNumber']}/balance?initial_date=" in \
        browser.find_element(By.ID, "balance-url").text
    screenshot(browser, SHOTS, "customer")
    from chalicelib.services.identity import users

    with runtime.environment():
        other = users.create_tenant(name="Someone Else")
    # Ids are per tenant: theirs has an id that ours does not (ours has two customers).
    for n in range(len(world["customers"]) + 1):
        made = requests.post(f"{runtime.base_url}/backend/api/v1/customers", timeout=10,
                             json={"customerName": f"Theirs {n}"},
                             headers={"Authorization": f"Bearer {other['user']['api_key']}"}).json()
    browser.get(f"{runtime.base_url}/portal/customers/{made['id']}")
    assert "Not found" in browser.find_element(By.TAG_NAME, "h1").text
    assert "Theirs" not in browser.page_source


def test_8_a_post_without_the_csrf_token_changes_nothing(world, runtime, browser):
    from selenium.webdriver.common.by import By

    answer = requests.post(f"{runtime.base_url}/portal/api/ips", data={"ip": "10.1.2.3"},
                           cookies=_cookies(browser), timeout=10, allow_redirects=False)
    assert answer.status_code == 403
    browser.get(f"{runtime.base_url}/portal/api")
    assert "10.1.2.3" not in browser.find_element(By.ID, "allowlist").text


def test_9_wrong_password_wrong_and_replayed_codes_are_refused(world, runtime, browser):
    from selenium.webdriver.common.by import By

    staff = world["staff"]
    used = world["codes"].totp.generate_otp(world["codes"].last)  # the last code accepted
    browser.delete_all_cookies()
    for password, code in ((staff["password"] + "x", "123456"), (staff["password"], "000000"),
                           (staff["password"], used)):
        _log_in(browser, runtime, staff["username"], password, code)
        assert browser.current_url.endswith("/portal/login")
        assert browser.find_element(By.CSS_SELECTOR, ".problem").text
        browser.get(f"{runtime.base_url}/portal/dashboard")
        assert browser.current_url.endswith("/portal/login")


def test_10_a_user_without_a_second_factor_enrols_in_the_browser(world, runtime, browser):
    import pyotp
    from selenium.webdriver.common.by import By

    from chalicelib.services.identity import users
    from chalicelib.store.dynamo import entities
    from chalicelib.store.identity.users import USER

    tenant = world["tenant"]["id"]
    with runtime.environment():
        made = users.create_user(tenant=tenant, username=f"newcomer-{tenant}", password="first-pass-1")
        entities.update(USER, tenant, users.get_user(tenant=tenant, user_id=made["id"]), {"totpSecret": None})
    browser.delete_all_cookies()
    _log_in(browser, runtime, made["username"], "first-pass-1", "")
    assert browser.current_url.endswith("/portal/enrol")
    assert browser.find_element(By.CSS_SELECTOR, "img.qr").get_attribute("src").startswith("data:image/svg+xml")
    screenshot(browser, SHOTS, "enrol")
    secret = browser.find_element(By.ID, "totp-secret").text
    browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
    _submit(browser, "confirm")
    assert browser.current_url.endswith("/portal/dashboard")
    with runtime.environment():
        from chalicelib.auth import sealing

        assert sealing.unseal(users.get_user(tenant=tenant, user_id=made["id"])["totpSecret"]) == secret

"""Headless Chromium through Selenium and Debian's chromium-driver (never a
driver or browser downloaded by Selenium Manager)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from infra.local.browser import ensure_chromium

DESKTOP, PHONE = (1280, 900), (390, 844)


def chromium(*, size: tuple[int, int] = DESKTOP) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = ensure_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    profile = tempfile.mkdtemp(prefix="dialtone-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(30)
    session.profile_dir = Path(profile)
    return session


def screenshot(session: Any, directory: Path | None, name: str) -> None:
    """The page at desktop and phone width as <name>-desktop.png and <name>-phone.png
    (only when a directory is given: the tests make them on request)."""
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
        session.set_window_size(width, height)
        # The whole page, not only the first screen: the layout's height at this width.
        full = session.execute_script("return document.documentElement.scrollHeight")
        session.set_window_size(width, min(max(height, int(full) + 140), 4000))
        session.save_screenshot(str(directory / f"{name}-{label}.png"))
    session.set_window_size(*DESKTOP)

"""Headless Chromium (Debian's package) driven by Playwright, for every app's browser tests.

CI installs Chromium, and there a missing browser fails the test instead of
skipping it.  Playwright's sync API runs an event loop in the test's thread,
and Django refuses ORM calls while one runs: a browser test puts its data in
first and makes no ORM calls once the page is open.
"""

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a sandboxed machine with no network beyond localhost.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


PHONE = {"width": 390, "height": 844, "touch": True}  # a phone held upright: touch, no mouse


@contextmanager
def chromium_page(*, width: int = 1366, height: int = 900, touch: bool = False, color_scheme: str = "light"):
    """A page of a fresh browser; the test fails if a script on it raised an error.

    `touch`: a phone's touch screen (coarse pointer, no hover) instead of a mouse;
    `color_scheme`: the system's prefers-color-scheme.
    """
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not installed at {CHROMIUM}; .ci/run installs it.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(
            viewport={"width": width, "height": height},
            is_mobile=touch,
            has_touch=touch,
            color_scheme=color_scheme,
        )
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
    assert not errors, errors

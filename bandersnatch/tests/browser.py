"""Headless Chromium (Debian's package) driven by Playwright, for every app's browser tests.

CI installs Chromium, and there a missing browser fails the test instead of
skipping it.  Playwright's sync API runs an event loop in the test's thread,
and Django refuses ORM calls while one runs: a browser test puts its data in
first and makes no ORM calls once the page is open.
"""

import os
import shutil
import time
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


# True once every chart on the page has been drawn.
CHARTS_DRAWN = (
    "[...document.querySelectorAll('[data-figure]')].every(chart => chart.querySelector('.main-svg'))"
)
PHONE = {"width": 390, "height": 844, "touch": True}  # a phone held upright: touch, no mouse


@contextmanager
def chromium_page(*, width: int = 1366, height: int = 900, touch: bool = False, color_scheme: str = "light"):
    """A page of a fresh browser; the test fails if a script on it raised an error or the
    Content-Security-Policy refused anything (Chromium reports that on the console).

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
        page.on("console", lambda message: _note_csp_violation(message, errors))
        yield page
        browser.close()
    assert not errors, errors


def _note_csp_violation(message, errors: list) -> None:
    if "Content Security Policy" in message.text:
        errors.append(f"{message.location.get('url')}: {message.text}")


def sign_in(page, base_url: str, username: str, password: str) -> None:
    """Sign in through the site's form, and wait for the home page it leads to."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def wait_until(page, expression: str, *, timeout: float = 15_000) -> None:
    """Wait until `expression` is true in the page: Playwright's wait_for_function evaluates it
    with eval, which the Content-Security-Policy refuses (page.evaluate does not need it)."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"Still false after {timeout / 1000:g} s: {expression}")
        page.wait_for_timeout(50)

"""/view in a real browser: headless Chromium (Debian's package) driven by Playwright.

CI installs Chromium, and there a missing browser fails the test instead of
skipping it.
"""

import os
import shutil

import pytest

from monsters.services import monsters_seed

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


@pytest.fixture
def monsters(transactional_db):
    monsters_seed(count=300, seed=1)


@pytest.fixture
def page(monsters, live_server):
    """A browser page, started after the data are in.

    Playwright's sync API runs an event loop in this thread, and Django
    refuses ORM calls while one runs, so the tests make no ORM calls.
    """
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not installed at {CHROMIUM}; .ci/run installs it.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
    assert not errors, errors


def x_title(page) -> str:
    return page.locator("#chart .xtitle").text_content()


def test_view_draws_the_chart_and_redraws_it_for_a_new_x_axis(live_server, page):
    page.goto(f"{live_server.url}/view")
    page.wait_for_selector("#chart .main-svg", timeout=15_000)
    assert x_title(page) == "Level"
    assert page.locator("#chart .legendtext").count() == 6  # one entry per rarity

    page.select_option("#id_x", "energy")
    page.wait_for_function(
        "document.querySelector('#chart .xtitle').textContent === 'Energy'", timeout=15_000
    )
    assert "x=energy" in page.url  # the new chart has a shareable URL
    assert page.locator("#rows-link").get_attribute("href") == "/data/"


def test_statistics_page_draws_every_figure(live_server, page):
    page.goto(f"{live_server.url}/analytics/")
    page.wait_for_function(
        "[...document.querySelectorAll('[data-figure]')].every(chart => chart.querySelector('.main-svg'))",
        timeout=15_000,
    )
    assert page.locator("[data-figure]").count() == 10

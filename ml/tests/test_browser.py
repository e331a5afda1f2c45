"""The model pages in a real browser: headless Chromium driven by Playwright (see analytics' tests)."""

import os

import pytest

from analytics.tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from ml.services import model_version_train
from monsters.services import monsters_seed


@pytest.fixture
def two_versions(transactional_db):
    monsters_seed(count=1_000, seed=42)
    model_version_train(seed=1)
    model_version_train(algorithm="random_forest", params={"n_estimators": 20}, seed=1, activate=False)


@pytest.fixture
def page(two_versions, live_server):
    """A browser page, started after the versions are trained (no ORM calls once it runs)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not installed at {CHROMIUM}; .ci/run installs it.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
    assert not errors, errors


def test_compare_page_draws_every_chart_of_both_versions(live_server, page):
    page.goto(f"{live_server.url}/model/versions/compare/?a=1&b=2")
    boxes = page.locator("[data-figure]")
    assert boxes.count() == 6  # confusion matrix, feature importance, reliability: per version
    page.wait_for_function(
        "[...document.querySelectorAll('[data-figure]')].every(chart => chart.querySelector('.main-svg'))",
        timeout=15_000,
    )
    assert page.locator("[data-figure].js-plotly-plot").count() == 6

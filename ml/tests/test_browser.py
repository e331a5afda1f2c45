"""The model pages in headless Chromium, driven by Playwright (see bandersnatch.tests.browser)."""

import pytest

from bandersnatch.tests.browser import chromium_page
from ml.services import model_version_train
from monsters.services import monsters_seed


@pytest.fixture
def two_versions(transactional_db):
    monsters_seed(count=1_000, seed=42)
    model_version_train(seed=1)
    model_version_train(algorithm="random_forest", params={"n_estimators": 20}, seed=1, activate=False)


@pytest.fixture
def page(two_versions, live_server):
    """A browser page, started after the versions are trained."""
    with chromium_page() as page:
        yield page


def test_compare_page_draws_every_chart_of_both_versions(live_server, page):
    page.goto(f"{live_server.url}/model/versions/compare/?a=1&b=2")
    boxes = page.locator("[data-figure]")
    assert boxes.count() == 7  # confusion matrix, feature importance, reliability per version; the history
    page.wait_for_function(
        "[...document.querySelectorAll('[data-figure]')].every(chart => chart.querySelector('.main-svg'))",
        timeout=15_000,
    )
    assert page.locator("[data-figure].js-plotly-plot").count() == 7

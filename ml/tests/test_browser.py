"""The model pages in headless Chromium, driven by Playwright (see bandersnatch.tests.browser)."""

import pytest

from bandersnatch.tests.browser import CHARTS_DRAWN, chromium_page, wait_until
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
    wait_until(page, CHARTS_DRAWN)
    assert page.locator("[data-figure].js-plotly-plot").count() == 7


def test_on_a_phone_the_versions_and_compare_tables_fit_as_cards(two_versions, live_server):
    with chromium_page(width=390, height=844) as page:
        for path in ("/model/versions/", "/model/versions/compare/?a=1&b=2"):
            page.goto(f"{live_server.url}{path}")
            wraps = "[...document.querySelectorAll('.table-wrap')]"
            overflow = page.evaluate(f"{wraps}.map(wrap => wrap.scrollWidth - wrap.clientWidth)")
            assert overflow and max(overflow) <= 0, (path, overflow)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            label = page.evaluate(
                "getComputedStyle(document.querySelector('.card-rows td[data-label]'), '::before').content"
            )
            assert label.strip('"') in ("Compare as A, B", "v1"), path  # each value under its label


def test_a_vary_link_reopens_the_page_at_the_what_if_curve(two_versions, live_server):
    with chromium_page(width=390, height=844) as page:
        page.goto(f"{live_server.url}/model/?level=8&health=31.6&energy=32.9&sanity=32")
        link = page.locator(".what-if a", has_text="Health")
        link.scroll_into_view_if_needed()
        before = page.evaluate("window.scrollY")
        link.click()
        page.wait_for_url("**vary=health#what-if")
        page.wait_for_selector("[data-figure=figure-what-if] .main-svg", timeout=15_000)
        top = page.evaluate("document.getElementById('what-if').getBoundingClientRect().top")
        assert 0 <= top < 50  # the curve at the top of the screen, its Vary links below it
        assert abs(page.evaluate("window.scrollY") - before) < 400  # about where the visitor was

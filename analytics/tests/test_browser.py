"""/view in a real browser: headless Chromium driven by Playwright (see bandersnatch.tests.browser)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from bandersnatch.tests.browser import chromium_page
from monsters.services import monsters_seed
from monsters.tests.factories import MonsterFactory


@pytest.fixture
def monsters(transactional_db):
    monsters_seed(count=300, seed=1)


@pytest.fixture
def page(monsters, live_server):
    """A browser page, started after the data are in."""
    with chromium_page(width=1280, height=900) as page:
        yield page


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


def test_a_box_drawn_on_the_scatter_opens_those_monsters_in_the_table(live_server, page):
    page.goto(f"{live_server.url}/view/?type=Fey")
    page.wait_for_selector("#chart .main-svg", timeout=15_000)
    plot = page.locator("#chart .nsewdrag").bounding_box()
    page.mouse.move(plot["x"] + 5, plot["y"] + plot["height"] * 0.4)  # from the left edge: below level 1
    page.mouse.down()
    page.mouse.move(plot["x"] + plot["width"] * 0.5, plot["y"] + plot["height"] - 5, steps=8)
    page.mouse.up()
    page.wait_for_url("**/data/?*level_min=*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["type"] == ["Fey"] and query["level_min"] == ["1"]  # kept within the level's bounds
    assert query["health_min"] == ["0"] and "health_max" in query and not {"kind", "x", "y"} & set(query)


def test_statistics_page_draws_every_figure(live_server, page):
    page.goto(f"{live_server.url}/analytics/")
    page.wait_for_function(
        "[...document.querySelectorAll('[data-figure]')].every(chart => chart.querySelector('.main-svg'))",
        timeout=15_000,
    )
    assert page.locator("[data-figure]").count() == 10


@pytest.fixture
def linked_monster(monsters):
    MonsterFactory(name='<a href="https://example.com">x</a>', type="Fey", level=3, rank=1)


def test_a_name_with_markup_shows_as_text_in_tick_labels_and_hover(linked_monster, live_server, page):
    page.goto(f"{live_server.url}/view/?kind=histogram&x=name&color=&q=example.com")
    page.wait_for_selector("#chart .main-svg .xtick text", timeout=15_000)
    assert page.locator("#chart .xtick text").all_text_contents() == ['<a href="https://example.com">x</a>']
    bar = page.locator("#chart .bars path").first.bounding_box()
    page.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # Plotly hovers by position
    page.wait_for_selector("#chart .hoverlayer .hovertext", timeout=15_000)
    hover = page.locator("#chart .hoverlayer .hovertext").text_content()
    assert '<a href="https://example.com">x</a>: 1 monsters' in hover
    assert page.locator("#chart .main-svg a").count() == 0  # no link element anywhere in the chart

"""/view in a real browser: headless Chromium driven by Playwright (see bandersnatch.tests.browser)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from bandersnatch.tests.browser import CHARTS_DRAWN, PHONE, chromium_page, wait_until
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
    wait_until(page, "document.querySelector('#chart .xtitle').textContent === 'Energy'", timeout=15_000)
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
    wait_until(page, CHARTS_DRAWN)
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


def open_view(page, live_server, query: str = "") -> None:
    page.goto(f"{live_server.url}/view/{query}")
    page.wait_for_selector("#chart .main-svg", timeout=15_000)


def trace_count(page) -> int:
    return page.evaluate("document.getElementById('chart').data.length")


@pytest.fixture
def phone(monsters, live_server):
    with chromium_page(**PHONE) as page:
        yield page


def swipe_up(page, box: dict) -> None:
    """A finger dragged 200 px up over the middle of `box` (Chromium's own touch events)."""
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": "touchMove", "touchPoints": [{"x": x - 3 * step, "y": y - 20 * step}]},
        )
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_on_a_phone_a_swipe_over_the_scatter_scrolls_the_page_instead_of_leaving_it(live_server, phone):
    open_view(phone, live_server)
    assert phone.locator("input[name=dragmode][value=scroll]").is_checked()
    swipe_up(phone, phone.locator("#chart .nsewdrag").bounding_box())
    wait_until(phone, "window.scrollY > 100", timeout=5_000)
    assert phone.url == f"{live_server.url}/view/"  # not sent to the table by a box-select


def test_on_a_phone_the_chart_comes_first_with_its_legend_under_the_plot(live_server, phone):
    open_view(phone, live_server)
    chart, form = phone.locator("#chart").bounding_box(), phone.locator("#chart-form").bounding_box()
    assert chart["y"] + chart["height"] <= form["y"]
    plot = phone.locator("#chart .nsewdrag").bounding_box()
    legend = phone.locator("#chart .legend").bounding_box()
    assert legend["y"] >= plot["y"] + plot["height"]


def test_on_a_phone_the_chart_toolbar_shows_once_the_chart_is_tapped(live_server, phone):
    open_view(phone, live_server)

    def toolbar_opacity() -> str:
        return phone.evaluate("getComputedStyle(document.querySelector('#chart .modebar-container')).opacity")

    assert toolbar_opacity() == "0"  # not over the chart's title
    plot = phone.locator("#chart .nsewdrag").bounding_box()
    phone.touchscreen.tap(plot["x"] + 5, plot["y"] + 5)
    wait_until(
        phone,
        "getComputedStyle(document.querySelector('#chart .modebar-container')).opacity === '1'",
        timeout=5_000,
    )


def test_colour_none_applies_on_the_live_redraw(live_server, page):
    open_view(page, live_server)
    assert trace_count(page) == 6  # one per rarity
    page.select_option("#id_color", "")
    wait_until(page, "document.getElementById('chart').data.length === 1", timeout=15_000)
    assert "color=&" in page.url or page.url.endswith("color=")
    page.reload()  # the address drawn again is the same chart
    page.wait_for_selector("#chart .main-svg", timeout=15_000)
    assert trace_count(page) == 1 and page.locator("#id_color").input_value() == ""


def test_choices_that_make_no_sense_for_a_kind_are_disabled_with_a_note(live_server, page):
    open_view(page, live_server)
    page.select_option("#id_kind", "histogram")
    assert page.locator("#id_y").is_disabled()
    assert "no y axis" in page.locator("#chart-choices-note").text_content()
    page.select_option("#id_kind", "box")
    assert page.locator("#id_y").is_enabled()
    disabled = page.eval_on_selector_all(
        "#id_y option", "options => options.filter(o => o.disabled).map(o => o.value)"
    )
    assert set(disabled) == {"name", "type", "rarity", "damage"}
    wait_until(page, "document.getElementById('chart').data[0].type === 'box'", timeout=15_000)


def test_drag_to_zoom_zooms_in_place_of_selecting(live_server, page):
    open_view(page, live_server)
    page.check("input[name=dragmode][value=zoom]")
    before = page.evaluate("document.getElementById('chart')._fullLayout.xaxis.range")
    plot = page.locator("#chart .nsewdrag").bounding_box()
    page.mouse.move(plot["x"] + plot["width"] * 0.2, plot["y"] + plot["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(plot["x"] + plot["width"] * 0.6, plot["y"] + plot["height"] * 0.7, steps=8)
    page.mouse.up()
    wait_until(page, f"document.getElementById('chart')._fullLayout.xaxis.range[1] < {before[1]}")
    assert page.url == f"{live_server.url}/view/"


def test_every_chart_has_a_caption_and_its_numbers_on_request(live_server, page):
    open_view(page, live_server)
    chart = page.locator("#chart")
    assert chart.get_attribute("role") == "img"
    assert chart.get_attribute("aria-label").startswith(
        "Scatter chart: Health against Level, showing all 300"
    )
    page.locator(".chart-numbers summary").click()
    page.wait_for_selector(".chart-numbers table")  # built when first opened (its toggle event)
    headers = page.locator(".chart-numbers th[scope=col]").all_text_contents()
    assert headers[:3] == ["Series", "Points", "Level lowest"]
    assert page.locator(".chart-numbers tbody tr").count() == 6

    page.select_option("#id_kind", "histogram")  # the caption and the numbers follow the redraw
    label = "document.getElementById('chart').getAttribute('aria-label')"
    wait_until(page, f"{label}.startsWith('Bar chart: Distribution of Level')")
    assert page.locator(".chart-numbers th[scope=col]").all_text_contents()[0] == "Level"
    assert page.locator(".chart-numbers tbody tr").count() == 20  # a bar per level


def test_the_charts_redraw_in_the_theme_picked(live_server, page):
    open_view(page, live_server)

    def paper() -> str:
        return page.evaluate("document.getElementById('chart')._fullLayout.paper_bgcolor")

    assert paper() == "#ffffff"  # the system's light theme
    page.locator("#theme-toggle").click()
    wait_until(page, "document.getElementById('chart')._fullLayout.paper_bgcolor === '#171a23'")

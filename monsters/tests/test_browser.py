"""/data in a real browser: name suggestions, the submitted address, the table's head and edges.

Headless Chromium driven by Playwright (see bandersnatch.tests.browser).
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from bandersnatch.tests.browser import chromium_page, wait_until
from monsters.services import monsters_seed
from monsters.tests.factories import MonsterFactory


@pytest.fixture
def monsters(transactional_db):
    monsters_seed(count=120, seed=4)
    for name in ("Red Dragon", "Dracolich", "Red Dragon"):
        MonsterFactory(name=name, type="Dragon")


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_a_few_letters_suggest_names_arrow_down_and_enter_fill_the_field(monsters, live_server):
    with chromium_page() as page:
        page.goto(f"{live_server.url}/data/")
        name = page.locator("#id_q")
        assert name.get_attribute("role") == "combobox"
        assert name.get_attribute("aria-expanded") == "false"
        listbox = page.locator(f"#{name.get_attribute('aria-controls')}")
        assert listbox.get_attribute("role") == "listbox" and listbox.is_hidden()

        name.press_sequentially("dra", delay=50)
        page.wait_for_selector("#id_q-suggestions [role=option]")
        options = listbox.locator("[role=option]")
        texts = options.all_text_contents()
        assert texts[0] == "Dracolich" and "Red Dragon" in texts
        assert all("dra" in text.lower() for text in texts) and len(texts) <= 10
        assert name.get_attribute("aria-expanded") == "true"

        name.press("ArrowDown")
        assert name.get_attribute("aria-activedescendant") == options.nth(0).get_attribute("id")
        assert options.nth(0).get_attribute("aria-selected") == "true"
        name.press("ArrowDown")
        assert name.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
        name.press("Enter")
        assert name.input_value() == texts[1]
        assert name.get_attribute("aria-expanded") == "false" and listbox.is_hidden()
        assert "q=" not in page.url  # Enter took the suggestion; it did not send the form

        with page.expect_navigation():
            name.press("Enter")
        assert query(page.url)["q"] == [texts[1]]
        shown = page.locator("tbody td:nth-child(2)").all_text_contents()
        assert shown and set(shown) == {texts[1]}


def test_escape_closes_the_suggestions_and_two_letters_ask_nothing(monsters, live_server):
    with chromium_page() as page:
        asked = []
        page.on(
            "request", lambda request: asked.append(request.url) if "/data/names" in request.url else None
        )
        page.goto(f"{live_server.url}/data/")
        name = page.locator("#id_q")
        name.press_sequentially("dr", delay=50)
        page.wait_for_timeout(600)  # past the typing delay
        assert asked == [] and page.locator("#id_q-suggestions").is_hidden()
        name.press_sequentially("a", delay=50)
        page.wait_for_selector("#id_q-suggestions [role=option]")
        assert len(asked) == 1  # one request for the word typed, not one per key
        name.press("Escape")
        assert page.locator("#id_q-suggestions").is_hidden()
        assert name.get_attribute("aria-expanded") == "false" and name.input_value() == "dra"


def test_empty_fields_stay_out_of_the_address(monsters, live_server):
    with chromium_page() as page:
        page.goto(f"{live_server.url}/data/?sort=-level")
        page.select_option("#id_type", "Dragon")
        page.fill("#id_level_min", "2")
        page.fill("#id_q", "  ")
        with page.expect_navigation():
            page.click("button:has-text('Apply')")
        assert query(page.url) == {
            "type": ["Dragon"],
            "level_min": ["2"],
            "per_page": ["50"],
            "sort": ["-level"],
        }
        assert page.locator(".chip").count() == 2

        with page.expect_navigation():
            page.click(".chip:has-text('Level from')")  # remove that filter
        assert query(page.url) == {"type": ["Dragon"], "per_page": ["50"], "sort": ["-level"]}


def test_the_page_box_sends_only_the_parameters_in_force(monsters, live_server):
    with chromium_page() as page:
        page.goto(f"{live_server.url}/data/?q=&type=&per_page=10&level_max=")
        page.fill(".jump input[name=page]", "3")
        with page.expect_navigation():
            page.click(".jump button")
        assert query(page.url) == {"per_page": ["10"], "page": ["3"]}


def test_the_head_stays_in_view_while_the_page_scrolls(monsters, live_server):
    with chromium_page(width=1366, height=700) as page:
        page.goto(f"{live_server.url}/data/")
        assert "fits" in page.get_attribute("[data-table-frame]", "class")
        page.evaluate("window.scrollTo(0, 1200)")
        head = page.locator(".data-table thead th").first.bounding_box()
        assert abs(head["y"]) < 1  # stuck to the top of the window
        assert page.locator(".data-table").bounding_box()["y"] < -500  # while the table went on up


def test_on_a_phone_the_table_shows_that_it_scrolls_sideways(monsters, live_server):
    with chromium_page(width=390, height=844) as page:
        page.goto(f"{live_server.url}/data/")
        frame = page.locator("[data-table-frame]")
        assert frame.get_attribute("class").split() == ["table-frame", "more-right"]
        page.evaluate("document.querySelector('.table-scroll').scrollLeft = 1e6")
        wait_until(page, "document.querySelector('[data-table-frame]').classList.contains('more-left')")
        assert "more-right" not in frame.get_attribute("class")
        # Scrolled inside its box, the head stays at the box's top.
        page.evaluate("document.querySelector('.table-frame').scrollIntoView()")
        page.evaluate("document.querySelector('.table-scroll').scrollTop = 900")
        box = page.locator(".table-scroll").bounding_box()
        head = page.locator(".data-table thead th.col-name").bounding_box()  # the id is hidden on a phone
        assert abs(head["y"] - box["y"]) < 2

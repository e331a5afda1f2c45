"""Every page's frame in a real browser: the phone menu, the theme and its toggle, the skip link."""

import pytest

from bandersnatch.tests.browser import PHONE, chromium_page, sign_in, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


DARK_BACKGROUND, LIGHT_BACKGROUND = "rgb(15, 17, 23)", "rgb(246, 247, 251)"


@pytest.fixture
def staff(django_user_model):
    django_user_model.objects.create_user("boss", password="a long password 1", is_staff=True)


def test_on_a_phone_the_navigation_is_one_row_with_a_menu(live_server, staff):
    with chromium_page(**PHONE) as page:
        sign_in(page, live_server.url, "boss", "a long password 1")  # staff: the longest navigation
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 70  # one row (it wrapped to five for staff)
        links = page.locator(".nav-links a")
        assert not links.first.is_visible()
        menu = page.locator("#nav-toggle")
        assert menu.get_attribute("aria-expanded") == "false"

        menu.tap()
        assert menu.get_attribute("aria-expanded") == "true"
        assert [name.strip() for name in links.all_text_contents()][-3:] == ["Ops", "Monitoring", "Admin"]
        assert all(link.is_visible() for link in links.all())
        page.get_by_role("link", name="Data", exact=True).tap()
        page.wait_for_url("**/data/")
        assert not page.locator(".nav-links a").first.is_visible()  # a new page starts folded

        menu.tap()
        page.keyboard.press("Escape")
        assert menu.get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.activeElement.id") == "nav-toggle"


def test_on_a_wide_screen_the_links_show_without_a_menu(live_server):
    with chromium_page() as page:
        page.goto(f"{live_server.url}/")
        assert not page.locator("#nav-toggle").is_visible()
        assert page.locator(".nav-links a", has_text="Statistics").is_visible()


@pytest.mark.parametrize("scheme, expected", [("dark", DARK_BACKGROUND), ("light", LIGHT_BACKGROUND)])
def test_the_theme_follows_the_system(live_server, scheme, expected):
    with chromium_page(color_scheme=scheme) as page:
        page.goto(f"{live_server.url}/")
        assert background(page) == expected
        assert page.evaluate("document.documentElement.dataset.theme") == scheme


def test_the_theme_toggle_switches_and_is_remembered_until_set_back(live_server):
    with chromium_page(color_scheme="light") as page:
        page.goto(f"{live_server.url}/")
        toggle = page.locator("#theme-toggle")
        assert toggle.get_attribute("aria-label") == "Switch to the dark theme"
        toggle.click()
        assert background(page) == DARK_BACKGROUND
        assert toggle.get_attribute("aria-label") == "Switch to the light theme"

        page.goto(f"{live_server.url}/data/")  # another page, and a reload, keep the choice
        assert background(page) == DARK_BACKGROUND
        page.reload()
        assert background(page) == DARK_BACKGROUND

        page.locator("#theme-toggle").click()  # back to what the system says: forgotten
        assert background(page) == LIGHT_BACKGROUND
        assert page.evaluate("localStorage.getItem('bandersnatch-theme')") is None
        page.emulate_media(color_scheme="dark")  # so the page follows the system again
        wait_until(page, "document.documentElement.dataset.theme === 'dark'", timeout=5_000)
        assert background(page) == DARK_BACKGROUND


def test_the_skip_link_is_the_first_stop_and_jumps_to_the_content(live_server):
    with chromium_page() as page:
        page.goto(f"{live_server.url}/")
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert skip.is_visible() and skip.text_content() == "Skip to the content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "content"

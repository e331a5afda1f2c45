"""Every page under the Content-Security-Policy, in a real browser: nothing refused.

chromium_page fails the test on any report of the policy (and on any script error), so
opening every page (site_pages, the list `make screenshots` photographs) with its charts
drawn is the whole check.
"""

import pytest

from bandersnatch.tests import site_pages
from bandersnatch.tests.browser import CHARTS_DRAWN, chromium_page, sign_in, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long password 1"


def test_no_page_breaks_the_content_security_policy(live_server):
    pages = site_pages.pages(site_pages.prepare(PASSWORD))
    opened = 0
    for who, listed in pages.items():
        with chromium_page() as page:
            if who in site_pages.USERNAMES:
                sign_in(page, live_server.url, site_pages.USERNAMES[who], PASSWORD)
            for name, path in listed:
                response = page.goto(live_server.url + path)
                policy = response.headers.get("content-security-policy", "")
                assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (who, name)
                page.wait_for_load_state("networkidle")
                if page.locator("[data-figure]").count():
                    wait_until(page, CHARTS_DRAWN, timeout=30_000)
                opened += 1
    assert opened == sum(map(len, pages.values()))


def test_the_browser_refuses_what_the_policy_forbids(live_server):
    """The check above can fail: an inline script and style are refused and reported."""
    with pytest.raises(AssertionError, match="Content Security Policy"):
        with chromium_page() as page:
            page.goto(f"{live_server.url}/")
            page.evaluate("""() => {
                const script = document.createElement('script');
                script.textContent = 'window.injected = true';
                document.body.append(script);
                document.body.setAttribute('style', 'color: red');
            }""")
            page.wait_for_timeout(200)
            assert page.evaluate("window.injected") is None

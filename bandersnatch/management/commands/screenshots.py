"""Screenshots of every page, at a desktop and a phone size, in the light and the dark theme.

`make screenshots` runs this on a database of its own (var/screenshots.sqlite3) and writes
var/screenshots/<who>/<page>-<size>-<theme>.png (git-ignored), so that whoever changes a page
can first look at all of them.  It puts in what the pages need (monsters, two model versions,
a dataset with a model, a queued job, a user and a staff member), serves the app with
gunicorn as production does (DEBUG off: the error pages are the site's own; the static
files as collectstatic left them, which the make target runs first) and drives
Debian's Chromium with Playwright, as the browser tests do.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bandersnatch.tests import site_pages

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844, "touch": True}}
THEMES = ("light", "dark")
PASSWORD = "screenshots only 1"  # the accounts exist only in the screenshots' own database


class Command(BaseCommand):
    help = "Take screenshots of every page at a desktop and a phone size (make screenshots)."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="var/screenshots", help="Folder to write them into.")
        parser.add_argument("--only", default="", help="Comma-separated page names (default: every page).")
        parser.add_argument("--themes", default=",".join(THEMES), help="light, dark or both (default).")

    def handle(self, *args, out, only, themes, verbosity, **options):
        chromium = "/usr/bin/chromium"
        if not os.path.exists(chromium):
            raise CommandError("Chromium is not installed: apt-get install chromium.")
        themes = [theme for theme in themes.split(",") if theme]
        if not set(themes) <= set(THEMES):
            raise CommandError(f"Unknown theme in {themes}: light or dark.")
        pages = site_pages.pages(site_pages.prepare(PASSWORD))
        wanted = {name for name in only.split(",") if name}
        out_dir = Path(out)
        taken = 0
        with self._server(out_dir / "server.log") as url:
            from playwright.sync_api import sync_playwright

            from bandersnatch.tests.browser import CHROMIUM_ARGS

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                for who, listed in pages.items():
                    listed = [(name, path) for name, path in listed if not wanted or name in wanted]
                    for theme in themes:
                        for size, screen in SIZES.items():
                            taken += self._shoot(
                                browser, url, who, listed, size, screen, theme, out_dir / who
                            )
                browser.close()
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Wrote {taken} screenshots into {out_dir}/."))

    @contextmanager
    def _server(self, log_path: Path) -> Iterator[str]:
        """gunicorn on a free port over this database, with production's settings but plain HTTP."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            **os.environ, "DEBUG": "false", "SECRET_KEY": settings.SECRET_KEY,
            "MODEL_SIGNING_KEY": settings.MODEL_SIGNING_KEY, "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false", "SECURE_HSTS_SECONDS": "0",
            "SERVE_STATIC_SOURCES": "false", "AXES_FAILURE_LIMIT": "1000",
        }  # fmt: skip
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "w")  # noqa: SIM115 (closed below, after the server stops)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "bandersnatch.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "4"],
            env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{url}/api/live", timeout=1)
                    break
                except OSError:
                    if server.poll() is not None:
                        raise CommandError(f"The web server did not start: see {log_path}.") from None
                    time.sleep(0.2)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()

    def _shoot(self, browser, url, who, listed, size, screen, theme, out_dir: Path) -> int:
        """Screenshots of `listed` pages as `who`; how many were taken."""
        from bandersnatch.tests.browser import CHARTS_DRAWN, sign_in, wait_until

        touch = screen.get("touch", False)
        context = browser.new_context(
            viewport={"width": screen["width"], "height": screen["height"]}, is_mobile=touch, has_touch=touch,
            color_scheme=theme,
        )  # fmt: skip
        page = context.new_page()
        if who in site_pages.USERNAMES:
            sign_in(page, url, site_pages.USERNAMES[who], PASSWORD)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, path in listed:
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            if page.locator("[data-figure]").count():
                wait_until(page, CHARTS_DRAWN, timeout=30_000)
            # The whole page in a viewport as tall as it: a full-page screenshot would drop the
            # phone's touch emulation while it is taken (the charts' toolbars would show).
            height = min(page.evaluate("document.documentElement.scrollHeight"), 12_000)
            page.set_viewport_size({"width": screen["width"], "height": height})
            page.wait_for_timeout(300)  # the charts follow the new size
            page.screenshot(path=out_dir / f"{name}-{size}-{theme}.png")
            page.set_viewport_size({"width": screen["width"], "height": screen["height"]})
        context.close()
        return len(listed)

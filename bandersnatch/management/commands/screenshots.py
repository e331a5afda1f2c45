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
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844, "touch": True}}
THEMES = ("light", "dark")
PASSWORD = "screenshots only 1"  # the accounts exist only in the screenshots' own database
CHARTS_DRAWN = (
    "[...document.querySelectorAll('[data-figure]')].every(chart => chart.querySelector('.main-svg'))"
)


def _pages(ids: dict) -> dict[str, list[tuple[str, str]]]:
    """(name, path) of every page, by who looks at it."""
    dataset = f"/datasets/{ids['dataset']}"
    return {
        "anonymous": [
            ("home", "/"),
            ("data", "/data/"),
            ("data-filtered", "/data/?type=Fey&level_min=5&sort=-health"),
            ("data-errors", "/data/?level_min=30&level_max=2"),
            ("data-past-the-end", "/data/?page=9999"),
            ("monster", f"/monsters/{ids['monster']}/"),
            ("view", "/view/"),
            ("view-histogram", "/view/?kind=histogram&x=health&color=rarity"),
            ("view-box", "/view/?kind=box&x=type&y=health&color="),
            ("view-density", "/view/?kind=density&x=level&y=health&color="),
            ("view-nothing", "/view/?q=no+such+monster"),
            ("statistics", "/analytics/"),
            ("model", "/model/"),
            ("versions", "/model/versions/"),
            ("version", f"/model/versions/{ids['version']}/"),
            ("compare", f"/model/versions/compare/?a={ids['version']}&b={ids['other_version']}"),
            ("datasets", "/datasets/"),
            ("dataset", f"{dataset}/"),
            ("dataset-view", f"{dataset}/view/"),
            ("dataset-statistics", f"{dataset}/analytics/"),
            ("dataset-model", f"{dataset}/model/"),
            ("login", "/accounts/login/"),
            ("signup", "/accounts/signup/"),
            ("password-reset", "/accounts/password_reset/"),
            ("password-reset-done", "/accounts/password_reset/done/"),
            ("password-reset-bad-link", "/accounts/reset/MQ/no-such-token/"),
            ("password-reset-complete", "/accounts/reset/done/"),
            ("not-found", "/no/such/page/"),
            ("forbidden", "/ops/"),
            ("api-docs", "/api/docs"),
        ],  # fmt: skip
        "user": [
            ("home", "/"),
            ("forbidden", "/ops/"),
            ("dataset-new", "/datasets/new/"),
            ("dataset-train", f"{dataset}/train/"),
            ("password-change", "/accounts/password_change/"),
            ("account", "/accounts/"),
        ],  # fmt: skip
        "staff": [
            ("ops", "/ops/"),
            ("reset", "/ops/reset/"),
            ("import", "/ops/import/"),
            ("train", "/ops/train/"),
            ("job", f"/ops/jobs/{ids['job']}/"),
            ("monitoring", "/model/monitoring/"),
            ("admin", "/admin/"),
            ("versions", "/model/versions/"),
        ],  # fmt: skip
    }


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
        pages = _pages(self._prepare())
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

    def _prepare(self) -> dict:
        """What the pages show, put in once (a second run finds it there)."""
        from analytics.datasets import dataset_create
        from analytics.models import Dataset
        from bandersnatch.jobs import job_start
        from bandersnatch.models import Job
        from ml.models import ModelVersion
        from ml.services import model_version_train
        from monsters import tasks
        from monsters.models import Monster
        from monsters.services import monsters_seed

        users = get_user_model().objects
        for name, staff in (("reader", False), ("keeper", True)):
            if not users.filter(username=name).exists():
                users.create_user(name, password=PASSWORD, is_staff=staff)
        if not Monster.objects.exists():
            monsters_seed(count=1_000, seed=42)
        while ModelVersion.objects.filter(dataset__slug="monsters").count() < 2:
            model_version_train(seed=ModelVersion.objects.count())
        dataset = Dataset.objects.filter(name="Iris").first()
        if dataset is None:
            import sklearn

            iris = Path(sklearn.__file__).parent / "datasets/data/iris.csv"
            with open(iris, "rb") as file:
                dataset = dataset_create(
                    file=file, name="Iris", owner=users.get(username="reader"), is_public=True,
                    description="scikit-learn's iris flowers.",
                )  # fmt: skip
        if not ModelVersion.objects.filter(dataset=dataset).exists():
            model_version_train(dataset=dataset, seed=0)
        job = Job.objects.filter(kind=Job.Kind.RESEED).first() or job_start(
            tasks.reseed, kind=Job.Kind.RESEED, summary="Replace every monster with 2,000,000 generated ones",
            count=2_000_000, seed=None, actor_id=None,
        )  # fmt: skip
        versions = ModelVersion.objects.filter(dataset__slug="monsters").order_by("-version")
        return {
            "monster": Monster.objects.order_by("pk").values_list("pk", flat=True).first(),
            "version": versions[0].version, "other_version": versions[1].version,
            "dataset": dataset.slug, "job": job.pk,
        }  # fmt: skip

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
        touch = screen.get("touch", False)
        context = browser.new_context(
            viewport={"width": screen["width"], "height": screen["height"]}, is_mobile=touch, has_touch=touch,
            color_scheme=theme,
        )  # fmt: skip
        page = context.new_page()
        if who != "anonymous":
            page.goto(f"{url}/accounts/login/")
            page.fill("input[name=username]", "keeper" if who == "staff" else "reader")
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_load_state()
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, path in listed:
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            if page.locator("[data-figure]").count():
                page.wait_for_function(CHARTS_DRAWN, timeout=30_000)
            # The whole page in a viewport as tall as it: a full-page screenshot would drop the
            # phone's touch emulation while it is taken (the charts' toolbars would show).
            height = min(page.evaluate("document.documentElement.scrollHeight"), 12_000)
            page.set_viewport_size({"width": screen["width"], "height": height})
            page.wait_for_timeout(300)  # the charts follow the new size
            page.screenshot(path=out_dir / f"{name}-{size}-{theme}.png")
            page.set_viewport_size({"width": screen["width"], "height": screen["height"]})
        context.close()
        return len(listed)

"""A job's page in headless Chromium: its progress bar moves as the job reports, then it shows the result.

The test plays the worker: it claims an import job and writes its progress
and its result from threads of their own (no ORM calls in the test's thread
while the page is open, see bandersnatch.tests.browser), between the page's
polls.
"""

import datetime as dt
import os
import re
import socket
import threading

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bandersnatch.jobs import job_start
from bandersnatch.models import Job
from bandersnatch.tests.browser import chromium_page, wait_until
from bandersnatch.tests.test_jobs import worker_lock
from monsters import tasks as monster_tasks

PROGRESS = "document.querySelector('[data-job-progress] progress')"


def as_the_worker(work) -> None:
    """Run `work` (ORM calls) on a thread and a connection of its own, as the worker's would be."""

    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)


def report(job: Job, done: int, note: str, since: dt.datetime) -> None:
    """What JobProgress writes for a count of 1,000 monsters."""
    progress = {"done": done, "total": 1_000, "unit": "rows", "note": note, "since": since.isoformat()}
    as_the_worker(lambda: Job.objects.filter(pk=job.pk).update(progress=progress))


@pytest.fixture
def running_import(transactional_db, django_user_model):
    """An import job a worker (this process) has taken and started 20 s ago, 100 monsters written of 1,000."""
    staff = django_user_model.objects.create_user("keeper", is_staff=True)
    job = job_start(
        monster_tasks.import_csv, kind=Job.Kind.IMPORT, summary="Append the monsters of big.csv (1.6 MB)",
        actor=staff, upload="uploads/none", file_name="big.csv", mode="append", actor_id=staff.pk,
    )  # fmt: skip
    result = DBTaskResult.objects.get(pk=job.pk)
    result.claim("browser-test")
    started = timezone.now() - dt.timedelta(seconds=20)
    DBTaskResult.objects.filter(pk=job.pk).update(started_at=started)
    Job.objects.filter(pk=job.pk).update(runner_host=socket.gethostname(), runner_pid=os.getpid())
    job.refresh_from_db()
    report(job, 100, "100 of 1,000 monsters written", since=started)
    client = Client()
    client.force_login(staff)
    return job, started, client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_progress_bar_moves_as_the_job_reports_and_the_page_ends_on_the_result(
    running_import, live_server
):
    job, started, session = running_import
    with worker_lock(job), chromium_page(width=390, height=844) as page:
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page.goto(f"{live_server.url}/ops/jobs/{job.pk}/")
        assert page.locator(".badge.job-running").count() == 1
        assert page.evaluate(f"{PROGRESS}.value") == 100 and page.evaluate(f"{PROGRESS}.max") == 1_000
        wait_until(
            page, "document.querySelector('[data-job-elapsed]').textContent.includes('left')", timeout=10_000
        )
        # 100 in 20 s and more (the page took a while to open): 900 more at that pace take minutes.
        clock = page.text_content("[data-job-elapsed]")
        assert re.fullmatch(r"[23]\d s elapsed, about [3-5] min left", clock), clock

        report(job, 600, "600 of 1,000 monsters written", since=started)
        wait_until(page, f"{PROGRESS}.value === 600", timeout=10_000)  # the next poll, no reload
        assert page.text_content("[data-job-progress-text]") == "600 of 1,000 monsters written"
        wait_until(
            page,
            "/about \\d+ s left/.test(document.querySelector('[data-job-elapsed]').textContent)",
            timeout=10_000,
        )  # 600 in half a minute: 400 more in seconds

        report(job, 1_000, "1,000 of 1,000 monsters written; building the indexes", since=started)
        wait_until(page, f"{PROGRESS}.value === 1000", timeout=10_000)
        assert "left" not in page.text_content("[data-job-elapsed]")

        result = {"message": "Imported 1,000 monsters from big.csv.", "url": "/data/?id_min=5&id_max=1004",
                  "link_text": "See the 1,000 imported monsters"}  # fmt: skip
        as_the_worker(lambda: DBTaskResult.objects.get(pk=job.pk).set_successful(result))
        page.wait_for_selector(".badge.job-succeeded", timeout=10_000)  # the page reloads itself
        assert page.locator("[data-job-progress]").count() == 0
        link = page.locator("a", has_text="See the 1,000 imported monsters")
        assert link.get_attribute("href") == "/data/?id_min=5&id_max=1004"

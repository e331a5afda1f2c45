"""Background jobs: queued, running, succeeded, failed; workers killed or cut off from the database."""

import datetime as dt
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from unittest import mock

import numpy as np
import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from bandersnatch.jobs import (
    HEARTBEAT_SECONDS,
    WORKER_LOST,
    WORKER_LOST_MESSAGE,
    _lock_key,
    job_queue_health,
    job_start,
    job_state,
    worker_check_in,
)
from bandersnatch.models import AuditEntry, Job, WorkerHeartbeat
from bandersnatch.tests.servers import db_worker, process_env
from ml.models import ModelVersion
from monsters import tasks as monster_tasks
from monsters.models import Monster
from monsters.services import monsters_seed

pytestmark = pytest.mark.django_db
POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker process shares the database"
)


def reseed_job(count=40, actor=None) -> Job:
    return job_start(
        monster_tasks.reseed, kind=Job.Kind.RESEED, summary=f"Reseed {count}", actor=actor,
        count=count, seed=3, actor_id=actor.pk if actor else None,
    )  # fmt: skip


def run_worker() -> None:
    """Run every queued job in this process, as `manage.py db_worker` would.

    The worker closes stale connections between jobs; in a test that would
    end the test's own transaction, so here it keeps the connection.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", stdout=StringIO())


def claim(job: Job, *, pid: int | None, started_seconds_ago: float = 0) -> None:
    """What a worker does when it takes a job: mark it running (and say where, once it starts)."""
    started = timezone.now() - dt.timedelta(seconds=started_seconds_ago)
    DBTaskResult.objects.filter(pk=job.pk).update(status=TaskResultStatus.RUNNING, started_at=started)
    Job.objects.filter(pk=job.pk).update(runner_host=socket.gethostname(), runner_pid=pid)
    job.refresh_from_db()


@contextmanager
def worker_lock(job: Job):
    """On PostgreSQL a running job holds an advisory lock from its worker's own connection."""
    if connection.vendor != "postgresql":
        yield
        return
    params = connection.get_connection_params()
    other = psycopg2.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    )
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(job.pk)])
    try:
        yield
    finally:
        other.close()


@contextmanager
def worker_process(*options: str, application_name: str = "", log: Path | None = None):
    """A real `manage.py db_worker` on the test database, its connections named `application_name`."""
    env = process_env(LOG_LEVEL="WARNING", **({"PGAPPNAME": application_name} if application_name else {}))
    with open(log or os.devnull, "w") as output, db_worker(*options, env=env, stdout=output) as worker:
        yield worker


def wait_until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def backends(name: str) -> int:
    """How many connections have the application_name `name`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [name])
        return cursor.fetchone()[0]


def waited(job: Job, *, seconds: float) -> Job:
    DBTaskResult.objects.filter(pk=job.pk).update(enqueued_at=timezone.now() - dt.timedelta(seconds=seconds))
    return job


def progress_time(job: Job) -> str:
    """When the job finished, in the ISO form a progress report's `since` takes."""
    return job_state(job).finished_at.isoformat()


def exported_csv(*, count: int) -> bytes:
    """`count` generated monsters in the export's format."""
    from monsters.generator import generate_monsters

    return generate_monsters(count, rng=np.random.default_rng(7)).to_csv(index=False).encode()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


class TestLifecycle:
    def test_a_new_job_is_queued(self, admin_user):
        state = job_state(reseed_job(actor=admin_user))
        assert state.status == "queued" and not state.finished
        assert state.enqueued_at is not None and state.started_at is None

    def test_the_worker_runs_it_to_success(self, admin_user):
        monsters_seed(count=5, seed=1)
        job = reseed_job(count=40, actor=admin_user)
        run_worker()
        state = job_state(job)
        assert state.status == "succeeded" and state.finished
        assert state.result["message"] == "Replaced every monster with 40 new ones."
        assert state.started_at <= state.finished_at
        assert Monster.objects.count() == 40
        assert AuditEntry.objects.filter(action="reset", actor=admin_user).exists()

    def test_a_failing_job_is_failed_with_its_reason_and_changes_nothing(self, admin_user):
        from ml import tasks as ml_tasks

        monsters_seed(count=20, seed=1)  # too few to train on
        job = job_start(
            ml_tasks.train, kind=Job.Kind.TRAIN, summary="Train", actor=admin_user, actor_id=admin_user.pk,
            options={"algorithm": "logistic_regression", "features": ["level", "health"], "target": "rarity",
                     "params": {}, "seed": 1, "test_size": 0.2, "activate": None},
        )  # fmt: skip
        run_worker()
        state = job_state(job)
        assert state.status == "failed"
        assert "at least 50" in state.error
        assert not ModelVersion.objects.exists()
        assert not AuditEntry.objects.filter(action="train").exists()

    def test_the_workers_log_lines_of_a_job_carry_its_id(self, admin_user, caplog):
        caplog.set_level(logging.INFO, logger="django_tasks")
        monsters_seed(count=5, seed=1)
        job = reseed_job(count=10, actor=admin_user)
        run_worker()
        lines = [record for record in caplog.records if record.name == "django_tasks"]
        assert [record.getMessage().rsplit("=", 1)[-1] for record in lines] == ["RUNNING", "SUCCESSFUL"]
        assert {record.request_id for record in lines} == {uuid.UUID(str(job.pk)).hex}

    def test_a_job_running_in_a_live_worker_is_running(self):
        job = reseed_job()
        claim(job, pid=os.getpid())
        with worker_lock(job):
            assert job_state(job).status == "running"

    def test_a_job_whose_worker_is_gone_is_failed(self):
        monsters_seed(count=5, seed=1)
        job = reseed_job()
        claim(job, pid=dead_pid())
        state = job_state(job)
        assert state.status == "failed" and state.error == WORKER_LOST_MESSAGE
        assert DBTaskResult.objects.get(pk=job.pk).status == TaskResultStatus.FAILED
        assert Monster.objects.count() == 5

    def test_a_claimed_job_gets_a_while_to_start(self, settings):
        job = reseed_job()
        claim(job, pid=None, started_seconds_ago=5)
        assert job_state(job).status == "running"
        claim(job, pid=None, started_seconds_ago=settings.JOB_STALE_SECONDS + 1)
        assert job_state(job).status == "failed"


@POSTGRES
def test_a_worker_killed_mid_job_leaves_the_data_and_shows_failed(transactional_db, admin_user):
    """A real `manage.py db_worker` takes a large reseed and is killed (SIGKILL) while it runs."""
    monsters_seed(count=50, seed=1)
    before = list(Monster.objects.order_by("pk").values_list("pk", "name", "health"))
    job = reseed_job(count=3_000_000, actor=admin_user)
    with worker_process() as worker:
        wait_until(lambda: Job.objects.get(pk=job.pk).runner_pid is not None)
        job.refresh_from_db()
        assert job.runner_pid == worker.pid
        time.sleep(0.5)  # in the middle of generating and copying
        assert job_state(job).status == "running"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    deadline = time.monotonic() + 10
    while job_state(job).status == "running" and time.monotonic() < deadline:
        time.sleep(0.1)  # PostgreSQL notices the dropped connection
    state = job_state(job)
    assert state.status == "failed" and state.error == WORKER_LOST_MESSAGE
    assert list(Monster.objects.order_by("pk").values_list("pk", "name", "health")) == before
    assert not AuditEntry.objects.filter(action="reset").exists()


@POSTGRES
class TestDatabaseRestart:
    """The worker's connections cut and refused for a second, as in a PostgreSQL restart."""

    def test_the_worker_reconnects_and_runs_the_next_job(self, database_outage, admin_user, tmp_path):
        name = f"bandersnatch-test-worker-{uuid.uuid4().hex[:8]}"
        log = tmp_path / "worker.log"
        with worker_process(application_name=name, log=log) as worker:
            wait_until(lambda: backends(name) > 0)
            with database_outage(name) as cut:
                assert cut >= 1
                time.sleep(1)
            back = timezone.now()
            job = reseed_job(count=40, actor=admin_user)
            wait_until(lambda: worker.poll() is not None or job_state(job).finished)
            assert worker.poll() is None, "the worker exited"
            assert job_state(job).status == "succeeded"
            wait_until(lambda: WorkerHeartbeat.objects.filter(pid=worker.pid, seen_at__gt=back).exists())
            worker.send_signal(signal.SIGINT)
            assert worker.wait(timeout=10) == 0
        output = log.read_text()
        assert "The database is unavailable (connection to server" in output
        assert "trying again in 0.5 s." in output and "The database answers again" in output
        assert not WorkerHeartbeat.objects.exists()  # it checked out

    def test_a_job_the_restart_broke_is_recorded_failed_and_the_worker_goes_on(
        self, database_outage, admin_user, tmp_path
    ):
        monsters_seed(count=50, seed=1)
        before = list(Monster.objects.order_by("pk").values_list("pk", "name", "health"))
        name = f"bandersnatch-test-worker-{uuid.uuid4().hex[:8]}"
        job = reseed_job(count=1_000_000, actor=admin_user)
        with worker_process(application_name=name, log=tmp_path / "worker.log") as worker:
            wait_until(lambda: Job.objects.get(pk=job.pk).runner_pid == worker.pid)
            job.refresh_from_db()
            time.sleep(0.3)  # generating and copying
            with database_outage(name):
                time.sleep(1)
            recorded = DBTaskResult.objects.filter(pk=job.pk, status=TaskResultStatus.FAILED).exclude(
                exception_class_path=WORKER_LOST
            )  # by the worker itself, not by job_state() noticing a dead one
            wait_until(lambda: worker.poll() is not None or recorded.exists())
            assert worker.poll() is None, "the worker exited"
            state = job_state(job)
            assert state.status == "failed" and "database" in state.traceback
            assert list(Monster.objects.order_by("pk").values_list("pk", "name", "health")) == before
            next_job = reseed_job(count=40, actor=admin_user)
            wait_until(lambda: job_state(next_job).finished)
            assert job_state(next_job).status == "succeeded"


class TestQueueHealth:
    def test_the_operations_page_warns_when_jobs_wait_and_no_worker_checked_in(self, client, admin_user):
        job = waited(reseed_job(actor=admin_user), seconds=settings.JOB_WORKER_STALE_SECONDS + 5)
        client.force_login(admin_user)
        message = (
            "1 job has waited more than 60 s and no worker has checked in: "
            "start one with manage.py db_worker."
        )
        content = client.get(reverse("ops")).content.decode()
        assert "Jobs are waiting for a worker." in content and message in content
        assert message in client.get(reverse("job", args=[job.pk])).content.decode()

    def test_a_worker_that_checked_in_lately_is_no_warning(self, client, admin_user):
        job = waited(reseed_job(actor=admin_user), seconds=settings.JOB_WORKER_STALE_SECONDS + 5)
        worker_check_in(worker_id="busy-worker")
        client.force_login(admin_user)
        content = client.get(reverse("ops")).content.decode()
        assert "Jobs are waiting" not in content and "Worker: last checked in 0" in content
        assert "no worker has checked in" not in client.get(reverse("job", args=[job.pk])).content.decode()

    def test_a_worker_that_checks_in_but_takes_no_job_is_a_warning(self, client, admin_user):
        worker_check_in(worker_id="stuck")
        WorkerHeartbeat.objects.update(started_at=timezone.now() - dt.timedelta(minutes=5))
        job = waited(reseed_job(actor=admin_user), seconds=settings.JOB_WORKER_STALE_SECONDS + 5)
        client.force_login(admin_user)
        message = (
            "1 job has waited more than 60 s while a worker that checks in has taken no job for as long: "
            "it is stuck, or serves another queue. Restart manage.py db_worker."
        )
        content = client.get(reverse("ops")).content.decode()
        assert "Jobs are waiting for a worker." in content and message in content
        assert message in client.get(reverse("job", args=[job.pk])).content.decode()

    def test_a_worker_gone_quiet_is_a_warning_once_jobs_wait(self, client, admin_user):
        worker_check_in(worker_id="gone")
        WorkerHeartbeat.objects.update(seen_at=timezone.now() - dt.timedelta(minutes=5))
        client.force_login(admin_user)
        content = client.get(reverse("ops")).content.decode()
        assert "Jobs are waiting" not in content and "Worker: last checked in 5" in content
        reseed_job(actor=admin_user)  # queued just now: a worker would not have been late yet
        assert "Jobs are waiting" not in client.get(reverse("ops")).content.decode()
        waited(reseed_job(actor=admin_user), seconds=settings.JOB_WORKER_STALE_SECONDS + 5)
        content = client.get(reverse("ops")).content.decode()
        assert "1 job has waited more than 60 s and no worker has checked in for 5 minutes" in content


@POSTGRES
def test_a_real_worker_that_serves_another_queue_is_reported(transactional_db, admin_user, settings):
    """It checks in every few seconds and never takes the jobs queued where it does not look."""
    settings.JOB_WORKER_STALE_SECONDS = HEARTBEAT_SECONDS + 1  # a worker is seen between its check-ins
    with worker_process("--queue-name", "elsewhere") as worker:
        wait_until(lambda: WorkerHeartbeat.objects.filter(pid=worker.pid).exists())
        reseed_job(actor=admin_user)
        assert not job_queue_health().stalled  # neither the job nor the worker has waited long yet
        time.sleep(settings.JOB_WORKER_STALE_SECONDS + 0.5)
        queue = job_queue_health()
        assert queue.worker_seen and queue.idle_workers == 1 and queue.stalled
        assert "a worker that checks in has taken no job" in queue.message


class TestJobPage:
    def test_staff_see_the_status_times_and_result(self, client, admin_user):
        job = reseed_job(actor=admin_user)
        client.force_login(admin_user)
        page = client.get(reverse("job", args=[job.pk]))
        assert page.status_code == 200
        content = page.content.decode()
        assert "queued" in content and "This page updates itself" in content and "js/job.js" in content
        assert client.get(reverse("job-status", args=[job.pk])).json() == {
            "status": "queued", "finished": False, "error": "", "progress": {}, "started_at": None,
        }  # fmt: skip
        run_worker()
        content = client.get(reverse("job", args=[job.pk])).content.decode()
        assert "succeeded" in content and "Replaced every monster with 40 new ones." in content
        assert re.search(r"\(ran \d+\.\d s\)", content)
        assert "js/job.js" not in content  # nothing left to wait for

    def test_the_user_is_told_on_their_next_page_when_it_finishes(self, client, admin_user, monkeypatch):
        monkeypatch.setattr("monsters.views.RESEED_INLINE_MAX", 10)
        client.force_login(admin_user)
        client.post(reverse("monsters:reset"), {"count": 25, "confirm": "on"})
        assert "Finished:" not in client.get(reverse("monsters:home")).content.decode()
        run_worker()
        content = client.get(reverse("monsters:home")).content.decode()
        assert "Finished:" in content and "Replace every monster with 25 generated ones" in content
        assert "Finished:" not in client.get(reverse("monsters:home")).content.decode()  # told once

    def test_unknown_job_is_404(self, client, admin_user):
        client.force_login(admin_user)
        assert client.get("/ops/jobs/00000000-0000-0000-0000-000000000000/").status_code == 404

    def test_a_job_is_seen_by_staff_and_by_whoever_started_it(self, client, django_user_model):
        starter = django_user_model.objects.create_user("starter", password="x")
        job = reseed_job(actor=starter)
        job_pages = (reverse("job", args=[job.pk]), reverse("job-status", args=[job.pk]))
        for url in (*job_pages, reverse("ops")):
            client.logout()
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
            client.force_login(django_user_model.objects.create_user(f"visitor-{url}", password="x"))
            assert client.get(url).status_code == (404 if url in job_pages else 403)  # not admitted to exist
        client.force_login(starter)
        assert [client.get(url).status_code for url in job_pages] == [200, 200]

    def test_the_operations_page_lists_jobs_and_the_audit_log(self, client, admin_user):
        monsters_seed(count=5, seed=1, reset=True, actor=admin_user)
        reseed_job(actor=admin_user)
        client.force_login(admin_user)
        content = client.get(reverse("ops")).content.decode()
        assert "Reseed 40" in content and "Replaced every monster with 5 monsters (seed 1)" in content


@POSTGRES
@pytest.mark.django_db(transaction=True)
class TestProgress:
    def test_progress_is_seen_by_other_connections_while_the_job_is_in_its_transaction(
        self, admin_user, monkeypatch
    ):
        from bandersnatch import jobs

        job = reseed_job(actor=admin_user)
        progress = jobs.JobProgress(job.pk, unit="bytes", total=1_000)
        since = progress.since
        monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0)
        other = psycopg2.connect(
            dbname=connection.settings_dict["NAME"], user=connection.settings_dict["USER"],
            host=connection.settings_dict["HOST"], port=connection.settings_dict["PORT"],
        )  # fmt: skip
        try:
            with transaction.atomic():  # as a job's load: its own writes unseen until it commits
                progress(500, "500 rows loaded")
                with other.cursor() as cursor:  # what the job page's process reads meanwhile
                    cursor.execute("SELECT progress FROM bandersnatch_job WHERE id = %s", [str(job.pk)])
                    seen = cursor.fetchone()[0]
        finally:
            other.close()
        assert seen == {
            "done": 500, "total": 1_000, "unit": "bytes", "note": "500 rows loaded", "since": since,
        }  # fmt: skip
        assert dt.datetime.fromisoformat(since) <= timezone.now()  # when it began counting, for the estimate

    def test_reports_come_at_most_every_half_second(self, admin_user):
        from bandersnatch import jobs

        job = reseed_job(actor=admin_user)
        progress = jobs.JobProgress(job.pk, unit="rows")
        progress(1)
        progress(2)  # too soon: not written
        assert Job.objects.get(pk=job.pk).progress["done"] == 1
        progress(3, "a new stage", force=True)  # a stage shows at once
        assert Job.objects.get(pk=job.pk).progress["done"] == 3

    def test_a_reseed_job_reports_its_rows(self, admin_user):
        job = reseed_job(count=40, actor=admin_user)
        run_worker()
        progress = Job.objects.get(pk=job.pk).progress
        assert progress.pop("since") <= progress_time(job)
        assert progress == {
            "done": 40, "total": 40, "unit": "rows", "note": "40 of 40 monsters made; building the indexes",
        }  # fmt: skip

    def test_an_import_job_reports_the_bytes_read_then_the_monsters_written(
        self, admin_user, monkeypatch, settings, tmp_path
    ):
        from django.core.files.base import ContentFile

        from analytics.datasets import upload_store
        from monsters import importing

        settings.MEDIA_ROOT = tmp_path
        monkeypatch.setattr(importing, "WRITE_CHUNK_ROWS", 30)
        monsters_seed(count=5, seed=1)
        upload = upload_store(ContentFile(exported_csv(count=70), name="seventy.csv"))
        size = (tmp_path / upload).stat().st_size
        seen = []
        real = monster_tasks.JobProgress.__call__

        def recorded(self, done, note="", *, force=False):
            seen.append((self.unit, done, self.total, note, force))
            real(self, done, note, force=force)

        monkeypatch.setattr(monster_tasks.JobProgress, "__call__", recorded)
        job = job_start(
            monster_tasks.import_csv, kind=Job.Kind.IMPORT, summary="Import", actor=admin_user,
            upload=upload, file_name="seventy.csv", mode="append", actor_id=admin_user.pk,
        )  # fmt: skip
        run_worker()
        assert job_state(job).status == "succeeded"
        assert seen[0][:3] == ("bytes", size, size) and seen[0][3].startswith("70 rows read, ")
        assert seen[0][3].endswith("; checking every cell") and seen[0][4]
        assert [report[:3] for report in seen[1:]] == [
            ("rows", 0, 70), ("rows", 30, 70), ("rows", 60, 70), ("rows", 70, 70),
        ]  # fmt: skip
        progress = Job.objects.get(pk=job.pk).progress  # what the job page shows at the end
        assert progress.pop("since") <= progress_time(job)
        assert progress == {
            "done": 70, "total": 70, "unit": "rows",
            "note": "70 of 70 monsters written; building the indexes",
        }  # fmt: skip
        ids = list(Monster.objects.order_by("pk").values_list("pk", flat=True))
        assert len(ids) == 75 and ids[5:] == list(range(ids[5], ids[5] + 70))  # the 70 new ones, in a run
        assert job_state(job).result["url"] == f"/data/?id_min={ids[5]}&id_max={ids[-1]}"

    def test_a_training_job_reports_each_stage(self, admin_user, monkeypatch):
        from ml import tasks as ml_tasks
        from ml.training import STAGES

        monsters_seed(count=200, seed=1)
        seen = []
        real = ml_tasks.JobProgress.__call__

        def recorded(self, done, note="", *, force=False):
            seen.append((done, force))
            real(self, done, note, force=force)

        monkeypatch.setattr(ml_tasks.JobProgress, "__call__", recorded)
        job = job_start(ml_tasks.train, kind=Job.Kind.TRAIN, summary="Train", actor=admin_user,
                        actor_id=admin_user.pk, options={"seed": 1})  # fmt: skip
        run_worker()
        assert job_state(job).status == "succeeded"
        stages = [done for done, _ in seen]
        assert [done for done in stages if done != 3] == [0, 1, 2, 4, 5, 6]  # 3: only when it recalibrates
        assert stages == sorted(stages) and all(force for _, force in seen)
        last = Job.objects.get(pk=job.pk).progress
        assert last.pop("since") <= progress_time(job)
        assert last == {"done": 6, "total": len(STAGES), "unit": "stages", "note": "storing the version"}


class TestCancel:
    def test_staff_cancel_a_queued_job_and_no_worker_runs_it(self, client, admin_user):
        job = reseed_job(actor=admin_user)
        client.force_login(admin_user)
        assert "Cancel this job" in client.get(reverse("job", args=[job.pk])).content.decode()
        response = client.post(reverse("job-cancel", args=[job.pk]))
        assert response.status_code == 302
        state = job_state(job)
        assert state.status == "failed" and state.error == "Cancelled by admin before it started."
        run_worker()
        assert Monster.objects.count() == 0  # the reseed never ran

    def test_a_job_a_worker_took_cannot_be_cancelled(self, client, admin_user):
        job = reseed_job(actor=admin_user)
        run_worker()
        client.force_login(admin_user)
        client.post(reverse("job-cancel", args=[job.pk]))
        assert job_state(job).status == "succeeded"
        assert "runs to its end" in client.get(reverse("job", args=[job.pk])).content.decode()

    def test_only_staff_cancel(self, client, admin_user):
        from django.contrib.auth.models import User

        job = reseed_job(actor=admin_user)
        client.force_login(User.objects.create_user("plain"))
        assert client.post(reverse("job-cancel", args=[job.pk])).status_code == 403
        assert client.get(reverse("job-cancel", args=[job.pk])).status_code == 403
        assert job_state(job).status == "queued"

"""The daily maintenance: its chores, batched deletes, the command, the once-a-day claim, the trigger."""

import datetime as dt
import uuid
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from bandersnatch.db import delete_in_batches
from bandersnatch.jobs import job_start
from bandersnatch.maintenance import jobs_prune, maintenance_claim, maintenance_daily, sessions_prune
from bandersnatch.models import Job, MaintenanceRun
from bandersnatch.scheduler import maintenance_job, maintenance_trigger, scheduler_build
from bandersnatch.tasks import refresh_snapshots
from ml.models import PredictionLog

pytestmark = pytest.mark.django_db


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def log_entries(count: int, *, age_days: float) -> None:
    PredictionLog.objects.bulk_create(
        PredictionLog(
            created_at=days_ago(age_days),
            source="api",
            model_version=1,
            inputs={"level": 8},
            prediction="Rank 1",
            in_distribution=True,
            latency_ms=1.0,
        )
        for _ in range(count)
    )


def a_job(status: TaskResultStatus, *, finished_days_ago: float | None = None) -> Job:
    """A job in the queue, as job_start() makes it, then given a status (and an end) in the past."""
    job = job_start(refresh_snapshots, kind=Job.Kind.RESEED, summary="A job")
    finished_at = days_ago(finished_days_ago) if finished_days_ago is not None else None
    DBTaskResult.objects.filter(pk=job.pk).update(status=status, finished_at=finished_at)
    Job.objects.filter(pk=job.pk).update(created_at=days_ago((finished_days_ago or 0) + 1))
    return Job.objects.get(pk=job.pk)


def a_session(*, expires_in_days: float) -> str:
    store = SessionStore()
    store["who"] = "someone"
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=days_ago(-expires_in_days))
    return store.session_key


def deletes(queries: CaptureQueriesContext) -> int:
    return sum(query["sql"].startswith("DELETE") for query in queries.captured_queries)


class TestBatches:
    def test_batches_loop_until_every_matching_row_is_gone(self):
        log_entries(5, age_days=100)
        log_entries(1, age_days=1)
        with CaptureQueriesContext(connection) as queries:
            old = PredictionLog.objects.filter(created_at__lt=days_ago(90))
            deleted = delete_in_batches(old, batch_size=2)
        assert deleted == 5
        assert deletes(queries) == 3  # 2 + 2 + the last 1
        assert PredictionLog.objects.count() == 1

    def test_the_batch_size_comes_from_the_setting(self, settings):
        settings.MAINTENANCE_BATCH_SIZE = 2
        log_entries(4, age_days=100)
        with CaptureQueriesContext(connection) as queries:
            assert delete_in_batches(PredictionLog.objects.all()) == 4
        assert deletes(queries) == 3  # 2 + 2 + none left

    def test_each_batch_is_one_delete_of_a_range_of_keys(self):
        log_entries(3, age_days=100)
        with CaptureQueriesContext(connection) as queries:
            delete_in_batches(PredictionLog.objects.all(), batch_size=2)
        first, second = (q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE"))
        assert '"id" <=' in first and '"id" >' not in first
        assert '"id" >' in second and '"id" <=' not in second

    def test_rows_behind_the_batches_and_rows_that_never_matched_stay(self):
        log_entries(3, age_days=1)
        log_entries(3, age_days=100)
        log_entries(3, age_days=1)
        old = PredictionLog.objects.filter(created_at__lt=days_ago(90))
        assert delete_in_batches(old, batch_size=2) == 3
        assert PredictionLog.objects.count() == 6 and not old.exists()


class TestPredictions:
    def test_older_entries_go_in_batches_and_newer_stay(self, settings):
        settings.MAINTENANCE_BATCH_SIZE = 2
        settings.PREDICTION_LOG_RETENTION_DAYS = 30
        log_entries(5, age_days=31)
        log_entries(3, age_days=29)
        out = StringIO()
        call_command("maintenance", "--only", "predictions", stdout=out)
        assert PredictionLog.objects.count() == 3
        assert "predictions: deleted 5 prediction log entries older than 30 days in" in out.getvalue()

    def test_prune_predictions_still_prunes_by_its_days(self, settings):
        settings.MAINTENANCE_BATCH_SIZE = 2
        log_entries(3, age_days=10)
        log_entries(1, age_days=1)
        out = StringIO()
        call_command("prune_predictions", "--days", "5", stdout=out)
        assert PredictionLog.objects.count() == 1
        assert "Deleted 3 prediction log entries older than 5 days." in out.getvalue()


class TestJobs:
    def test_finished_jobs_past_the_retention_go_with_their_queue_rows(self, settings):
        settings.MAINTENANCE_BATCH_SIZE = 2
        old = [a_job(TaskResultStatus.SUCCESSFUL, finished_days_ago=40) for _ in range(2)]
        old += [a_job(TaskResultStatus.FAILED, finished_days_ago=31) for _ in range(3)]
        recent = a_job(TaskResultStatus.SUCCESSFUL, finished_days_ago=29)
        assert jobs_prune(older_than_days=30) == 5
        assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk}
        assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk}
        assert not Job.objects.filter(pk__in=[job.pk for job in old]).exists()

    def test_queued_and_running_jobs_stay_however_old(self):
        queued = a_job(TaskResultStatus.READY)
        running = a_job(TaskResultStatus.RUNNING)
        Job.objects.update(created_at=days_ago(400))
        DBTaskResult.objects.update(enqueued_at=days_ago(400), started_at=days_ago(400))
        assert jobs_prune(older_than_days=30) == 0
        assert set(Job.objects.values_list("pk", flat=True)) == {queued.pk, running.pk}
        assert DBTaskResult.objects.count() == 2

    def test_old_jobs_whose_queue_row_is_gone_go_too(self):
        orphan = Job.objects.create(id=uuid.uuid4(), kind=Job.Kind.TRAIN, summary="o")
        Job.objects.filter(pk=orphan.pk).update(created_at=days_ago(40))
        young = Job.objects.create(id=uuid.uuid4(), kind=Job.Kind.TRAIN, summary="y")
        assert jobs_prune(older_than_days=30) == 1
        assert not Job.objects.filter(pk=orphan.pk).exists()
        assert Job.objects.filter(pk=young.pk).exists()

    def test_queue_rows_without_a_job_of_ours_go_too(self):
        """Jobs queued without job_start (the snapshot refresh, reset mails) have no Job row."""
        result = refresh_snapshots.enqueue()
        DBTaskResult.objects.filter(pk=result.id).update(
            status=TaskResultStatus.SUCCESSFUL, finished_at=days_ago(31)
        )
        assert jobs_prune(older_than_days=30) == 1
        assert not DBTaskResult.objects.exists()

    def test_the_ops_page_still_opens_after_a_prune(self, client, admin_user):
        a_job(TaskResultStatus.SUCCESSFUL, finished_days_ago=40)
        kept = a_job(TaskResultStatus.SUCCESSFUL, finished_days_ago=1)
        jobs_prune(older_than_days=30)
        client.force_login(admin_user)
        assert client.get("/ops/").status_code == 200
        assert client.get(kept.get_absolute_url()).status_code == 200


class TestSessions:
    def test_expired_sessions_go_and_live_ones_stay(self, settings):
        settings.MAINTENANCE_BATCH_SIZE = 2
        for _ in range(3):
            a_session(expires_in_days=-1)
        live = a_session(expires_in_days=1)
        assert sessions_prune() == 3
        assert list(Session.objects.values_list("pk", flat=True)) == [live]

    def test_a_store_outside_the_database_clears_itself_uncounted(self, settings):
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
        assert sessions_prune() is None
        out = StringIO()
        call_command("maintenance", "--only", "sessions", stdout=out)
        assert "sessions: cleared expired sessions in" in out.getvalue()


class TestCommand:
    def test_it_runs_every_chore_and_says_what_each_deleted(self, settings):
        settings.MAINTENANCE_BATCH_SIZE = 2
        log_entries(3, age_days=100)
        a_job(TaskResultStatus.FAILED, finished_days_ago=40)
        a_session(expires_in_days=-1)
        out = StringIO()
        call_command("maintenance", stdout=out)
        lines = out.getvalue().splitlines()
        assert [line.split(" in ")[0] for line in lines] == [
            "predictions: deleted 3 prediction log entries older than 90 days",
            "jobs: deleted 1 jobs finished more than 30 days ago",
            "sessions: deleted 1 expired sessions",
        ]
        assert not (PredictionLog.objects.exists() or Job.objects.exists() or Session.objects.exists())
        assert not MaintenanceRun.objects.exists()  # by hand: no day claimed

    def test_verbosity_0_prints_nothing(self):
        out = StringIO()
        call_command("maintenance", "-v", "0", stdout=out)
        assert out.getvalue() == ""

    @pytest.mark.parametrize("only", ["predictions,nothing", "", " , "])
    def test_an_unknown_chore_exits_with_one_line_and_deletes_nothing(self, only):
        log_entries(1, age_days=100)
        with pytest.raises(CommandError) as raised:
            call_command("maintenance", "--only", only, stdout=StringIO())
        assert str(raised.value) == f"--only takes chores among predictions, jobs, sessions, not {only!r}."
        assert PredictionLog.objects.count() == 1


class TestOncePerDay:
    def test_a_second_claim_of_the_same_day_gets_nothing(self):
        day = dt.date(2026, 12, 7)
        assert maintenance_claim(day=day) is not None
        assert maintenance_claim(day=day) is None
        assert maintenance_claim(day=day + dt.timedelta(days=1)) is not None
        assert MaintenanceRun.objects.count() == 2

    def test_the_daily_run_records_what_it_deleted_and_runs_once_a_day(self):
        log_entries(2, age_days=100)
        results = maintenance_daily()
        assert [result.chore for result in results] == ["predictions", "jobs", "sessions"]
        run = MaintenanceRun.objects.get()
        assert run.day == timezone.localdate() and run.finished_at is not None
        assert run.deleted == {"predictions": 2, "jobs": 0, "sessions": 0}
        log_entries(2, age_days=100)
        assert maintenance_daily() is None  # another scheduler's second run the same day
        assert PredictionLog.objects.count() == 2
        assert MaintenanceRun.objects.count() == 1

    def test_staff_see_the_runs_in_the_admin(self, admin_client):
        maintenance_daily()
        response = admin_client.get(reverse("admin:bandersnatch_maintenancerun_changelist"))
        assert response.status_code == 200
        assert [run.day for run in response.context["cl"].result_list] == [timezone.localdate()]


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_job_runs_the_day_on_a_connection_of_its_own():
    log_entries(2, age_days=100)
    maintenance_job()
    maintenance_job()
    assert not PredictionLog.objects.exists()
    assert MaintenanceRun.objects.get().deleted["predictions"] == 2


class TestTrigger:
    @pytest.mark.parametrize(
        ("at", "now", "expected"),
        [
            ("03:30", "2026-12-07 01:00", "2026-12-07 03:30"),
            ("03:30", "2026-12-07 03:30:01", "2026-12-08 03:30"),
            ("3:05", "2026-12-07 12:00", "2026-12-08 03:05"),
            ("23:59", "2026-12-31 23:00", "2026-12-31 23:59"),
            ("00:00", "2026-12-31 23:00", "2027-01-01 00:00"),
        ],
    )
    def test_it_fires_next_at_the_time_of_day(self, at, now, expected):
        trigger = maintenance_trigger(at, time_zone="UTC")
        now = dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC)
        fire = trigger.get_next_fire_time(None, now)
        assert fire == dt.datetime.fromisoformat(expected).replace(tzinfo=dt.UTC)

    def test_the_time_is_in_the_time_zone_given(self):
        trigger = maintenance_trigger("03:30", time_zone="Europe/Berlin")
        now = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
        assert trigger.get_next_fire_time(None, now).astimezone(dt.UTC) == dt.datetime(
            2026, 12, 7, 2, 30, tzinfo=dt.UTC
        )

    @pytest.mark.parametrize("at", ["25:00", "03:60", "0330", "3.30", "03:30:00", "", "noon", "-1:30"])
    def test_a_bad_time_is_refused_naming_the_setting(self, at):
        with pytest.raises(ImproperlyConfigured) as raised:
            maintenance_trigger(at, time_zone="UTC")
        assert str(raised.value) == (
            f"MAINTENANCE_TIME must be a time of day as HH:MM (24-hour), e.g. 03:30, not {at!r}."
        )

    def test_the_scheduler_holds_one_daily_job_from_the_settings(self, settings):
        settings.MAINTENANCE_TIME = "04:15"
        scheduler, first = scheduler_build()
        (job,) = scheduler.get_jobs()
        assert job.func is maintenance_job
        assert (first.hour, first.minute) == (4, 15)
        assert first > timezone.now()

    def test_the_scheduler_command_stops_at_once_on_a_bad_time(self, settings):
        settings.MAINTENANCE_TIME = "25:00"
        with pytest.raises(CommandError, match=r"^MAINTENANCE_TIME must be a time of day as HH:MM"):
            call_command("scheduler", stdout=StringIO())

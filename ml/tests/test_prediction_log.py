"""The prediction log: batched writes off the request path, pruning, and the monitoring page."""

import datetime as dt
import re
import time
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from ml.models import PredictionLog
from ml.prediction_log import PredictionLogWriter
from ml.services import predictions_log, records_predict

pytestmark = pytest.mark.django_db
MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}
MONITORING = reverse("ml:monitoring")
POSTGRES = pytest.mark.skipif(connection.vendor != "postgresql", reason="cuts the writer's connection")


def log_entries(count: int, *, days_ago: float = 0, source: str = "api", in_distribution=True) -> None:
    for _ in range(count):
        PredictionLog.objects.create(
            created_at=timezone.now() - dt.timedelta(days=days_ago),
            source=source,
            model_version=1,
            inputs=MONSTER,
            prediction="Rank 1",
            confidence=0.9,
            probabilities={"Rank 1": 0.9, "Rank 2": 0.1},
            in_distribution=in_distribution,
            latency_ms=1.0,
        )


def entries_for(answers: list[dict]) -> list[dict]:
    """What predictions_log() queues: a PredictionLog's fields per answer."""
    fields = ("model_version", "prediction", "confidence", "probabilities", "in_distribution")
    return [
        {"source": "api", "inputs": MONSTER, "latency_ms": 1.0, **{name: a[name] for name in fields}}
        for a in answers
    ]


def numbered(numbers) -> list[dict]:
    """Log entries told apart by their latency_ms."""
    return [
        {
            "created_at": timezone.now(), "source": "api", "model_version": 1, "inputs": MONSTER,
            "prediction": "Rank 1", "confidence": 0.9, "probabilities": {"Rank 1": 0.9, "Rank 2": 0.1},
            "in_distribution": True, "latency_ms": float(number),
        }
        for number in numbers
    ]  # fmt: skip


def stored_numbers() -> list[int]:
    return sorted(int(ms) for ms in PredictionLog.objects.values_list("latency_ms", flat=True))


def wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def background_writer(settings, monkeypatch):
    """A writer with its thread, and the application_name its connection will have."""
    settings.PREDICTION_LOG_SYNC = False
    connection.ensure_connection()  # this test's own connection keeps its name
    name = f"bandersnatch-test-log-writer-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)
    writer = PredictionLogWriter()
    yield writer, name
    writer.stop()


class TestWriter:
    def test_queued_entries_wait_for_the_flush(self, transactional_db, trained_version):
        """The writer has a connection of its own, outside any request's transaction."""
        writer = PredictionLogWriter()
        answers = records_predict([MONSTER, MONSTER])
        entries = entries_for(answers)
        writer._pending.extend(entries)  # what add() queues, without its thread
        assert not PredictionLog.objects.exists()
        assert writer.flush() == 2
        assert PredictionLog.objects.count() == 2
        assert writer.flush() == 0

    def test_the_background_thread_writes_within_a_second(self, settings, transactional_db, trained_version):
        settings.PREDICTION_LOG_SYNC = False
        writer = PredictionLogWriter()
        writer.add(entries_for(records_predict([MONSTER])))
        deadline = timezone.now() + dt.timedelta(seconds=5)
        while not PredictionLog.objects.exists() and timezone.now() < deadline:
            writer._wake.wait(0.05)
        writer.stop()
        assert PredictionLog.objects.count() == 1
        assert not writer._thread.is_alive()

    def test_bad_entries_are_logged_and_dropped_not_raised_nor_retried(self, transactional_db, caplog):
        writer = PredictionLogWriter()
        writer._pending.append({"source": "api"})  # missing required fields
        assert writer.flush() == 0
        assert "Could not store 1 prediction log entries; dropped them" in caplog.text
        assert writer.dropped == 1 and not writer._pending and not writer.retry_in


@POSTGRES
class TestDatabaseOutage:
    """The writer's connection cut and refused, as in a PostgreSQL restart."""

    def test_an_outage_loses_nothing_and_the_retries_back_off(
        self, background_writer, database_outage, caplog
    ):
        writer, name = background_writer
        writer.add(numbered(range(100)))
        wait_until(lambda: PredictionLog.objects.count() == 100)  # the writer has its connection
        with database_outage(name) as cut:
            assert cut == 1
            for start in range(100, 600, 100):  # requests go on for 2.5 s
                writer.add(numbered(range(start, start + 100)))
                time.sleep(0.5)
            assert PredictionLog.objects.count() == 100
        writer.add(numbered(range(600, 700)))
        writer.stop()
        assert stored_numbers() == list(range(700))
        assert writer.dropped == 0
        delays = [float(delay) for delay in re.findall(r"trying again in ([\d.]+) s", caplog.text)]
        assert len(delays) >= 2 and delays == sorted(delays) and delays[0] < delays[-1]
        assert re.search(r"Could not store \d+ prediction log entries \(connection to server", caplog.text)
        assert caplog.text.count("The database is back: stored") == 1

    def test_past_the_bound_the_oldest_are_dropped_and_counted(
        self, background_writer, database_outage, settings, caplog
    ):
        settings.PREDICTION_LOG_MAX_PENDING = 5
        writer, name = background_writer
        writer.add(numbered([0]))
        wait_until(lambda: PredictionLog.objects.exists())
        with database_outage(name):
            writer.add(numbered(range(1, 5)))
            wait_until(lambda: writer.retry_in)  # a try failed: the four went back to the queue
            writer.add(numbered(range(5, 8)))
        writer.stop()
        assert stored_numbers() == [0, 3, 4, 5, 6, 7]
        assert writer.dropped == 2
        assert "Dropped the 2 oldest prediction log entries: more than 5 waited" in caplog.text

    def test_a_stop_during_an_outage_gives_up_after_a_bounded_wait(
        self, background_writer, database_outage, monkeypatch, caplog
    ):
        monkeypatch.setattr("ml.prediction_log.STOP_WAIT_SECONDS", 1.0)
        writer, name = background_writer
        writer.add(numbered([0]))
        wait_until(lambda: PredictionLog.objects.exists())
        with database_outage(name):
            writer.add(numbered(range(1, 4)))
            started = time.monotonic()
            writer.stop()
            assert time.monotonic() - started < 5
        assert stored_numbers() == [0]
        assert writer.dropped == 3
        assert "Dropped 3 prediction log entries at exit: the database did not answer for 1 s." in caplog.text


class TestPageLogging:
    def test_asked_predictions_are_logged_with_their_source(self, client, trained_version):
        client.get(reverse("ml:predict"), MONSTER)
        entry = PredictionLog.objects.get()
        assert entry.source == "page" and entry.inputs == MONSTER

    def test_the_random_monster_on_arrival_is_not_logged(self, client, trained_version):
        client.get(reverse("ml:predict"))
        assert not PredictionLog.objects.exists()

    def test_log_entries_from_a_service_call(self, trained_version):
        answers = records_predict([MONSTER])
        predictions_log(records=[MONSTER], answers=answers, source="api", latency_ms=2.5)
        assert PredictionLog.objects.get().latency_ms == 2.5


class TestPrune:
    def test_deletes_only_entries_older_than_the_retention(self):
        log_entries(3, days_ago=100)
        log_entries(2, days_ago=10)
        out = StringIO()
        call_command("prune_predictions", stdout=out)  # default: PREDICTION_LOG_RETENTION_DAYS = 90
        assert PredictionLog.objects.count() == 2
        assert "Deleted 3 prediction log entries older than 90 days." in out.getvalue()

    def test_days_can_be_given(self):
        log_entries(2, days_ago=10)
        call_command("prune_predictions", "--days", "5", stdout=StringIO())
        assert not PredictionLog.objects.exists()

    def test_the_setting_sets_the_default(self, settings):
        settings.PREDICTION_LOG_RETENTION_DAYS = 5
        log_entries(1, days_ago=10)
        call_command("prune_predictions", stdout=StringIO())
        assert not PredictionLog.objects.exists()

    @pytest.mark.parametrize(
        ("days", "message"),
        [("abc", "--days must be a whole number, not 'abc'."), ("0", "--days must be at least 1, not 0.")],
    )
    def test_bad_days_exit_with_one_line(self, days, message):
        log_entries(1, days_ago=100)
        with pytest.raises(CommandError, match=message):
            call_command("prune_predictions", "--days", days, stdout=StringIO())
        assert PredictionLog.objects.count() == 1


class TestMonitoring:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        response = client.get(MONITORING)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    def test_signed_in_non_staff_get_403(self, client, django_user_model):
        client.force_login(django_user_model.objects.create_user("visitor", password="x"))
        assert client.get(MONITORING).status_code == 403

    def test_staff_see_predictions_per_day_and_the_class_mix(self, client, admin_user, trained_version):
        log_entries(4)
        log_entries(1, in_distribution=False)
        log_entries(2, days_ago=40)  # outside the 30-day window
        client.force_login(admin_user)
        response = client.get(MONITORING)
        assert response.status_code == 200
        assert response.context["total"] == 5
        assert response.context["per_day"][0]["unusual"] == 1
        assert response.context["predicted"] == {"Rank 1": 5}
        assert sum(response.context["training"].values()) == trained_version.n_test
        content = response.content.decode()
        assert 'id="figure-per-day"' in content and 'id="figure-class-mix"' in content


class TestAdmin:
    def test_staff_read_the_log_in_the_admin_but_cannot_add_or_edit(self, client, admin_user):
        log_entries(3)
        client.force_login(admin_user)
        changelist = reverse("admin:ml_predictionlog_changelist")
        response = client.get(changelist)
        assert response.status_code == 200
        assert response.context["cl"].result_count == 3
        assert client.get(reverse("admin:ml_predictionlog_add")).status_code == 403

    def test_signed_in_non_staff_get_403(self, client, django_user_model):
        client.force_login(django_user_model.objects.create_user("visitor", password="x"))
        assert client.get(reverse("admin:ml_predictionlog_changelist")).status_code == 403

    def test_anonymous_visitors_are_sent_to_the_admin_sign_in(self, client):
        response = client.get(reverse("admin:ml_predictionlog_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

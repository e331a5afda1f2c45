"""/metrics: who may read it, and the requests, jobs and rows it holds (in this one test process)."""

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from analytics.models import Dataset
from bandersnatch.jobs import job_start
from bandersnatch.models import Job
from monsters import tasks as monster_tasks

pytestmark = pytest.mark.django_db
ELSEWHERE = "203.0.113.9"  # an address outside METRICS_ALLOWED_IPS (a documentation network)


def scrape(client, **extra) -> dict[tuple, float]:
    """Every sample of /metrics as {(name, (label, value), ...): value}."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def queued_job(*, seconds_ago: float = 0) -> Job:
    job = job_start(
        monster_tasks.reseed, kind=Job.Kind.RESEED, summary="Reseed", count=40, seed=1, actor_id=None
    )
    DBTaskResult.objects.filter(pk=job.pk).update(
        enqueued_at=timezone.now() - dt.timedelta(seconds=seconds_ago)
    )
    return job


class TestAccess:
    def test_loopback_reads_it(self, client):
        assert client.get("/metrics").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200

    def test_another_address_is_refused(self, client):
        response = client.get("/metrics", REMOTE_ADDR=ELSEWHERE)
        assert response.status_code == 403
        assert b"METRICS_ALLOWED_IPS" in response.content and b"bandersnatch_" not in response.content

    def test_a_forwarded_address_is_not_believed(self, client):
        response = client.get("/metrics", REMOTE_ADDR=ELSEWHERE, HTTP_X_FORWARDED_FOR="127.0.0.1")
        assert response.status_code == 403

    def test_allowed_networks_come_from_the_setting(self, client, settings):
        settings.METRICS_ALLOWED_IPS = ["203.0.113.0/24"]
        assert client.get("/metrics", REMOTE_ADDR=ELSEWHERE).status_code == 200
        assert client.get("/metrics").status_code == 403  # loopback is no longer in it

    def test_the_right_token_reads_it_from_anywhere(self, client, settings):
        settings.METRICS_TOKEN = "scrape-me-0123456789"
        for header in ("Bearer scrape-me-0123456789", "bearer scrape-me-0123456789"):
            assert client.get("/metrics", REMOTE_ADDR=ELSEWHERE, HTTP_AUTHORIZATION=header).status_code == 200

    @pytest.mark.parametrize(
        "header",
        ["Bearer wrong", "Bearer scrape-me", "Basic scrape-me-0123456789", "scrape-me-0123456789", ""],
    )
    def test_a_wrong_token_is_refused(self, client, settings, header):
        settings.METRICS_TOKEN = "scrape-me-0123456789"
        assert client.get("/metrics", REMOTE_ADDR=ELSEWHERE, HTTP_AUTHORIZATION=header).status_code == 403

    def test_without_a_token_set_no_bearer_gets_in(self, client, settings):
        settings.METRICS_TOKEN = ""
        assert client.get("/metrics", REMOTE_ADDR=ELSEWHERE, HTTP_AUTHORIZATION="Bearer ").status_code == 403

    def test_turned_off_it_is_not_there(self, client, settings):
        settings.METRICS_ENABLED = False
        assert client.get("/metrics").status_code == 404

    def test_it_is_spared_the_https_redirect(self, client, settings):
        """Prometheus scrapes each server itself, in plain HTTP; the pages still go to HTTPS."""
        settings.SECURE_SSL_REDIRECT = True
        assert client.get("/metrics").status_code == 200
        assert client.get("/api/live").status_code == 301

    def test_only_get(self, client):
        assert client.post("/metrics").status_code == 405


class TestRequests:
    def test_requests_and_their_latency_are_counted_per_view_and_status(self, client):
        answered = ("bandersnatch_http_request_duration_seconds_count", ("method", "GET"))
        live_200 = (*answered, ("status", "200"), ("view", "api:live"))
        unknown_404 = (*answered, ("status", "404"), ("view", "<unnamed view>"))
        fast = ("bandersnatch_http_request_duration_seconds_bucket", ("le", "1.0"), ("method", "GET"),
                ("status", "200"), ("view", "api:live"))  # fmt: skip
        before = scrape(client)
        for _ in range(3):
            client.get("/api/live")
        client.get("/api/no-such-endpoint")
        after = scrape(client)
        assert after[live_200] - before.get(live_200, 0) == 3
        assert after[unknown_404] - before.get(unknown_404, 0) == 1
        assert after[fast] - before.get(fast, 0) == 3  # each answered within a second

    def test_a_page_and_a_post_have_their_own_labels(self, client, db):
        client.get("/")
        client.post("/api/predict", "{}", content_type="application/json")  # no model: 503
        samples = scrape(client)
        count = "bandersnatch_http_request_duration_seconds_count"
        assert samples[(count, ("method", "GET"), ("status", "200"), ("view", "monsters:home"))] >= 1
        assert samples[(count, ("method", "POST"), ("status", "503"), ("view", "api:predict"))] >= 1

    def test_an_unknown_method_is_other(self, client):
        client.generic("BREW", "/api/live")
        samples = scrape(client)
        assert any(key[0].endswith("_count") and ("method", "other") in key for key in samples)


class TestJobs:
    def test_queued_and_failed_jobs_and_the_oldest_wait(self, client):
        queued_job(seconds_ago=90)
        queued_job(seconds_ago=5)
        failed = queued_job()
        DBTaskResult.objects.filter(pk=failed.pk).update(status=TaskResultStatus.FAILED)
        samples = scrape(client)
        jobs = {status: samples[("bandersnatch_jobs", ("status", status))] for status in
                ("queued", "running", "succeeded", "failed")}  # fmt: skip
        assert jobs == {"queued": 2, "running": 0, "succeeded": 0, "failed": 1}
        assert 90 <= samples[("bandersnatch_jobs_oldest_queued_age_seconds",)] < 120
        assert samples[("bandersnatch_jobs_stalled",)] == 1  # no worker has checked in
        assert samples[("bandersnatch_database_up",)] == 1

    def test_no_job_waiting_is_age_zero(self, client):
        samples = scrape(client)
        assert samples[("bandersnatch_jobs_oldest_queued_age_seconds",)] == 0
        assert samples[("bandersnatch_jobs", ("status", "queued"))] == 0
        assert samples[("bandersnatch_jobs_stalled",)] == 0


class TestRows:
    def test_rows_per_dataset_without_counting_the_tables(
        self, client, seeded_monsters, django_assert_max_num_queries
    ):
        Dataset.objects.create(name="Birds", slug="birds", table="dataset_birds_unread", row_count=1_234_567)
        samples = scrape(client)
        assert samples[("bandersnatch_dataset_rows", ("dataset", "monsters"))] == 1_000  # exact: few
        assert (
            samples[("bandersnatch_dataset_rows", ("dataset", "birds"))] == 1_234_567
        )  # recorded at its load
        with django_assert_max_num_queries(12):  # one scrape: a handful of queries, none per row
            client.get("/metrics")


def test_the_database_away_leaves_the_counters_readable(client, monkeypatch):
    def away():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("bandersnatch.metrics.job_counts", away)
    samples = scrape(client)
    assert samples[("bandersnatch_database_up",)] == 0
    assert not any(key[0].startswith("bandersnatch_jobs") for key in samples)
    assert any(key[0].startswith("bandersnatch_http_") for key in samples)

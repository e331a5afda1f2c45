"""Several hosts on one database, for real (issue 14.1): two gunicorn servers ("host A" and
"host B") and two background workers on one PostgreSQL database, sharing Redis as their cache.

What one host changes, the other serves at its next request; a queue of jobs runs each job once
across the workers; a worker killed mid-job leaves that job failed and the data as they were; the
prediction log holds every answer of both hosts.  PostgreSQL with Redis only (CI has both).
"""

import contextlib
import io
import json
import os
import re
import signal
import time

import numpy as np
import pytest
import redis
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils.crypto import get_random_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from bandersnatch.jobs import WORKER_LOST_MESSAGE, job_start, job_state
from bandersnatch.models import Job
from bandersnatch.tests import scale_tasks
from bandersnatch.tests.servers import db_worker, gunicorn, process_env
from ml.models import ModelVersion, PredictionLog
from ml.services import model_version_train
from monsters import tasks
from monsters.generator import generate_monsters
from monsters.models import Monster
from monsters.services import monsters_seed
from monsters.similarity import monsters_similar

REDIS_URL = "redis://127.0.0.1:6379/15"  # a Redis database for this test alone, emptied around each test
MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the servers and workers read what the test wrote
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="several processes on one database: the SQLite test database lives in this process",
    ),
]


@pytest.fixture
def shared_cache():
    """Redis, empty; the test fails in CI without it and is skipped elsewhere."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {REDIS_URL}; CI has it on 127.0.0.1:6379.")
        pytest.skip(f"Redis does not answer at {REDIS_URL}.")
    client.flushdb()
    yield client
    client.flushdb()


def _env() -> dict:
    """Production's settings over plain HTTP, the shared cache, the real (batched) prediction log."""
    return process_env(
        CACHE_URL=REDIS_URL, PREDICTION_LOG_SYNC="false", SECURE_SSL_REDIRECT="false", SECURE_COOKIES="false",
        ALLOWED_HOSTS="127.0.0.1", API_THROTTLE_ANON="off", API_THROTTLE_TOKEN="off",
        SERVE_STATIC_SOURCES="true",  # no collectstatic in a test
    )  # fmt: skip


class Host:
    """One web server, seen by a browser-like client (a session cookie, a CSRF token)."""

    def __init__(self, port: int, session: str | None = None):
        self.url = f"http://127.0.0.1:{port}"
        self.client = requests.Session()
        self.csrf = get_random_string(32)
        self.client.cookies.set(settings.CSRF_COOKIE_NAME, self.csrf)
        if session:
            self.client.cookies.set(settings.SESSION_COOKIE_NAME, session)

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.client.get(self.url + path, timeout=60, **kwargs)
        assert response.status_code == 200, (path, response.status_code)
        return response

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        data = {**data, "csrfmiddlewaretoken": self.csrf}
        return self.client.post(self.url + path, data=data, timeout=60, allow_redirects=False, **kwargs)

    def predict(self, records: list[dict]) -> list[dict]:
        response = self.client.post(
            f"{self.url}/api/predict",
            json={"instances": records},
            headers={"X-CSRFToken": self.csrf},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()["predictions"]


@contextlib.contextmanager
def two_hosts(session: str | None = None):
    with gunicorn(env=_env()) as port_a, gunicorn(env=_env()) as port_b:
        yield Host(port_a, session), Host(port_b, session)


@pytest.fixture
def staff_session(django_user_model) -> str:
    client = Client()
    client.force_login(django_user_model.objects.create_user("keeper", is_staff=True))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def what_pages_count(host: Host) -> dict:
    """How many monsters each page of `host` counts."""
    table = host.get("/data/?sort=id").text
    figure = json.loads(re.search(r'<script id="figure-data" type="application/json">(.*?)</script>',
                                  host.get("/view/").text).group(1))  # fmt: skip
    histogram = host.get("/view/figure", params={"kind": "histogram", "x": "level", "color": ""}).json()
    return {
        "table": re.search(r"of\s+([\d,]+) matching monsters", table).group(1),
        "chart": re.search(r"showing all ([\d,]+) monsters", figure["layout"]["meta"]["caption"]).group(1),
        "histogram": re.search(
            r"([\d,]+) monsters", histogram["figure"]["layout"]["title"]["subtitle"]["text"]
        ).group(1),
        "statistics": re.search(r"([\d,]+) monsters, \d+ columns", host.get("/analytics/").text).group(1),
        "home": re.search(r"([\d,]+) monsters in the database", host.get("/").text).group(1),
    }


def similar_on(host: Host, pk: int) -> list[int]:
    return [row["id"] for row in host.get(f"/api/monsters/{pk}/similar").json()]


def similar_here(pk: int) -> list[int]:
    """What the similar-monsters search finds in the database now."""
    return [monster.pk for monster in monsters_similar(Monster.objects.get(pk=pk))]


def test_a_reseed_or_an_import_through_one_host_is_on_the_others_next_pages(shared_cache, staff_session):
    monsters_seed(count=300, seed=1)
    with two_hosts(staff_session) as (a, b):
        assert set(what_pages_count(b).values()) == {"300"}  # every page of B computed and cached
        first = Monster.objects.order_by("pk").values_list("pk", flat=True).first()
        before = similar_on(b, first)
        assert before == similar_here(first)

        reseeded = a.post("/ops/reset/", {"count": 500, "seed": 2, "confirm": "on"})
        assert reseeded.status_code == 302, reseeded.text
        assert set(what_pages_count(b).values()) == {"500"}
        first = Monster.objects.order_by("pk").values_list("pk", flat=True).first()
        assert similar_on(b, first) == similar_here(first) != before  # among the new monsters

        added = generate_monsters(2, rng=np.random.default_rng(3))
        csv_file = io.BytesIO(
            added.drop(columns=["created_at"], errors="ignore").to_csv(index=False).encode()
        )
        imported = a.post(
            "/ops/import/", {"mode": "append"}, files={"file": ("two.csv", csv_file, "text/csv")}
        )
        assert imported.status_code == 302, imported.text
        assert set(what_pages_count(b).values()) == {"502"}


def test_a_version_activated_on_one_host_answers_the_others_next_prediction(
    shared_cache, staff_session, seeded_monsters
):
    first = model_version_train(seed=1)
    second = model_version_train(seed=2, activate=False)
    with two_hosts(staff_session) as (a, b):
        for version in (second, first, second):
            assert b.predict([MONSTER])[0]["model_version"] != version.version  # B has the other one loaded
            activated = a.post(f"/model/versions/{version.version}/activate/", {"confirmed": "1"})
            assert activated.status_code == 302, activated.text
            assert b.predict([MONSTER])[0]["model_version"] == version.version  # at once, not a second later


def test_twenty_queued_jobs_each_run_once_across_two_workers(shared_cache):
    monsters_seed(count=10, seed=1)
    results = [scale_tasks.add_one_monster.enqueue(seed=seed) for seed in range(20)]
    ids = {str(result.id) for result in results}
    with db_worker(worker_id="worker-a", env=_env()), db_worker(worker_id="worker-b", env=_env()):
        finished = _wait_for(lambda: DBTaskResult.objects.filter(pk__in=ids).finished().count() == 20, 90)
    assert finished, "the 20 jobs did not finish within 90 s"
    runs = DBTaskResult.objects.filter(pk__in=ids)
    assert {run.status for run in runs} == {TaskResultStatus.SUCCESSFUL}
    assert all(len(run.worker_ids) == 1 for run in runs)  # each taken once
    assert {run.worker_ids[0] for run in runs} == {"worker-a", "worker-b"}  # by both
    assert {run.return_value for run in runs} == ids
    assert Monster.objects.count() == 10 + 20  # a job run twice would have added one more


def test_a_worker_killed_mid_job_leaves_it_failed_and_the_data_unchanged_while_the_other_goes_on(
    shared_cache,
):
    monsters_seed(count=1_000, seed=1)
    before = list(Monster.objects.order_by("pk").values_list("pk", "name", "health"))
    job = job_start(tasks.reseed, kind=Job.Kind.RESEED, summary="A long reseed", count=400_000, seed=5,
                    actor_id=None)  # fmt: skip
    with db_worker(worker_id="doomed", env=_env()) as doomed:
        started = _wait_for(lambda: (Job.objects.get(pk=job.pk).progress or {}).get("done", 0) > 0, 60)
        assert started, "the reseed did not start writing within 60 s"
        with db_worker(worker_id="survivor", env=_env()):
            later = [scale_tasks.add_one_monster.enqueue(seed=seed) for seed in range(3)]
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(timeout=10)
            ids = {str(result.id) for result in later}
            done = _wait_for(lambda: DBTaskResult.objects.filter(pk__in=ids).successful().count() == 3, 60)
        assert done, "the other worker did not run the jobs queued after the kill"
    assert {run.worker_ids[0] for run in DBTaskResult.objects.filter(pk__in=ids)} == {"survivor"}
    state = job_state(Job.objects.get(pk=job.pk))
    assert state.status == "failed" and state.error == WORKER_LOST_MESSAGE
    assert list(Monster.objects.order_by("pk").values_list("pk", "name", "health"))[:1_000] == before
    assert Monster.objects.count() == 1_000 + 3  # not one of the 400,000 is there


def test_the_prediction_log_holds_every_answer_of_both_hosts(shared_cache, trained_version):
    answered = set()
    with two_hosts() as (a, b):
        for round_ in range(20):
            for host in (a, b):
                records = [{**MONSTER, "level": 1 + (round_ + i) % 20} for i in range(5)]
                answered |= {answer["id"] for answer in host.predict(records)}
    # Both servers stopped gracefully (SIGTERM): each wrote out its queue before exiting.
    assert len(answered) == 200
    logged = set(PredictionLog.objects.values_list("public_id", flat=True))
    assert {str(public_id) for public_id in logged} == answered
    assert not ModelVersion.objects.filter(is_active=True).exclude(pk=trained_version.pk).exists()


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False

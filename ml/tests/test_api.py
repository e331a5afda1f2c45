"""The JSON API of the models: health, model cards, predictions and every error they give."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bandersnatch.jobs import job_start, worker_check_in
from bandersnatch.models import Job, WorkerHeartbeat
from ml.models import PredictionLog
from ml.services import model_version_activate, model_version_train
from monsters import tasks as monster_tasks

pytestmark = pytest.mark.django_db
MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}


def queued_job(*, seconds_ago: float) -> Job:
    job = job_start(
        monster_tasks.reseed, kind=Job.Kind.RESEED, summary="Reseed", count=40, seed=1, actor_id=None
    )
    enqueued_at = timezone.now() - dt.timedelta(seconds=seconds_ago)
    DBTaskResult.objects.filter(pk=job.pk).update(enqueued_at=enqueued_at)
    return job


def post(client, path: str, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data, content_type=extra.pop("content_type", "application/json"), **extra)


class TestHealth:
    def test_liveness_answers_without_the_database(self, client, django_assert_num_queries):
        with django_assert_num_queries(0):
            response = client.get("/api/live")
        assert response.status_code == 200
        assert response.json()["status"] == "alive"

    def test_readiness_without_a_model_is_503_with_the_reason(self, client):
        response = client.get("/api/health")
        assert response.status_code == 503
        assert response.json() == {"message": "No model is active: train one with manage.py train."}

    def test_readiness_with_an_active_model(self, client, trained_version):
        response = client.get("/api/health")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok", "database": "ok", "model_version": trained_version.version, "worker": "not seen",
        }  # fmt: skip

    def test_readiness_is_503_when_jobs_wait_and_no_worker_checked_in(self, client, trained_version):
        queued_job(seconds_ago=61)
        response = client.get("/api/health")
        assert response.status_code == 503
        assert response.json() == {
            "message": "1 job has waited more than 60 s and no worker has checked in: "
            "start one with manage.py db_worker."
        }

    def test_readiness_when_a_worker_checked_in_lately(self, client, trained_version):
        queued_job(seconds_ago=300)  # a busy worker: it runs another job
        worker_check_in(worker_id="busy")
        response = client.get("/api/health")
        assert response.status_code == 200 and response.json()["worker"] == "ok"

    def test_readiness_is_503_when_a_worker_checks_in_but_takes_no_job(self, client, trained_version):
        """Its heartbeat goes on while its loop is stuck (or serves another queue)."""
        worker_check_in(worker_id="stuck")
        WorkerHeartbeat.objects.update(started_at=timezone.now() - dt.timedelta(minutes=10))
        queued_job(seconds_ago=61)
        response = client.get("/api/health")
        assert response.status_code == 503
        assert response.json() == {
            "message": "1 job has waited more than 60 s while a worker that checks in has taken no job "
            "for as long: it is stuck, or serves another queue. Restart manage.py db_worker."
        }

    def test_readiness_when_the_worker_is_busy_with_a_long_job(self, client, trained_version):
        worker_check_in(worker_id="busy")
        WorkerHeartbeat.objects.update(started_at=timezone.now() - dt.timedelta(minutes=10))
        long_job = queued_job(seconds_ago=600)
        DBTaskResult.objects.filter(pk=long_job.pk).update(
            status="RUNNING", started_at=timezone.now() - dt.timedelta(minutes=9), worker_ids=["busy"]
        )
        queued_job(seconds_ago=300)  # waits its turn
        response = client.get("/api/health")
        assert response.status_code == 200 and response.json()["worker"] == "ok"

    def test_readiness_when_the_worker_just_finished_a_job(self, client, trained_version):
        worker_check_in(worker_id="quick")
        WorkerHeartbeat.objects.update(started_at=timezone.now() - dt.timedelta(minutes=10))
        done = queued_job(seconds_ago=600)
        DBTaskResult.objects.filter(pk=done.pk).update(
            status="SUCCESSFUL", finished_at=timezone.now() - dt.timedelta(seconds=1), worker_ids=["quick"]
        )
        queued_job(seconds_ago=300)  # the next one, about to be taken
        assert client.get("/api/health").status_code == 200

    def test_readiness_with_a_worker_gone_quiet(self, client, trained_version, settings):
        worker_check_in(worker_id="gone")
        WorkerHeartbeat.objects.update(seen_at=timezone.now() - dt.timedelta(minutes=10))
        queued_job(seconds_ago=10)  # not late yet
        assert client.get("/api/health").json()["worker"] == "not seen"
        settings.JOB_WORKER_STALE_SECONDS = 5
        queued_job(seconds_ago=10)
        response = client.get("/api/health")
        assert response.status_code == 503
        assert response.json()["message"] == (
            "2 jobs have waited more than 5 s and no worker has checked in for 10 minutes: "
            "start one with manage.py db_worker."
        )

    def test_readiness_without_the_database_is_503(self, client, trained_version, monkeypatch):
        """A failure mode the test database cannot show: a server that does not answer."""
        from django.db import OperationalError

        def unreachable(*args, **kwargs):
            raise OperationalError("could not connect to server")

        monkeypatch.setattr("ml.api.connection.cursor", unreachable)
        response = client.get("/api/health")
        assert response.status_code == 503
        assert response.json() == {"message": "The database does not answer."}

    def test_readiness_reports_a_tampered_model(self, client, trained_version):
        type(trained_version).objects.filter(pk=trained_version.pk).update(artifact=b"not the pipeline")
        response = client.get("/api/health")
        assert response.status_code == 503
        assert "does not match its sha256" in response.json()["message"]


class TestModelCards:
    def test_lists_every_version_newest_first(self, client, trained_version):
        second = model_version_train(algorithm="k_nearest_neighbours", seed=1, activate=False)
        cards = client.get("/api/models").json()
        assert [card["version"] for card in cards] == [second.version, trained_version.version]
        assert cards[1]["is_active"] and not cards[0]["is_active"]
        assert {"metrics", "features", "params", "sha256", "sklearn_version"} <= set(cards[0])
        assert "artifact" not in cards[0]

    def test_one_card(self, client, trained_version):
        card = client.get(f"/api/models/{trained_version.version}").json()
        assert card["version"] == trained_version.version
        assert card["algorithm"] == "logistic_regression"
        assert card["metrics"]["accuracy"] == pytest.approx(trained_version.accuracy)
        assert card["features"] == ["level", "health", "energy", "sanity"]

    def test_unknown_version_is_404(self, client, trained_version):
        response = client.get("/api/models/99")
        assert response.status_code == 404
        assert response.json() == {"message": "No model version 99."}

    def test_version_health(self, client, trained_version):
        assert client.get(f"/api/models/{trained_version.version}/health").status_code == 200
        response = client.get("/api/models/99/health")
        assert response.status_code == 404
        assert response.json() == {"message": "No model version 99."}


class TestPredict:
    def test_one_monster(self, client, trained_version):
        response = post(client, "/api/predict", MONSTER)
        assert response.status_code == 200
        answer = response.json()
        assert answer["prediction"] == "Rank 1"
        assert answer["model_version"] == trained_version.version
        assert answer["in_distribution"] is True
        assert set(answer["probabilities"]) == {f"Rank {rank}" for rank in range(6)}
        assert sum(answer["probabilities"].values()) == pytest.approx(1.0)
        assert answer["confidence"] == max(answer["probabilities"].values())

    def test_a_batch_answers_each_monster_in_order(self, client, trained_version):
        unusual = {"level": 1, "health": 900.0, "energy": 3.0, "sanity": 2.0}
        response = post(client, "/api/predict", {"instances": [MONSTER, unusual, MONSTER]})
        assert response.status_code == 200
        answers = response.json()["predictions"]
        assert [a["in_distribution"] for a in answers] == [True, False, True]
        assert answers[0]["id"] != answers[2]["id"]  # each answer is its own log entry
        assert {**answers[0], "id": ""} == {**answers[2], "id": ""}

    def test_a_full_batch_of_1000(self, client, trained_version):
        response = post(client, "/api/predict", {"instances": [MONSTER] * 1000})
        assert response.status_code == 200
        assert len(response.json()["predictions"]) == 1000

    def test_with_a_chosen_version(self, client, trained_version):
        newer = model_version_train(algorithm="random_forest", seed=1, activate=False)
        response = post(client, f"/api/models/{newer.version}/predict", MONSTER)
        assert response.status_code == 200
        assert response.json()["model_version"] == newer.version
        assert post(client, "/api/predict", MONSTER).json()["model_version"] == trained_version.version

    def test_activation_is_seen_by_the_next_prediction(self, client, trained_version):
        newer = model_version_train(algorithm="random_forest", seed=1, activate=False)
        assert post(client, "/api/predict", MONSTER).json()["model_version"] == trained_version.version
        model_version_activate(version=newer)
        assert post(client, "/api/predict", MONSTER).json()["model_version"] == newer.version

    def test_unknown_version_is_404(self, client, trained_version):
        response = post(client, "/api/models/42/predict", MONSTER)
        assert response.status_code == 404
        assert response.json() == {"message": "No model version 42."}

    def test_no_model_is_503(self, client, seeded_monsters):
        response = post(client, "/api/predict", MONSTER)
        assert response.status_code == 503
        assert "train one" in response.json()["message"]

    def test_every_answer_is_logged(self, client, trained_version):
        post(client, "/api/predict", MONSTER)
        post(client, "/api/predict", {"instances": [MONSTER, {**MONSTER, "level": 3}]})
        entries = list(PredictionLog.objects.order_by("id"))
        assert len(entries) == 3
        assert {entry.source for entry in entries} == {"api"}
        assert entries[2].inputs == {**MONSTER, "level": 3}
        assert entries[0].prediction == "Rank 1" and entries[0].model_version == trained_version.version
        assert entries[0].latency_ms > 0

    def test_errors_are_not_logged(self, client, trained_version):
        post(client, "/api/predict", {"level": 8})
        assert not PredictionLog.objects.exists()


class TestPredictErrors:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"level": 8, "energy": 3.0}, "Missing keys: 'health', 'sanity'."),
            ({**MONSTER, "level": "abc"}, "'level' must be a whole number, not 'abc'."),
            ({**MONSTER, "level": 8.5}, "'level' must be a whole number, not 8.5."),
            ({**MONSTER, "level": True}, "'level' must be a whole number, not True."),
            ({**MONSTER, "health": "lots"}, "'health' must be a number, not 'lots'."),
            ({**MONSTER, "level": 0}, "'level' must be between 1 and 20, not 0."),
            ({**MONSTER, "level": 21}, "'level' must be between 1 and 20, not 21."),
            ({**MONSTER, "energy": -1}, "'energy' must be between 0 and 1,000,000, not -1."),
            ({**MONSTER, "sanity": 1e9}, "'sanity' must be between 0 and 1,000,000, not 1000000000.0."),
            ({**MONSTER, "colour": "red"}, "Unknown keys: 'colour'."),
            ({**MONSTER, "type": "Goblin"}, "Unknown keys: 'type'."),
            ([MONSTER], 'The body must be a JSON object: one record, or {"instances": [...]}.'),
            ({"instances": []}, "instances must be a list of 1 to 1,000 records."),
            ({"instances": [MONSTER] * 1001}, "instances must be a list of 1 to 1,000 records."),
            ({"instances": MONSTER}, "instances must be a list of 1 to 1,000 records."),
            ({"instances": [MONSTER], "extra": 1}, "Unknown keys: 'extra'."),
            ({"instances": [MONSTER, 5]}, "instances[1]: each record must be a JSON object."),
            (
                {"instances": [MONSTER, {"level": 2}]},
                "instances[1]: Missing keys: 'health', 'energy', 'sanity'.",
            ),
        ],
    )
    def test_bad_bodies_are_400_naming_the_problem(self, client, trained_version, body, message):
        response = post(client, "/api/predict", body)
        assert response.status_code == 400
        assert response.json()["message"].startswith(message)

    @pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
    def test_nan_and_infinities_are_refused(self, client, trained_version, number):
        body = '{"level": 8, "health": NUMBER, "energy": 32.9, "sanity": 32.0}'.replace("NUMBER", number)
        response = post(client, "/api/predict", body)
        assert response.status_code == 400
        assert response.json()["message"] == "'health' must be a finite number."

    def test_malformed_json_is_400(self, client, trained_version):
        response = post(client, "/api/predict", '{"level": 8,')
        assert response.status_code == 400
        assert response.json()["message"].startswith("The body is not valid JSON")

    def test_not_json_is_415(self, client, trained_version):
        response = post(client, "/api/predict", "level=8", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 415
        assert response.json()["message"] == (
            "Send JSON with Content-Type: application/json, not application/x-www-form-urlencoded."
        )

    def test_a_body_over_the_limit_is_413(self, client, trained_version, settings):
        settings.API_MAX_BODY_BYTES = 1_000
        response = post(client, "/api/predict", {"instances": [MONSTER] * 50})
        assert response.status_code == 413
        assert response.json() == {"message": "The body is larger than 1,000 bytes."}

    def test_wrong_method_is_405_json(self, client, trained_version):
        response = client.get("/api/predict")
        assert response.status_code == 405
        assert response.json()["message"].startswith("Method GET is not allowed here")
        assert "POST" in response["Allow"]

    def test_unknown_endpoint_is_404_json(self, client):
        response = client.get("/api/nothing-here")
        assert response.status_code == 404
        assert response.json() == {"message": "No such endpoint."}


class TestDocs:
    def test_openapi_schema_lists_every_endpoint(self, client):
        schema = client.get("/api/openapi.json").json()
        assert {
            "/api/live",
            "/api/health",
            "/api/models",
            "/api/models/{number}",
            "/api/models/{number}/health",
            "/api/predict",
            "/api/models/{number}/predict",
            "/api/monsters",
            "/api/monsters/{monster_id}",
            "/api/monsters/{monster_id}/similar",
        } <= set(schema["paths"])
        body = schema["paths"]["/api/predict"]["post"]["requestBody"]["content"]["application/json"]
        assert len(body["schema"]["oneOf"]) == 2

    def test_interactive_docs_page_uses_our_own_static_files(self, client):
        response = client.get("/api/docs")
        assert response.status_code == 200
        content = response.content.decode()
        assert "swagger-ui" in content
        assert "cdn.jsdelivr.net" not in content and "unpkg.com" not in content

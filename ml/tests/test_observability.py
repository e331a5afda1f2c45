"""Predictions as operations see them: counted in /metrics, and stored with their request's id."""

import json

import pytest
from django.db import connection
from django.urls import reverse
from prometheus_client import REGISTRY

from ml.models import PredictionLog
from ml.prediction_log import PredictionLogWriter

pytestmark = pytest.mark.django_db
MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}
UNUSUAL = {"level": 1, "health": 900.0, "energy": 3.0, "sanity": 2.0}


def counted(name: str, version: int, source: str) -> float:
    labels = {"model_version": str(version), "source": source}
    return REGISTRY.get_sample_value(f"bandersnatch_{name}_total", labels) or 0.0


def predict(client, body, **extra):
    return client.post("/api/predict", json.dumps(body), content_type="application/json", **extra)


class TestCounters:
    def test_each_prediction_counts_for_its_version_and_source(self, client, trained_version):
        version = trained_version.version
        api, page = counted("predictions", version, "api"), counted("predictions", version, "page")
        assert predict(client, MONSTER).status_code == 200
        assert predict(client, {"instances": [MONSTER] * 3}).status_code == 200
        client.get(reverse("ml:predict"), MONSTER)
        assert counted("predictions", version, "api") - api == 4
        assert counted("predictions", version, "page") - page == 1

    def test_answers_unlike_the_training_data_are_counted_apart(self, client, trained_version):
        version = trained_version.version
        total, unusual = (
            counted("predictions", version, "api"),
            counted("predictions_out_of_distribution", version, "api"),
        )
        answers = predict(client, {"instances": [MONSTER, UNUSUAL, UNUSUAL]}).json()["predictions"]
        assert [answer["in_distribution"] for answer in answers] == [True, False, False]
        assert counted("predictions", version, "api") - total == 3
        assert counted("predictions_out_of_distribution", version, "api") - unusual == 2

    def test_refused_requests_count_no_prediction(self, client, trained_version):
        before = counted("predictions", trained_version.version, "api")
        assert predict(client, {"level": 8}).status_code == 400
        assert client.get(reverse("ml:predict")).status_code == 200  # the random monster shown is not asked
        assert counted("predictions", trained_version.version, "api") == before

    def test_they_are_in_the_scrape(self, client, trained_version):
        predict(client, MONSTER)
        body = client.get("/metrics").content.decode()
        line = f'bandersnatch_predictions_total{{model_version="{trained_version.version}",source="api"}}'
        assert line in body


class TestRequestIdOnTheLog:
    def test_an_api_prediction_keeps_the_proxys_request_id(self, client, trained_version):
        response = predict(client, {"instances": [MONSTER, MONSTER]}, HTTP_X_REQUEST_ID="lb-1234")
        assert response["X-Request-ID"] == "lb-1234"
        assert list(PredictionLog.objects.values_list("request_id", flat=True)) == ["lb-1234", "lb-1234"]

    def test_a_page_prediction_keeps_the_id_it_was_given(self, client, trained_version):
        response = client.get(reverse("ml:predict"), MONSTER)
        assert PredictionLog.objects.get().request_id == response["X-Request-ID"]

    def test_an_unsafe_id_is_not_stored(self, client, trained_version):
        response = predict(client, MONSTER, HTTP_X_REQUEST_ID="-" * 5000)
        stored = PredictionLog.objects.get().request_id
        assert stored == response["X-Request-ID"] and len(stored) == 32

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the background writer's COPY")
    def test_the_batched_writer_stores_it(self, settings, transactional_db):
        settings.PREDICTION_LOG_SYNC = False
        writer = PredictionLogWriter()
        entry = {
            "source": "api", "model_version": 1, "inputs": MONSTER, "prediction": "Rank 1", "confidence": 0.9,
            "probabilities": {"Rank 1": 0.9}, "in_distribution": True, "latency_ms": 1.0,
            "request_id": "lb-9",
        }  # fmt: skip
        writer.add([entry, {**entry, "request_id": ""}])
        assert writer.flush() == 2
        writer.stop()
        assert sorted(PredictionLog.objects.values_list("request_id", flat=True)) == ["", "lb-9"]

    def test_a_process_still_on_the_code_before_it_keeps_logging(self):
        """During a deploy the migration runs before the servers restart: their writes lack the column."""
        entry = PredictionLog(
            source="api", model_version=1, inputs=MONSTER, prediction="Rank 1", confidence=0.9,
            probabilities={"Rank 1": 0.9}, in_distribution=True, latency_ms=1.0,
        )  # fmt: skip
        fields = [
            f for f in PredictionLog._meta.concrete_fields if not f.primary_key and f.name != "request_id"
        ]
        table = connection.ops.quote_name(PredictionLog._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})",
                [f.get_db_prep_save(getattr(entry, f.attname), connection) for f in fields],
            )
        assert PredictionLog.objects.get().request_id == ""

    def test_staff_see_it_in_the_admin_and_find_a_requests_predictions(
        self, client, admin_user, trained_version
    ):
        predict(client, MONSTER, HTTP_X_REQUEST_ID="lb-find-me")
        predict(client, MONSTER, HTTP_X_REQUEST_ID="lb-other")
        client.force_login(admin_user)
        page = client.get(reverse("admin:ml_predictionlog_changelist"), {"q": "lb-find-me"})
        assert page.status_code == 200
        content = page.content.decode()
        assert "lb-find-me" in content and "lb-other" not in content
        assert "column-request_id" in content  # the list's column

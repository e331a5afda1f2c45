"""Models of any dataset: training, the registry groups, the pages, the API and the command."""

import io
import re
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from analytics.datasets import dataset_create
from analytics.frames import dataset_frame
from analytics.models import Dataset
from bandersnatch.models import Job
from ml.models import ModelVersion, PredictionLog, Promotion
from ml.services import model_version_activate, model_version_rollback, model_version_train
from ml.tests.real_data import TABLES, forest_score, table_dataset
from ml.training import fit_and_score

pytestmark = pytest.mark.django_db

HOUSES_CSV = "rooms,city,garden,built,price\n" + "\n".join(
    f"{1 + i % 7},{'Ayr Bude Cork'.split()[i % 3] if i % 11 else ''},{'yes' if i % 2 else 'no'},"
    f"2020-01-{1 + i % 28:02d},{50 * (1 + i % 7) + (100 if i % 3 == 2 else 0) + 30 * (i % 2) + (i * 7) % 13}"
    + ("" if i % 17 else "")
    for i in range(300)
)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def houses(people):
    file = io.BytesIO(HOUSES_CSV.encode())
    file.name = "houses.csv"
    return dataset_create(file=file, name="Houses", owner=people["owner"])


@pytest.fixture
def price_model(houses):
    return model_version_train(dataset=houses, seed=0)


class TestTraining:
    def test_the_default_target_is_the_last_column_and_numbers_are_regression(self, price_model, houses):
        assert (price_model.dataset, price_model.target, price_model.task) == (houses, "price", "regression")
        assert price_model.features == ["rooms", "city", "garden", "built"]
        assert price_model.metrics["r2"] > 0.9 > price_model.metrics["baseline"]["r2"]
        assert {column["name"]: column["nullable"] for column in price_model.inputs}["city"]
        assert price_model.cleaning["features"]["city"]["empty"] == "most_frequent"

    def test_a_few_valued_integer_is_classes_unless_told(self, houses):
        rooms = model_version_train(dataset=houses, target="rooms", features=["price", "city"], seed=0)
        assert rooms.task == "classification" and rooms.metrics["classes"] == [str(n) for n in range(1, 8)]
        as_number = model_version_train(dataset=houses, target="rooms", features=["price"], task="regression")
        assert as_number.task == "regression" and not as_number.is_active  # another task: never by score
        assert ModelVersion.objects.filter(dataset=houses, target="rooms", is_active=True).get() == rooms

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"target": "built"}, "built holds times; a time cannot be a target."),
            ({"features": []}, "Choose at least one feature."),
            ({"features": ["price", "rooms"]}, "The target price cannot also be a feature."),
            ({"algorithm": "logistic_regression"}, "Logistic regression does no regression"),
            ({"params": {"alpha": -1}}, "alpha must be between 0 and 1e+06, not -1"),
            (
                {"algorithm": "random_forest", "params": {"trees": 5}},
                "Unknown parameter trees for random_forest",
            ),
            ({"cleaning": {"city": {"empty": "mean"}}}, "Empty cells of city can be most_frequent"),
            ({"task": "clustering"}, "Unknown task 'clustering'"),
        ],
    )
    def test_bad_settings_store_nothing(self, houses, options, message):
        with pytest.raises(ValidationError, match=re.escape(message)):
            model_version_train(dataset=houses, **options)
        assert not ModelVersion.objects.exists()

    def test_a_target_with_one_value_or_too_few_rows_stores_nothing(self, people):
        file = io.BytesIO(("a,b\n" + "\n".join(f"{i},7" for i in range(60))).encode())
        flat = dataset_create(file=file, name="Flat", owner=people["owner"])
        with pytest.raises(ValidationError, match="Every b is 7: one value leaves nothing to predict."):
            model_version_train(dataset=flat, task="regression")
        with pytest.raises(ValidationError, match="Need at least two b classes to train, found 1."):
            model_version_train(dataset=flat)
        small = dataset_create(file=io.BytesIO(b"a,b\n1,2\n3,4\n"), name="Small", owner=people["owner"])
        with pytest.raises(ValidationError, match="Need at least 50 rows with a b to train, found 2."):
            model_version_train(dataset=small)
        assert not ModelVersion.objects.exists()


class TestRegistry:
    def test_one_active_version_per_dataset_and_target_with_its_own_history(
        self, price_model, trained_version
    ):
        assert price_model.is_active and trained_version.is_active  # two groups, both active
        again = model_version_train(dataset=price_model.dataset, seed=1, activate=True)
        assert set(ModelVersion.objects.filter(is_active=True)) == {again, trained_version}
        back = model_version_rollback(dataset=price_model.dataset, target="price")
        assert back == price_model
        assert set(ModelVersion.objects.filter(is_active=True)) == {price_model, trained_version}
        assert Promotion.objects.filter(version__dataset=price_model.dataset).count() == 3

    def test_activate_if_better_compares_the_same_group_on_the_same_rows(self, price_model):
        worse = model_version_train(dataset=price_model.dataset, features=["garden"], seed=0)
        assert not worse.is_active
        model_version_activate(version=worse)
        better = model_version_train(dataset=price_model.dataset, seed=0)
        assert better.is_active  # beats the active (worse) one on its own test rows

    def test_version_numbers_run_across_groups(self, trained_version, houses):
        price = model_version_train(dataset=houses, seed=0)
        assert price.version == trained_version.version + 1


class TestPredictPage:
    def test_the_owner_sees_a_real_row_and_a_number_with_its_interval(self, price_model, people):
        page = client_for(people["owner"]).get(reverse("ml:dataset-predict", args=["houses"]))
        assert page.status_code == 200
        content = page.content.decode()
        assert "Predict price · Houses" in content and "% interval" in content
        assert set(page.context["form"].fields) == {"rooms", "city", "garden", "built"}
        low, high = page.context["answer"]["interval"]
        assert low < page.context["answer"]["prediction"] < high

    @pytest.mark.parametrize(("who", "status"), [(None, 404), ("other", 404), ("owner", 200), ("staff", 200)])
    def test_a_private_datasets_model_is_seen_by_its_owner_and_staff_only(
        self, price_model, people, who, status
    ):
        client = client_for(people[who] if who else None)
        assert client.get(reverse("ml:dataset-predict", args=["houses"])).status_code == status
        assert client.get(reverse("ml:version", args=[price_model.version])).status_code == status

    def test_asked_values_are_answered_logged_and_bad_ones_are_field_errors(self, price_model, people):
        client = client_for(people["owner"])
        url = reverse("ml:dataset-predict", args=["houses"])
        answered = client.get(url, {"rooms": 3, "city": "", "garden": "True", "built": "2020-01-05 00:00"})
        assert answered.status_code == 200 and answered.context["answer"]["prediction"] > 0
        bad = client.get(url, {"rooms": "lots", "city": "Paris", "garden": "True", "built": "2020-01-05"})
        assert bad.status_code == 400
        assert set(bad.context["form"].errors) == {"rooms", "city"}
        from ml.prediction_log import writer

        writer.flush()
        assert PredictionLog.objects.get().model_version == price_model.version

    def test_no_model_yet_offers_the_owner_training(self, houses, people):
        content = (
            client_for(people["owner"]).get(reverse("ml:dataset-predict", args=["houses"])).content.decode()
        )
        assert "No model has been trained yet to predict price of Houses" in content
        assert reverse("ml:dataset-train", args=["houses"]) in content


class TestTrainPage:
    @pytest.mark.parametrize(("who", "status"), [("other", 404), ("owner", 200), ("staff", 200)])
    def test_the_owner_and_staff_train(self, houses, people, who, status):
        assert client_for(people[who]).get(reverse("ml:dataset-train", args=["houses"])).status_code == status

    def test_others_see_a_public_dataset_but_do_not_train_on_it(self, houses, people):
        houses.is_public = True
        houses.save()
        assert (
            client_for(people["other"]).get(reverse("ml:dataset-train", args=["houses"])).status_code == 403
        )
        assert client_for(people["other"]).get(reverse("ml:train")).status_code == 403  # the monsters: staff

    def test_anonymous_visitors_are_sent_to_sign_in(self, houses):
        response = Client().get(reverse("ml:dataset-train", args=["houses"]))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_a_valid_form_queues_a_job_and_bad_ones_are_errors(self, houses, people):
        client = client_for(people["owner"])
        url = reverse("ml:dataset-train", args=["houses"])
        base = {
            "target": "price",
            "features": ["rooms", "city"],
            "test_size": 0.2,
            "seed": 1,
            "activate": "better",
            "empty-city": "constant",
            "constant-city": "nowhere",
        }
        bad = client.post(url, {**base, "features": ["rooms", "price"]})
        assert bad.status_code == 400 and "The target cannot also be a feature." in bad.content.decode()
        wrong = client.post(url, {**base, "algorithm": "logistic_regression"})
        assert wrong.status_code == 400 and "Logistic regression does no regression" in wrong.content.decode()
        assert not Job.objects.exists()
        queued = client.post(url, base)
        assert queued.status_code == 302
        job = Job.objects.get()
        assert job.summary.startswith("Train linear regression on Houses")
        from bandersnatch.tests.test_jobs import run_worker

        run_worker()
        version = ModelVersion.objects.get()
        assert version.cleaning["features"]["city"]["constant"] == "nowhere"
        assert version.created_by == people["owner"]

    def test_train_again_fills_the_form_with_a_versions_settings(self, houses, people):
        version = model_version_train(
            dataset=houses,
            algorithm="random_forest",
            features=["rooms", "garden"],
            params={"n_estimators": 12},
            cleaning={"rooms": {"empty": "zero"}},
            seed=4,
        )
        page = client_for(people["owner"]).get(
            reverse("ml:dataset-train", args=["houses"]), {"from": version.version}
        )
        form = page.context["form"]
        assert form["features"].value() == ["rooms", "garden"]
        assert (
            form["algorithm"].value() == "random_forest" and form["random_forest-n_estimators"].value() == 12
        )
        assert form["empty-rooms"].value() == "zero" and form["seed"].value() == 4
        assert (
            f"?from={version.version}"
            in client_for(people["owner"]).get(reverse("ml:version", args=[version.version])).content.decode()
        )


class TestApi:
    def test_predict_one_row_and_a_batch_with_the_active_version(self, price_model, people):
        client = client_for(people["owner"])
        url = "/api/datasets/houses/predict"
        row = {"rooms": 3, "city": None, "garden": True, "built": "2020-01-05T00:00:00Z"}
        one = client.post(url, row, content_type="application/json")
        assert one.status_code == 200, one.content
        body = one.json()
        assert body["model_version"] == price_model.version and body["interval"][0] < body["prediction"]
        assert "confidence" not in body
        batch = client.post(url, {"instances": [row, {**row, "rooms": 6}]}, content_type="application/json")
        first, second = batch.json()["predictions"]
        assert second["prediction"] > first["prediction"]  # more rooms, dearer

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"rooms": 3, "city": "Ayr", "garden": True}, "Missing keys: 'built'."),
            (
                {"rooms": "three", "city": "Ayr", "garden": True, "built": "2020-01-05"},
                "'rooms' must be a whole number",
            ),
            ({"rooms": 3, "city": "Paris", "garden": True, "built": "2020-01-05"}, "'city' must be one of"),
        ],
    )
    def test_bad_rows_are_400_naming_the_field(self, price_model, people, body, message):
        response = client_for(people["owner"]).post(
            "/api/datasets/houses/predict", body, content_type="application/json"
        )
        assert response.status_code == 400 and message in response.json()["message"]

    def test_unknown_or_hidden_datasets_and_versions_are_404(self, price_model, people):
        row = {"rooms": 3, "city": "Ayr", "garden": True, "built": "2020-01-05"}
        for client in (Client(), client_for(people["other"])):
            assert (
                client.post("/api/datasets/houses/predict", row, content_type="application/json").status_code
                == 404
            )
            assert client.get(f"/api/models/{price_model.version}").status_code == 404
        owner = client_for(people["owner"])
        assert (
            owner.post("/api/datasets/nowhere/predict", row, content_type="application/json").status_code
            == 404
        )
        assert owner.post("/api/models/999/predict", row, content_type="application/json").status_code == 404

    def test_the_model_card_names_the_dataset_task_and_input_schema(self, price_model, people):
        card = client_for(people["owner"]).get(f"/api/models/{price_model.version}").json()
        assert (card["dataset"], card["task"], card["target"]) == ("houses", "regression", "price")
        schema = card["input_schema"]
        assert schema["required"] == ["rooms", "city", "garden", "built"]
        assert schema["properties"]["city"]["enum"] == ["Ayr", "Bude", "Cork"]


class TestCommand:
    def test_train_a_dataset_as_a_regression_and_again_from_a_version(self, houses):
        out = StringIO()
        call_command(
            "train",
            "--dataset",
            "houses",
            "--algorithm",
            "random_forest",
            "--param",
            "n_estimators=15",
            "--clean",
            "city=constant:nowhere",
            "--seed",
            "2",
            stdout=out,
        )
        output = out.getvalue()
        assert "Random forest on rooms, city, garden, built -> price (houses, regression)" in output
        assert "R²" in output and "baseline" in output and "Stored model v1: active." in output
        again = StringIO()
        call_command("train", "--from-version", "1", "--param", "n_estimators=20", stdout=again)
        version = ModelVersion.objects.get(version=2)
        assert (version.dataset, version.algorithm, version.seed) == (houses, "random_forest", 2)
        assert version.params["n_estimators"] == 20
        assert version.cleaning["features"]["city"]["constant"] == "nowhere"

    def test_a_time_target_is_a_one_line_error(self, houses):
        with pytest.raises(CommandError, match="built holds times; a time cannot be a target.") as raised:
            call_command("train", "--dataset", "houses", "--target", "built", stdout=StringIO())
        assert "\n" not in str(raised.value)


@pytest.mark.parametrize("name", list(TABLES))
def test_on_real_data_the_default_model_does_at_least_as_well_as_a_default_random_forest(name):
    """Quality target: the real CSV files scikit-learn ships, loaded as datasets; the same split for both."""
    dataset = table_dataset(name)
    version = model_version_train(dataset=dataset, seed=0)
    assert version.target == TABLES[name][1] and version.task == (
        "classification" if TABLES[name][2] else "regression"
    )
    frame = dataset_frame(dataset)
    result = fit_and_score(frame, columns=dataset.column_list, target=version.target, random_state=0)
    assert result.metrics == version.metrics  # the same split and model as the stored version
    forest = forest_score(frame, result, version.target, seed=0)
    assert version.headline >= forest


class TestFeedback:
    ROW = {"rooms": 3, "city": "Ayr", "garden": True, "built": "2020-01-05T00:00:00Z"}

    def predicted(self, client) -> dict:
        answer = client.post("/api/datasets/houses/predict", self.ROW, content_type="application/json").json()
        assert answer["id"]
        return answer

    def test_a_signed_in_user_gives_the_true_value_through_the_api(self, price_model, people):
        owner = client_for(people["owner"])
        answer = self.predicted(owner)
        url = f"/api/predictions/{answer['id']}/feedback"
        assert Client().post(url, {"value": 200}, content_type="application/json").status_code == 401
        bad = owner.post(url, {"value": "lots"}, content_type="application/json")
        assert (
            bad.status_code == 400 and bad.json()["message"] == "The true price must be a number, not 'lots'."
        )
        for body, message in [
            ({"correct": "maybe"}, "'correct' must be true or false, not 'maybe'."),
            ({"truth": 1}, "Unknown keys: 'truth'."),
            ([1], "The body must be a JSON object"),
        ]:
            refused = owner.post(url, body, content_type="application/json")
            assert refused.status_code == 400 and refused.json()["message"].startswith(message)
        empty = owner.post(url, {"correct": False}, content_type="application/json")
        assert empty.json()["message"] == "Give the true price when the prediction was wrong."
        said = owner.post(url, {"correct": False, "value": 321.5}, content_type="application/json")
        assert said.status_code == 200 and said.json()["value"] == "321.5"
        entry = PredictionLog.objects.get(public_id=answer["id"])
        assert (entry.feedback_correct, entry.feedback_value, entry.feedback_by) == (
            False,
            "321.5",
            people["owner"],
        )

    def test_unknown_ids_and_hidden_datasets_are_404(self, price_model, people):
        answer = self.predicted(client_for(people["owner"]))
        other = client_for(people["other"])
        assert (
            other.post(
                f"/api/predictions/{answer['id']}/feedback",
                {"correct": True},
                content_type="application/json",
            ).status_code
            == 404
        )
        unknown = "00000000-0000-4000-8000-000000000000"
        assert (
            other.post(
                f"/api/predictions/{unknown}/feedback", {"correct": True}, content_type="application/json"
            ).status_code
            == 404
        )

    def test_a_class_answer_said_right_takes_the_prediction_as_the_true_value(
        self, client, trained_version, admin_user
    ):
        client.force_login(admin_user)
        answer = client.post(
            "/api/predict",
            {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0},
            content_type="application/json",
        ).json()
        url = f"/api/predictions/{answer['id']}/feedback"
        contradiction = client.post(
            url, {"correct": True, "value": "Rank 4"}, content_type="application/json"
        )
        assert contradiction.status_code == 400 and "makes it wrong" in contradiction.json()["message"]
        unknown_class = client.post(url, {"value": "Rank 9"}, content_type="application/json")
        assert "must be one of Rank 0" in unknown_class.json()["message"]
        assert (
            client.post(url, {"correct": True}, content_type="application/json").json()["value"]
            == answer["prediction"]
        )

    def test_the_page_form_stores_feedback_and_monitoring_sets_it_beside_the_test_figure(
        self, price_model, people
    ):
        owner = client_for(people["owner"])
        page = owner.get(
            reverse("ml:dataset-predict", args=["houses"]),
            {"rooms": 3, "city": "Ayr", "garden": "True", "built": "2020-01-05 00:00"},
        )
        prediction_id = page.context["answer"]["id"]
        assert reverse("ml:feedback", args=[prediction_id]) in page.content.decode()
        back = owner.post(
            reverse("ml:feedback", args=[prediction_id]), {"correct": "no", "value": "250", "next": "/x"}
        )
        assert back.status_code == 302
        entry = PredictionLog.objects.get(public_id=prediction_id)
        monitoring = owner.get(reverse("ml:monitoring"), {"dataset": "houses"})
        row = monitoring.context["feedback"][0]
        assert (row["version"], row["count"], row["measure"]) == (price_model, 1, "MAE")
        assert row["on_feedback"] == pytest.approx(abs(250 - float(entry.prediction)))
        assert row["on_test"] == price_model.metrics["mae"]
        assert (
            client_for(people["other"]).get(reverse("ml:monitoring"), {"dataset": "houses"}).status_code
            == 404
        )

    def test_the_owner_adds_feedback_as_labelled_rows_once(self, price_model, people):
        owner = client_for(people["owner"])
        answer = self.predicted(owner)
        owner.post(
            f"/api/predictions/{answer['id']}/feedback", {"value": 275}, content_type="application/json"
        )
        before = price_model.dataset.row_count
        response = owner.post(reverse("ml:feedback-rows", args=["houses"]))
        assert response.status_code == 302
        assert response["Location"] == f"/datasets/houses/?id_min={before + 1}&id_max={before + 1}"
        dataset = price_model.dataset
        dataset.refresh_from_db()
        assert dataset.row_count == before + 1
        frame = dataset_frame(dataset)
        assert frame.iloc[-1][["rooms", "city", "price"]].tolist() == [3, "Ayr", 275.0]
        landing = owner.get(response["Location"])
        assert [pk for pk, _ in landing.context["rows"]] == [before + 1]  # exactly the row added
        assert "Added 1 labelled row to Houses, shown below." in landing.content.decode()
        again = owner.post(reverse("ml:feedback-rows", args=["houses"]))
        assert again["Location"] == f"{reverse('ml:monitoring')}?dataset=houses"
        dataset.refresh_from_db()
        assert dataset.row_count == before + 1  # each feedback is added once
        staff_only = client_for(people["other"]).post(reverse("ml:feedback-rows", args=["houses"]))
        assert staff_only.status_code == 404


class TestReplacedData:
    def test_a_replace_is_said_to_everyone_and_the_owner_and_staff_get_to_retrain(self, price_model, people):
        from analytics.datasets import dataset_replace

        houses = price_model.dataset
        houses.is_public = True
        houses.save()
        file = io.BytesIO(HOUSES_CSV.encode())
        file.name = "houses-again.csv"
        dataset_replace(houses, file=file)
        button = f'href="/datasets/houses/train/?from={price_model.version}">Retrain on the current data</a>'
        pages = (
            reverse("ml:dataset-predict", args=["houses"]),
            reverse("ml:version", args=[price_model.version]),
        )
        for who, retrains in ((None, False), ("other", False), ("owner", True), ("staff", True)):
            client = client_for(people[who] if who else None)
            for url in pages:
                content = client.get(url).content.decode()
                assert "trained on data that has since been replaced" in content, (who, url)
                assert (button in content) == retrains, (who, url)
        retrained = model_version_train(dataset=Dataset.objects.get(slug="houses"), seed=0)
        assert (
            "replaced"
            not in client_for(people["owner"])
            .get(reverse("ml:version", args=[retrained.version]))
            .content.decode()
        )

    def test_rows_added_from_feedback_are_counted_not_replaced(self, price_model, people):
        from ml.services import data_changes_since

        owner = client_for(people["owner"])
        answer = owner.post(
            "/api/datasets/houses/predict",
            {"rooms": 3, "city": "Ayr", "garden": True, "built": "2020-01-05"},
            content_type="application/json",
        ).json()
        owner.post(
            f"/api/predictions/{answer['id']}/feedback", {"value": 275}, content_type="application/json"
        )
        owner.post(reverse("ml:feedback-rows", args=["houses"]))
        changes = data_changes_since(ModelVersion.objects.select_related("dataset").get(pk=price_model.pk))
        assert not changes.replaced and changes.summary == "+1 row"


class TestGroupControls:
    def test_the_owner_activates_and_rolls_back_their_datasets_group(self, price_model, people):
        other = model_version_train(dataset=price_model.dataset, seed=1, activate=False)
        owner = client_for(people["owner"])
        assert (
            owner.post(reverse("ml:activate", args=[other.version]), {"confirmed": "yes"}).status_code == 302
        )
        other.refresh_from_db()
        assert other.is_active
        rollback = owner.post(reverse("ml:rollback"), {"dataset": "houses", "target": "price"})
        assert rollback.status_code == 302
        price_model.refresh_from_db()
        assert price_model.is_active

    @pytest.mark.parametrize(("who", "status"), [(None, 302), ("other", 403), ("staff", 302)])
    def test_others_may_not_switch_a_public_datasets_versions(self, price_model, people, who, status):
        price_model.dataset.is_public = True
        price_model.dataset.save()
        other = model_version_train(dataset=price_model.dataset, seed=1, activate=False)
        client = client_for(people[who] if who else None)
        response = client.post(reverse("ml:activate", args=[other.version]), {"confirmed": "yes"})
        assert response.status_code == status
        other.refresh_from_db()
        assert other.is_active == (who == "staff")
        if who is None:
            assert "/accounts/login/" in response["Location"]
        refused = client.post(reverse("ml:feedback-rows", args=["houses"]))
        assert refused.status_code == (302 if who in (None, "staff") else 403)

    def test_the_monsters_stay_staff_only(self, trained_version, people):
        second = model_version_train(seed=2, activate=False)
        plain = client_for(people["other"])
        assert plain.post(reverse("ml:activate", args=[second.version])).status_code == 403
        assert plain.post(reverse("ml:rollback")).status_code == 403
        assert plain.get(reverse("ml:monitoring")).status_code == 403


def test_a_monsters_page_offers_to_predict_it(client, trained_version):
    from monsters.models import Monster

    monster = Monster.objects.order_by("pk").first()
    content = client.get(monster.get_absolute_url()).content.decode()
    link = f"{reverse('ml:predict')}?level={monster.level}&amp;health={monster.health}"
    assert link in content
    page = client.get(
        reverse("ml:predict"),
        {
            "level": monster.level,
            "health": monster.health,
            "energy": monster.energy,
            "sanity": monster.sanity,
        },
    )
    assert page.status_code == 200 and page.context["answer"]["prediction"] == monster.rarity

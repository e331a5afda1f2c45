"""Staff training, activation, promotion history and rollback; downloads for signed-in users."""

import hashlib
import json
import subprocess
import sys
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from bandersnatch.models import AuditEntry, Job
from ml.models import ModelVersion, Promotion
from ml.services import model_version_rollback, model_version_train

pytestmark = pytest.mark.django_db
TRAIN = reverse("ml:train")
MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}
LOW = {"level": 2, "health": 3.1, "energy": 2.9, "sanity": 3.3}


def run_worker() -> None:
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", stdout=StringIO())


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def member(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("member", password="x"))
    return client


class TestTrainPage:
    def test_the_form_offers_every_algorithm_and_its_settings(self, staff):
        content = staff.get(TRAIN).content.decode()
        for name in (
            "logistic_regression",
            "hist_gradient_boosting",
            "random_forest",
            "k_nearest_neighbours",
        ):
            assert f'data-algorithm="{name}"' in content
        assert 'name="random_forest-n_estimators"' in content and 'value="100"' in content

    def test_training_runs_as_a_job_and_the_version_lands_in_the_list(
        self, staff, admin_user, seeded_monsters
    ):
        response = staff.post(
            TRAIN,
            {
                "algorithm": "random_forest",
                "features": ["level", "health", "energy", "sanity"],
                "target": "rarity",
                "seed": 3,
                "test_size": 0.25,
                "activate": "always",
                "random_forest-n_estimators": 20,
            },
        )
        job = Job.objects.get()
        assert response["Location"] == job.get_absolute_url() and job.kind == "train"
        assert not ModelVersion.objects.exists()
        run_worker()
        version = ModelVersion.objects.get()
        assert version.algorithm == "random_forest" and version.params["n_estimators"] == 20
        assert version.is_active and version.created_by == admin_user and version.n_test == 250
        page = staff.get(job.get_absolute_url()).content.decode()
        assert f"Trained model v{version.version}" in page
        assert f"v{version.version}" in staff.get(reverse("ml:versions")).content.decode()

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"algorithm": "magic"}, "Select a valid choice"),
            ({"features": []}, "This field is required"),
            ({"features": ["level", "colour"]}, "Select a valid choice"),
            ({"target": "type", "features": ["type", "level"]}, "The target cannot also be a feature."),
            ({"test_size": "0.9"}, "less than or equal to 0.5"),
            ({"random_forest-n_estimators": "0"}, "greater than or equal to 1"),
            ({"random_forest-max_depth": "deep"}, "Enter a whole number."),
        ],
    )
    def test_bad_settings_are_field_errors_and_queue_nothing(self, staff, data, message):
        good = {"algorithm": "random_forest", "features": ["level", "health"], "target": "rarity",
                "test_size": 0.2, "activate": "better"}  # fmt: skip
        response = staff.post(TRAIN, {**good, **data})
        assert response.status_code == 400
        assert message in str(response.context["form"].errors)
        assert not Job.objects.exists()

    def test_only_staff_may_train(self, client, member):
        assert member.get(TRAIN).status_code == 403
        assert member.post(TRAIN, {"algorithm": "random_forest"}).status_code == 403
        client.logout()
        assert client.get(TRAIN)["Location"].startswith(reverse("login"))
        assert not Job.objects.exists()


class TestActivation:
    def test_staff_activate_any_version_by_post(self, staff, admin_user, trained_version):
        other = model_version_train(algorithm="k_nearest_neighbours", seed=1, activate=False)
        assert staff.get(reverse("ml:activate", args=[other.version])).status_code == 405
        asked = staff.post(reverse("ml:activate", args=[other.version]))  # it scores lower: confirm first
        assert asked.status_code == 200 and "scores lower than the active" in asked.content.decode()
        assert ModelVersion.objects.get(is_active=True) == trained_version
        response = staff.post(reverse("ml:activate", args=[other.version]), {"confirmed": "yes"})
        assert response.status_code == 302
        assert ModelVersion.objects.get(is_active=True) == other
        promotion = Promotion.objects.first()
        assert (promotion.version, promotion.previous, promotion.reason) == (
            other,
            trained_version,
            "activated",
        )
        entry = AuditEntry.objects.filter(action="activate").get()
        assert entry.actor == admin_user and f"Activated model v{other.version}" in entry.summary

    def test_rollback_returns_to_the_version_active_before(self, staff, trained_version):
        other = model_version_train(algorithm="k_nearest_neighbours", seed=1, activate=True)
        assert ModelVersion.objects.get(is_active=True) == other
        response = staff.post(reverse("ml:rollback"), follow=True)
        assert ModelVersion.objects.get(is_active=True) == trained_version
        assert f"model v{trained_version.version} is active again" in response.content.decode()
        assert Promotion.objects.first().reason == "rollback"
        assert AuditEntry.objects.filter(action="rollback").exists()

    def test_rollback_without_history_says_so(self, staff, seeded_monsters):
        response = staff.post(reverse("ml:rollback"), follow=True)
        assert "no earlier active version" in response.content.decode()

    def test_the_history_shows_which_version_was_active_when(self, staff, trained_version):
        other = model_version_train(algorithm="k_nearest_neighbours", seed=1, activate=True)
        model_version_rollback()
        history = list(Promotion.objects.values_list("version__version", "reason"))
        first = trained_version.version
        assert history == [(first, "rollback"), (other.version, "trained"), (first, "trained")]
        content = staff.get(reverse("ml:versions")).content.decode()
        assert "Which version was active when" in content and "rolled back" in content

    def test_non_staff_cannot_activate_or_roll_back(self, client, member, trained_version):
        other = model_version_train(algorithm="k_nearest_neighbours", seed=1, activate=False)
        assert member.post(reverse("ml:activate", args=[other.version])).status_code == 403
        assert member.post(reverse("ml:rollback")).status_code == 403
        client.logout()
        assert client.post(reverse("ml:activate", args=[other.version])).status_code == 302
        assert ModelVersion.objects.get(is_active=True) == trained_version

    def test_training_records_an_audit_entry(self, trained_version):
        entry = AuditEntry.objects.get(action="train")
        assert f"Trained model v{trained_version.version}" in entry.summary and entry.actor is None


class TestDownloads:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client, trained_version):
        for name, args in (("ml:download", []), ("ml:download-version", [1]), ("ml:card", [1])):
            response = client.get(reverse(name, args=args))
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    def test_the_active_version_at_a_stable_url(self, member, trained_version):
        response = member.get(reverse("ml:download"))
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        assert hashlib.sha256(content).hexdigest() == response["X-Model-SHA256"] == trained_version.sha256
        assert f"bandersnatch-model-v{trained_version.version}.joblib" in response["Content-Disposition"]
        assert reverse("ml:card", args=[trained_version.version]) in response["Link"]

    def test_the_card_says_what_the_pipeline_needs(self, member, trained_version):
        card = member.get(reverse("ml:card", args=[trained_version.version])).json()
        assert card["features"] == ["level", "health", "energy", "sanity"]
        assert card["sha256"] == trained_version.sha256
        assert set(card["requires"]) == {"python", "scikit-learn", "pandas", "joblib"}
        assert card["metrics"]["accuracy"] == pytest.approx(trained_version.accuracy)

    def test_a_downloaded_model_predicts_in_a_fresh_python_without_this_project(
        self, member, trained_version, tmp_path
    ):
        """Only scikit-learn, pandas and joblib: no Django, no code of ours on the path (-I)."""
        path = tmp_path / "model.joblib"
        path.write_bytes(b"".join(member.get(reverse("ml:download")).streaming_content))
        script = (
            "import json, sys, joblib, pandas as pd\n"
            "pipeline = joblib.load(sys.argv[1])\n"
            f"rows = pd.DataFrame([{MONSTER!r}, {LOW!r}])\n"
            "ours = {'django', 'ml', 'monsters', 'analytics', 'bandersnatch'}\n"
            "assert not ours & {name.split('.')[0] for name in sys.modules}, 'project code was imported'\n"
            "print(json.dumps(list(pipeline.predict(rows))))\n"
        )
        result = subprocess.run(
            [sys.executable, "-I", "-c", script, str(path)], cwd=tmp_path, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == ["Rank 1", "Rank 0"]

    def test_unknown_version_is_404_and_no_active_model_is_404(self, member, seeded_monsters):
        assert member.get(reverse("ml:download-version", args=[9])).status_code == 404
        assert member.get(reverse("ml:download")).status_code == 404

    def test_a_tampered_artifact_is_refused(self, member, trained_version):
        ModelVersion.objects.filter(pk=trained_version.pk).update(artifact=b"evil pickle")
        response = member.get(reverse("ml:download"))
        assert response.status_code == 503
        assert "does not match its sha256" in response.content.decode()


def test_a_scikit_learn_mismatch_is_shown_on_the_card(client, trained_version):
    ModelVersion.objects.filter(pk=trained_version.pk).update(sklearn_version="0.24.2")
    content = client.get(reverse("ml:version", args=[trained_version.version])).content.decode()
    assert "this server runs scikit-learn" in content


def test_staff_read_the_promotion_history_in_the_admin(client, admin_user, trained_version):
    client.force_login(admin_user)
    response = client.get(reverse("admin:ml_promotion_changelist"))
    assert response.status_code == 200 and response.context["cl"].result_count == 1
    assert client.get(reverse("admin:ml_promotion_add")).status_code == 403

import re

import pytest
from django.urls import reverse

from ml.models import ModelVersion, Promotion
from ml.services import model_version_train

pytestmark = pytest.mark.django_db
PREDICT = reverse("ml:predict")
MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}


class TestPredictPage:
    def test_without_a_model_it_says_how_to_train_one(self, client):
        response = client.get(PREDICT)
        assert response.status_code == 200
        assert "No model has been trained yet" in response.content.decode()
        assert "manage.py train" in response.content.decode()

    def test_first_visit_is_prefilled_with_a_random_monster_and_its_prediction(self, client, trained_version):
        response = client.get(PREDICT)
        assert response.status_code == 200
        form = response.context["form"]
        assert 1 <= form.initial["level"] <= 20 and form.initial["health"] > 0
        assert response.context["answer"]["prediction"].startswith("Rank ")

    def test_shows_the_prediction_confidence_and_probabilities(self, client, trained_version):
        response = client.get(PREDICT, MONSTER)
        content = response.content.decode()
        assert response.context["answer"]["prediction"] == "Rank 1"
        assert re.search(r"\d+\.\d\d % confident", content)
        for element in (
            "figure-probabilities",
            "figure-what-if",
            "figure-confusion",
            "figure-importance",
            "figure-reliability",
        ):
            assert f'id="{element}" type="application/json"' in content
        assert "unlike any monster" not in content

    def test_absurd_stats_are_flagged(self, client, trained_version):
        response = client.get(PREDICT, {"level": 1, "health": 900, "energy": 3, "sanity": 2})
        assert response.status_code == 200
        content = response.content.decode()
        assert "unlike any monster the model learned from" in content
        assert "confident, for rows like the training data: these are not" in content  # which to trust
        usual = client.get(PREDICT, MONSTER).content.decode()
        assert "these are not" not in usual

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({**MONSTER, "level": "abc"}, "level", "Enter a whole number."),
            ({**MONSTER, "level": "0"}, "level", "greater than or equal to 1"),
            ({**MONSTER, "level": "21"}, "level", "less than or equal to 20"),
            ({**MONSTER, "health": "-3"}, "health", "greater than or equal to 0"),
            ({**MONSTER, "energy": "nan"}, "energy", "Enter a number."),
            ({**MONSTER, "sanity": "inf"}, "sanity", "Enter a number."),
            ({"level": "5"}, "health", "This field is required."),
        ],
    )
    def test_bad_input_shows_field_errors(self, client, trained_version, params, field, message):
        response = client.get(PREDICT, params)
        assert response.status_code == 400
        assert message in response.context["form"].errors[field][0]
        assert message in response.content.decode()

    def test_what_if_can_vary_each_field(self, client, trained_version):
        response = client.get(PREDICT, {**MONSTER, "vary": "health"})
        figure = response.context["figures"]["figure-what-if"]
        assert "health" in figure["layout"]["title"]["text"]
        assert client.get(PREDICT, {**MONSTER, "vary": "nope"}).context["vary"] == "level"

    def test_the_card_shows_new_monsters_since_training(self, client, trained_version):
        from monsters.services import monsters_seed

        monsters_seed(count=40, seed=2)
        content = client.get(PREDICT, MONSTER).content.decode()
        assert "+40 monsters" in content and "replaced" not in content

    def test_after_a_reseed_the_pages_say_the_data_was_replaced_and_only_staff_get_to_retrain(
        self, client, trained_version, django_user_model
    ):
        from monsters.services import monsters_seed

        monsters_seed(count=1_040, seed=2, reset=True)
        version_page = reverse("ml:version", args=[trained_version.version])
        button = (
            f'href="{reverse("ml:train")}?from={trained_version.version}">Retrain on the current data</a>'
        )
        for who in ("anonymous", "plain", "staff"):
            if who != "anonymous":
                client.force_login(django_user_model.objects.create_user(who, is_staff=who == "staff"))
            for url in (PREDICT, version_page):
                content = client.get(url).content.decode()
                assert "trained on data that has since been replaced" in content, (who, url)
                assert "+40 monsters" not in content  # other monsters, not added ones
                assert (button in content) == (who == "staff"), (who, url)
        retrained = model_version_train(seed=1)
        listing = client.get(reverse("ml:versions")).content.decode()
        assert listing.count(">data replaced</span>") == 1  # v1, not the version trained on these monsters
        assert "replaced" not in client.get(reverse("ml:version", args=[retrained.version])).content.decode()

    def test_the_target_selects_the_group_and_the_page_says_what_it_predicts(self, client, seeded_monsters):
        model_version_train(target="type", seed=1)
        assert "No model has been trained yet" in client.get(PREDICT).content.decode()  # no rarity model
        content = client.get(PREDICT, {"target": "type"}).content.decode()
        assert "Predict a monster's type" in content and "Predicted type" in content
        assert "Predict a monster's rarity" not in content

    def test_a_model_with_type_asks_for_type(self, client, seeded_monsters):
        model_version_train(features=["level", "health", "type"], seed=1)
        response = client.get(PREDICT, {"level": 5, "health": 30, "type": "Fey"})
        assert response.status_code == 200
        assert set(response.context["form"].fields) == {"level", "health", "type"}
        assert client.get(PREDICT, {"level": 5, "health": 30, "type": "Robot"}).status_code == 400


class TestVersions:
    def test_list_detail_and_compare(self, client, trained_version):
        model_version_train(algorithm="random_forest", params={"n_estimators": 20}, seed=1, activate=False)
        listing = client.get(reverse("ml:versions")).content.decode()
        assert "v1" in listing and "v2" in listing and "Random forest" in listing
        detail = client.get(reverse("ml:version", args=[2]))
        assert detail.status_code == 200 and "Model version 2" in detail.content.decode()
        # Hyperparameters in words, with what each is set to.
        assert "<dt>Trees</dt><dd>20</dd>" in detail.content.decode()
        assert "n_estimators" not in detail.content.decode()
        compare = client.get(reverse("ml:compare"), {"a": 1, "b": 2})
        assert compare.status_code == 200
        rows = {label: (a, b, better) for label, a, b, better in compare.context["rows"]}
        assert rows["Algorithm"] == ("Logistic regression", "Random forest", "")
        assert rows["Trees"] == ("—", "20", "")  # random forest's n_estimators
        assert rows["Freedom of fit"][1] == "—"  # logistic regression's C
        assert not any(label.startswith("param ") or "_" in label for label in rows)
        a, b = trained_version.metrics["accuracy"], ModelVersion.objects.get(version=2).metrics["accuracy"]
        assert rows["Accuracy"][2] == ("a" if a > b else "b" if b > a else "")
        assert rows["Log loss"][2] in ("a", "b")  # lower is better there

    def test_versions_of_different_targets_are_not_compared(self, client, trained_version):
        model_version_train(target="type", seed=1)
        response = client.get(reverse("ml:compare"), {"a": 1, "b": 2})
        assert response.status_code == 400 and "predict different things" in response.content.decode()

    def test_compare_gives_every_chart_of_both_versions_its_figure(self, client, trained_version):
        model_version_train(algorithm="random_forest", params={"n_estimators": 20}, seed=1, activate=False)
        for query in ({"a": 1, "b": 2}, {"a": 1, "b": 1}):
            content = client.get(reverse("ml:compare"), query).content.decode()
            boxes = re.findall(r'data-figure="([^"]+)"', content)
            assert (
                len(boxes) == len(set(boxes)) == 7
            )  # confusion, importance, reliability each; the group's history
            for element_id in boxes:
                assert f'id="{element_id}" type="application/json"' in content
            assert "plotly-strict.min.js" in content

    def test_unknown_versions(self, client, trained_version):
        assert client.get(reverse("ml:version", args=[99])).status_code == 404
        assert client.get(reverse("ml:compare"), {"a": 1, "b": 99}).status_code == 404
        assert client.get(reverse("ml:compare"), {"a": "x"}).status_code == 400

    def test_empty_list(self, client):
        assert "No model has been trained yet" in client.get(reverse("ml:versions")).content.decode()


class TestAdmin:
    def test_staff_activate_one_version_from_the_admin(self, client, trained_version, django_user_model):
        other = model_version_train(seed=5, activate=False)
        staff = django_user_model.objects.create_superuser("admin", password="pw-for-tests-1")
        client.force_login(staff)
        url = reverse("admin:ml_modelversion_changelist")
        assert client.get(url).status_code == 200
        response = client.post(url, {"action": "activate", "_selected_action": [other.pk]}, follow=True)
        assert "Model v2 is now active." in response.content.decode()
        other.refresh_from_db()
        assert other.is_active
        assert Promotion.objects.filter(version=other, previous=trained_version, activated_by=staff).exists()
        response = client.post(
            url, {"action": "activate", "_selected_action": [other.pk, trained_version.pk]}, follow=True
        )
        assert "Select exactly one version." in response.content.decode()

    def test_the_change_form_cannot_switch_the_active_version(self, client, trained_version, admin_user):
        """is_active is read-only there: the activate action records the promotion and the audit entry."""
        other = model_version_train(seed=5, activate=False)
        client.force_login(admin_user)
        url = reverse("admin:ml_modelversion_change", args=[other.pk])
        assert '<input type="checkbox" name="is_active"' not in client.get(url).content.decode()
        assert client.post(url, {"is_active": "on"}).status_code == 302
        assert ModelVersion.objects.get(is_active=True) == trained_version
        assert Promotion.objects.count() == 1  # the first training's only

import hashlib
import io

import joblib
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ml import services
from ml.models import ModelVersion
from ml.services import (
    ArtifactTampered,
    NoActiveModelVersion,
    active_machine,
    data_changes_since,
    model_version_activate,
    model_version_train,
    records_predict,
)
from monsters.services import monsters_seed

pytestmark = pytest.mark.django_db
MONSTER = {"level": 8, "health": 31.6, "energy": 32.9, "sanity": 32.0}


def test_training_stores_a_complete_version(trained_version, django_user_model):
    version = ModelVersion.objects.get()
    assert version == trained_version and version.version == 1 and version.is_active
    assert version.algorithm == "logistic_regression" and version.target == "rarity"
    assert version.features == ["level", "health", "energy", "sanity"]
    assert version.params == {"C": 1e4, "max_iter": 5000}
    assert (version.n_train, version.n_test, version.data_rows) == (800, 200, 1000)
    assert version.metrics["accuracy"] > 0.97
    assert set(version.metrics["per_class"]["Rank 0"]) == {"precision", "recall", "support"}
    assert len(version.metrics["confusion_matrix"]) == 6
    assert version.sha256 == hashlib.sha256(bytes(version.artifact)).hexdigest()
    assert version.python_version.count(".") == 2 and version.sklearn_version
    assert len(version.data_fingerprint) == 64 and version.training_seconds > 0
    pipeline = joblib.load(io.BytesIO(bytes(version.artifact)))
    assert pipeline.predict(__import__("pandas").DataFrame([MONSTER]))[0] == "Rank 1"


def test_the_same_data_and_seed_give_the_same_version(trained_version):
    again = model_version_train(seed=1, activate=False)
    assert again.metrics == trained_version.metrics
    assert again.data_fingerprint == trained_version.data_fingerprint
    assert again.version == 2


def test_a_new_version_is_activated_only_when_better(trained_version):
    worse = model_version_train(algorithm="k_nearest_neighbours", params={"n_neighbors": 200}, seed=1)
    assert not worse.is_active
    assert ModelVersion.objects.get(is_active=True) == trained_version
    forced = model_version_train(algorithm="k_nearest_neighbours", seed=1, activate=True)
    assert forced.is_active
    assert ModelVersion.objects.filter(is_active=True).count() == 1
    better = model_version_train(seed=1)  # beats the active kNN on the same test rows
    assert better.is_active


def test_each_target_has_its_own_active_version(seeded_monsters):
    """A version of another target is in another group: it never replaces (or is compared with) this one."""
    types = model_version_train(target="type", seed=1)
    rarity = model_version_train(seed=1)
    assert types.is_active and rarity.is_active  # the first of each group
    worse = model_version_train(target="type", features=["level"], seed=1)
    assert not worse.is_active  # compared with the active type version only
    chosen = model_version_train(
        target="type", features=["level"], seed=2, activate=True
    )  # staff may choose it
    assert set(ModelVersion.objects.filter(is_active=True)) == {chosen, rarity}


def test_the_database_allows_one_active_version_per_dataset_and_target(trained_version):
    model_version_train(target="type", seed=1)  # another group: active beside it
    model_version_train(seed=2, activate=False)
    assert ModelVersion.objects.filter(is_active=True).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(target="rarity").update(is_active=True)


def test_versions_with_other_features_are_scored_on_the_same_rows(seeded_monsters, monkeypatch):
    active = model_version_train(features=["level", "type"], seed=1)
    scored = []
    real_score = services.score
    monkeypatch.setattr(
        services,
        "score",
        lambda pipeline, rows, y, *task: scored.append(rows) or real_score(pipeline, rows, y, *task),
    )
    better = model_version_train(seed=1)
    assert better.is_active
    assert list(scored[0].columns) == active.features and len(scored[0]) == better.n_test


def test_the_database_allows_one_active_version(trained_version):
    model_version_train(seed=2, activate=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.update(is_active=True)


def test_activating_a_version_deactivates_the_others(trained_version):
    other = model_version_train(seed=2, activate=False)
    model_version_activate(version=other)
    assert list(ModelVersion.objects.filter(is_active=True)) == [other]


def test_bad_input_stores_nothing(seeded_monsters):
    with pytest.raises(ValidationError, match="Unknown algorithm"):
        model_version_train(algorithm="nope")
    with pytest.raises(ValidationError, match="Unknown target column 'wings'"):
        model_version_train(target="wings")
    with pytest.raises(ValidationError, match="name has 183 distinct values"):
        model_version_train(target="name")
    assert not ModelVersion.objects.exists()


def test_too_few_monsters_stores_nothing(db):
    monsters_seed(count=30, seed=1)
    with pytest.raises(ValidationError, match="Need at least 50 rows with a rarity to train, found 30."):
        model_version_train()
    assert not ModelVersion.objects.exists()


def test_the_loaded_model_is_cached_until_the_active_version_changes(trained_version, monkeypatch):
    services._load.cache_clear()
    loads = []
    real_load = joblib.load
    monkeypatch.setattr(services.joblib, "load", lambda f: loads.append(1) or real_load(f))
    first = active_machine()
    assert active_machine() is first and len(loads) == 2  # the pipeline and its detector, once
    other = model_version_train(seed=3, activate=True)
    assert active_machine().version == other.version
    assert len(loads) == 4


def test_an_activation_elsewhere_is_seen_at_once_through_the_shared_cache(trained_version, monkeypatch):
    """Another process (another host) switched the active version: this one learns it from the
    shared cache on its next prediction, not a second later."""
    from django.core.cache import cache

    monkeypatch.setattr(services, "ACTIVE_CHECK_SECONDS", 60)  # however slow this machine is
    other = model_version_train(seed=3, activate=False)
    assert active_machine().version == trained_version.version  # checked just now: trusted a second
    ModelVersion.objects.filter(pk=trained_version.pk).update(is_active=False)  # as the other host does
    ModelVersion.objects.filter(pk=other.pk).update(is_active=True)
    assert active_machine().version == trained_version.version  # within its second, nothing says so
    cache.set(services.ACTIVE_GENERATION, "the other host's activation")
    assert active_machine().version == other.version


def test_a_tampered_artifact_is_never_loaded(trained_version):
    services._load.cache_clear()
    ModelVersion.objects.filter(pk=trained_version.pk).update(artifact=b"not what was stored")
    with pytest.raises(ArtifactTampered):
        active_machine()


def test_no_active_version(db):
    with pytest.raises(NoActiveModelVersion):
        active_machine()


def test_predictions_carry_probabilities_version_and_distribution_check(trained_version):
    usual, absurd = records_predict([MONSTER, {"level": 1, "health": 900, "energy": 3, "sanity": 2}])
    assert usual["prediction"] == "Rank 1" and usual["in_distribution"]
    assert usual["confidence"] == max(usual["probabilities"].values())
    assert sum(usual["probabilities"].values()) == pytest.approx(1)
    assert list(usual["probabilities"]) == [f"Rank {k}" for k in range(6)]
    assert usual["model_version"] == 1
    assert not absurd["in_distribution"]


def changes(version: ModelVersion):
    """What the version's card says of its data now (the version read afresh, as a page would)."""
    return data_changes_since(ModelVersion.objects.select_related("dataset").get(pk=version.pk))


def test_data_changes_since_training(trained_version):
    assert trained_version.data_generation == 1
    now = changes(trained_version)
    assert (now.replaced, now.new_rows, now.is_estimate, now.changed, now.summary) == (
        False,
        0,
        False,
        False,
        "",
    )
    monsters_seed(count=25, seed=9)
    now = changes(trained_version)
    assert (now.replaced, now.new_rows, now.changed, now.summary) == (False, 25, True, "+25 monsters")


@pytest.mark.parametrize("count", [1_000, 2_000])
def test_a_reseed_replaces_the_data_whatever_the_count(trained_version, count):
    monsters_seed(count=count, seed=7, reset=True)
    now = changes(trained_version)
    assert now.replaced and now.summary == "trained on data that has since been replaced"
    assert now.new_rows == 0  # other monsters: not counted as added
    assert not changes(model_version_train(seed=1)).replaced  # trained on the new ones
    monsters_seed(count=10, seed=8)  # an append after it still counts for the new version only
    assert changes(trained_version).replaced
    assert ModelVersion.objects.get(version=2).data_generation == 2


def test_an_import_replaces_the_data_only_when_it_replaces(trained_version):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from monsters.importing import monsters_import_csv

    def csv_of(count: int) -> SimpleUploadedFile:
        rows = [f"Imp {n},Fey,3,Rank 1,3d4,12,11,10" for n in range(count)]
        return SimpleUploadedFile(
            "imps.csv", "\n".join(["name,type,level,rarity,damage,health,energy,sanity", *rows]).encode()
        )

    monsters_import_csv(file=csv_of(30), mode="append")
    assert changes(trained_version).summary == "+30 monsters"
    monsters_import_csv(file=csv_of(5), mode="replace")
    assert changes(trained_version).summary == "trained on data that has since been replaced"


def test_a_version_from_before_generations_were_kept_counts_rows_as_before(trained_version):
    ModelVersion.objects.filter(pk=trained_version.pk).update(data_generation=None)
    monsters_seed(count=1_000, seed=7, reset=True)
    monsters_seed(count=12, seed=8)
    now = changes(trained_version)
    assert not now.replaced and now.summary == "+12 monsters"

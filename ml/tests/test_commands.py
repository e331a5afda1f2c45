from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ml.models import ModelVersion

pytestmark = pytest.mark.django_db


def train(*args) -> str:
    out = StringIO()
    call_command("train", *args, stdout=out)
    return out.getvalue()


def test_train_prints_the_metrics_table_and_activates_the_first_version(seeded_monsters):
    output = train("--seed", "1")
    assert "Logistic regression on level, health, energy, sanity -> rarity" in output
    assert "accuracy" in output and "macro F1" in output and "Rank 5" in output
    assert "Stored model v1: active." in output
    assert ModelVersion.objects.get().is_active


def test_options_reach_the_version(seeded_monsters):
    train(
        "--algorithm", "random_forest", "--features", "level,health,type", "--seed", "3",
        "--test-size", "0.25", "--param", "n_estimators=25", "--param", "max_depth=8", "--no-activate",
    )  # fmt: skip
    version = ModelVersion.objects.get()
    assert (version.algorithm, version.features, version.seed, version.n_test) == (
        "random_forest", ["level", "health", "type"], 3, 250,
    )  # fmt: skip
    assert version.params["n_estimators"] == 25 and version.params["max_depth"] == 8
    assert not version.is_active


def test_if_none_skips_when_a_version_is_active(trained_version):
    assert "nothing trained" in train("--if-none")
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algorithm", "deep_magic"], "Unknown algorithm 'deep_magic'"),
        (["--features", "level,wings"], "Unknown feature wings"),
        (["--target", "wings"], "Unknown target column 'wings'"),
        (["--dataset", "nowhere"], "No dataset 'nowhere'"),
        (["--from-version", "9"], "No model version 9"),
        (["--features", "level,rarity"], "The target rarity cannot also be a feature"),
        (["--features", ""], "Choose at least one feature"),
        (["--clean", "health"], "--clean takes FEATURE=HOW"),
        (["--seed", "abc"], "--seed must be a whole number"),
        (["--test-size", "0.9"], "test_size must be between 0.05 and 0.5"),
        (["--param", "C"], "--param takes NAME=VALUE"),
        (["--param", "C=-5"], "C must be between"),
    ],
)
def test_bad_arguments_exit_with_one_line_and_store_nothing(seeded_monsters, args, message):
    with pytest.raises(CommandError, match=message) as raised:
        train(*args)
    assert "\n" not in str(raised.value)
    assert not ModelVersion.objects.exists()


def test_too_little_data(db):
    with pytest.raises(CommandError, match="Need at least 50 rows with a rarity to train, found 0."):
        train()

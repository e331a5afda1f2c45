"""The migration that put every model version into a registry group keeps the versions there were."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("ml", "0005_lazy_choices")]
AFTER = [("ml", "0006_registry_per_dataset")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_versions_join_the_monsters_groups_keeping_their_numbers():
    old = migrate(BEFORE)
    ModelVersion = old.get_model("ml", "ModelVersion")
    common = {"algorithm": "logistic_regression", "params": {}, "metrics": {"accuracy": 0.99}, "n_train": 800,
              "n_test": 200, "training_seconds": 1.0, "data_rows": 1000, "data_fingerprint": "f" * 64,
              "data_version": "7", "python_version": "3.11", "sklearn_version": "1.9", "artifact": b"x",
              "sha256": "0" * 64}  # fmt: skip
    ModelVersion.objects.create(
        version=4, features=["level", "health"], target="rarity", is_active=True, **common
    )
    ModelVersion.objects.create(version=9, features=["level", "type"], target="type", **common)
    try:
        new = migrate(AFTER)
        versions = {
            v.version: v for v in new.get_model("ml", "ModelVersion").objects.select_related("dataset")
        }
        assert set(versions) == {4, 9}
        assert {v.dataset.slug for v in versions.values()} == {"monsters"}
        assert (versions[4].target, versions[9].target) == ("rarity", "type")
        assert [column["name"] for column in versions[9].inputs] == ["level", "type"]
        dataset = versions[4].dataset
        assert versions[4].data_version == f"{dataset.pk}:{dataset.table}:7"  # as Dataset.data_version() says
        versions[9].is_active = True
        versions[9].save()  # another group: active beside v4
        with pytest.raises(IntegrityError), transaction.atomic():
            new.get_model("ml", "ModelVersion").objects.create(
                version=10, dataset=dataset, features=["level"], target="rarity", is_active=True, **common
            )
    finally:
        migrate(executor_leaf())


def executor_leaf():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()

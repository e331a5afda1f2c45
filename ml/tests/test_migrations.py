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


@pytest.mark.django_db(transaction=True)
def test_existing_versions_get_the_generation_they_saw_from_the_tables_and_the_audit_log():
    """A dataset's versions that name another table saw rows since replaced; the monsters' count the
    reseeds and replacing imports the audit log holds before them."""
    import datetime as dt

    from django.utils import timezone

    old = migrate([("ml", "0007_prediction_feedback"), ("analytics", "0001_datasets"),
                   ("bandersnatch", "0004_job_progress")])  # fmt: skip
    Dataset = old.get_model("analytics", "Dataset")
    ModelVersion = old.get_model("ml", "ModelVersion")
    AuditEntry = old.get_model("bandersnatch", "AuditEntry")
    monsters = Dataset.objects.get_or_create(
        slug="monsters", defaults={"name": "Monsters", "table": "monsters_monster", "is_builtin": True}
    )[0]
    houses = Dataset.objects.create(name="Houses", slug="houses", table="dataset_9_20261201")
    common = {"algorithm": "logistic_regression", "params": {}, "metrics": {"accuracy": 0.99}, "n_train": 80,
              "n_test": 20, "training_seconds": 1.0, "data_rows": 100, "data_fingerprint": "f" * 64,
              "python_version": "3.11", "sklearn_version": "1.9", "artifact": b"x", "sha256": "0" * 64,
              "features": ["level"], "target": "rarity"}  # fmt: skip
    now = timezone.now()

    def monster_version(number: int, days_ago: int):
        ModelVersion.objects.create(
            version=number, dataset=monsters, data_version=f"{monsters.pk}:x:1", **common
        )
        ModelVersion.objects.filter(version=number).update(created_at=now - dt.timedelta(days=days_ago))

    def audit(action: str, days_ago: int, **details):
        AuditEntry.objects.create(action=action, summary=action, details=details,
                                  created_at=now - dt.timedelta(days=days_ago))  # fmt: skip

    monster_version(1, days_ago=10)
    audit("reset", days_ago=9)
    monster_version(2, days_ago=8)
    audit("import", days_ago=7, mode="append")  # rows added: the same generation
    audit("seed", days_ago=7)
    monster_version(3, days_ago=6)
    audit("import", days_ago=5, mode="replace")
    monster_version(4, days_ago=1)
    ModelVersion.objects.create(version=5, dataset=houses, data_version=f"{houses.pk}:dataset_9:1", **common)
    ModelVersion.objects.create(
        version=6, dataset=houses, data_version=f"{houses.pk}:dataset_9_20261201:1", **common
    )
    try:
        new = migrate([("ml", "0008_data_generation")])
        generations = dict(
            new.get_model("ml", "ModelVersion").objects.values_list("version", "data_generation")
        )
        assert generations == {1: 1, 2: 2, 3: 2, 4: 3, 5: 1, 6: 2}
        datasets = dict(new.get_model("analytics", "Dataset").objects.values_list("slug", "generation"))
        assert (datasets["monsters"], datasets["houses"]) == (3, 2)
    finally:
        migrate(executor_leaf())

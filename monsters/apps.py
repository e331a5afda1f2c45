from django.apps import AppConfig
from django.db.models.signals import post_migrate

DESCRIPTION = (
    "Randomly generated monsters: the built-in demo dataset. Resources and damage grow with level "
    "and rank; rarer monsters are stronger."
)


def _register_dataset(**kwargs) -> None:
    """The monsters are the built-in dataset, described by their column description."""
    from analytics.datasets import dataset_builtin_register

    from .columns import MONSTER_COLUMNS
    from .models import Monster

    dataset_builtin_register(
        slug="monsters", name="Monsters", table=Monster._meta.db_table, columns=MONSTER_COLUMNS,
        description=DESCRIPTION,
    )  # fmt: skip


class MonstersConfig(AppConfig):
    name = "monsters"
    verbose_name = "Monsters"

    def ready(self):
        from bandersnatch.snapshots import snapshots_register

        snapshots_register(
            "monsters.selectors.counts_by_rarity_refresh",
            "monsters.selectors.page_anchors_refresh",
            "monsters.selectors.extremes_refresh",
            "monsters.similarity.similarity_scales_refresh",
        )
        post_migrate.connect(_register_dataset, sender=self)
        from analytics.models import builtin_version_register

        from .models import DataVersion

        builtin_version_register("monsters", DataVersion.current)

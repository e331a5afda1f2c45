from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _register_dataset(**kwargs) -> None:
    from .services import monsters_dataset_register

    monsters_dataset_register()


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

from django.apps import AppConfig


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

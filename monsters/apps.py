from django.apps import AppConfig


class MonstersConfig(AppConfig):
    name = "monsters"
    verbose_name = "Monsters"

    def ready(self):
        from . import selectors, similarity  # noqa: F401  (they register what they precompute)

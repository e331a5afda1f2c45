from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        from . import services  # noqa: F401  (it registers what it precomputes)

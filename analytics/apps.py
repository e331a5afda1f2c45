from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        from bandersnatch.snapshots import snapshots_register

        snapshots_register(
            "analytics.services.statistics_refresh", "analytics.services.default_figure_refresh"
        )

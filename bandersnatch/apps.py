from django.apps import AppConfig


class BandersnatchConfig(AppConfig):
    """The project as an app: accounts, the audit log and the background jobs every app shares."""

    name = "bandersnatch"
    default_auto_field = "django.db.models.BigAutoField"

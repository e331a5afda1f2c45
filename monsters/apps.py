from django.apps import AppConfig


class MonstersConfig(AppConfig):
    name = "monsters"
    verbose_name = "Monsters"

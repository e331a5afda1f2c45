from django.contrib import admin

from bandersnatch.admin import ModelAdmin

from .models import Monster
from .pagination import EstimatedCountPaginator
from .services import data_version_bump


@admin.register(Monster)
class MonsterAdmin(ModelAdmin):
    list_display = [
        "id",
        "name",
        "type",
        "level",
        "rarity",
        "damage",
        "health",
        "energy",
        "sanity",
        "created_at",
    ]
    list_display_links = ["id", "name"]
    list_filter = ["type", "rarity"]
    search_fields = ["name"]  # icontains: the trigram index on PostgreSQL
    ordering = ["-id"]
    list_per_page = 50
    # A million rows: no exact "of N total" and no exact page count per view.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        data_version_bump()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        data_version_bump()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        data_version_bump()

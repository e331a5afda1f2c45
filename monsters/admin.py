from django.contrib import admin

from analytics.pagination import EstimatedCountPaginator
from bandersnatch.admin import ModelAdmin

from .columns import MONSTER_COLUMNS
from .models import Monster
from .services import data_version_bump


@admin.register(Monster)
class MonsterAdmin(ModelAdmin):
    list_display = ["id", *(column.name for column in MONSTER_COLUMNS)]
    list_display_links = ["id", "name"]
    list_filter = [column.name for column in MONSTER_COLUMNS if column.choices and len(column.choices) < 20]
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

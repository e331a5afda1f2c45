from django.contrib import admin

from bandersnatch.admin import ModelAdmin

from .datasets import dataset_delete
from .models import Dataset


@admin.register(Dataset)
class DatasetAdmin(ModelAdmin):
    list_display = ["name", "slug", "owner", "is_public", "is_builtin", "row_count", "updated_at"]
    list_filter = ["is_public", "is_builtin"]
    list_select_related = ["owner"]
    search_fields = ["name", "slug", "description"]
    readonly_fields = ["slug", "table", "is_builtin", "source_name", "row_count", "created_at", "updated_at"]
    fields = ["name", "description", "owner", "is_public", *readonly_fields]

    def has_add_permission(self, request):
        return False  # datasets come from a file (the upload page or manage.py dataset_import)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_builtin)

    def delete_model(self, request, obj):
        dataset_delete(obj)  # the table goes with the row

    def delete_queryset(self, request, queryset):
        for dataset in queryset.exclude(is_builtin=True):
            dataset_delete(dataset)

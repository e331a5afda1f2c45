from django.contrib import admin
from django.utils.html import format_html

from .models import AuditEntry, Job


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: read, never written by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "summary"]
    list_filter = ["action", "actor"]
    list_select_related = ["actor"]
    search_fields = ["summary"]
    date_hierarchy = "created_at"


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "summary", "created_by", "page"]
    list_filter = ["kind"]
    list_select_related = ["created_by"]

    @admin.display(description="Status page")
    def page(self, job: Job) -> str:
        return format_html('<a href="{}">open</a>', job.get_absolute_url())

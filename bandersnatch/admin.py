from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet
from django.utils.html import format_html

from .models import AuditEntry, Job


class CheckedChangeList(ChangeList):
    """A change list whose filters from the address fail as bad filters, not as a 500.

    Some values pass Django's checks and only fail later: `created_at__year=99999`
    when the query is compiled (as the page renders), `__year=9999` on a
    date_hierarchy when the next year's date is worked out.  Compiling here
    turns both into IncorrectLookupParameters, which the admin answers with a
    redirect to `?e=1`.
    """

    def get_queryset(self, request, exclude_parameters=None):
        try:
            queryset = super().get_queryset(request, exclude_parameters)
            queryset.query.get_compiler(queryset.db).as_sql()
        except EmptyResultSet:
            pass  # no row can match: an empty page
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset


class ModelAdmin(admin.ModelAdmin):
    """The base of every admin of ours."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList


class ReadOnlyAdmin(ModelAdmin):
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

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet
from django.utils.html import format_html

from .models import ApiToken, AuditEntry, Job, MaintenanceRun
from .tokens import api_tokens_revoke


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


@admin.register(MaintenanceRun)
class MaintenanceRunAdmin(ReadOnlyAdmin):
    list_display = ["day", "host", "started_at", "finished_at", "deleted"]


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "revoked":
            return queryset.revoked()
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    """Every user's tokens: staff see them and revoke them (the action); every field is read-only.

    The secret was never stored; its sha256 is not shown either.  Tokens are
    made on the owner's account page, the one place that shows a secret.
    """

    list_display = ["name", "prefix_shown", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [TokenStateFilter]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    fields = ["name", "prefix_shown", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: a revoked token's use is then refused as revoked

    @admin.display(description="Token", ordering="prefix")
    def prefix_shown(self, token: ApiToken) -> str:
        return f"{token.prefix}…"

    @admin.action(permissions=["change"], description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = api_tokens_revoke(tokens=queryset, actor=request.user)
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)

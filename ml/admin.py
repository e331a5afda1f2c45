from django.contrib import admin, messages

from analytics.pagination import EstimatedCountPaginator
from bandersnatch.admin import ModelAdmin, ReadOnlyAdmin

from .models import ModelVersion, PredictionLog, Promotion


@admin.register(ModelVersion)
class ModelVersionAdmin(ModelAdmin):
    list_display = [
        "__str__",
        "dataset",
        "target",
        "task",
        "algorithm",
        "n_train",
        "created_at",
        "created_by",
        "is_active",
    ]
    list_filter = ["dataset", "task", "algorithm", "is_active"]
    list_select_related = ["created_by", "dataset"]
    exclude = ["artifact", "detector"]
    # Every field read-only, is_active too: the activate action switches versions
    # through the service that records the promotion and the audit entry.
    readonly_fields = [
        field.name for field in ModelVersion._meta.fields if field.name not in ("artifact", "detector")
    ]
    actions = ["activate"]

    def get_queryset(self, request):
        return super().get_queryset(request).without_blobs()  # megabytes per row

    def has_add_permission(self, request):
        return False  # versions come from training, never from a form

    @admin.action(permissions=["change"], description="Make the selected version the active one")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return
        from .services import model_version_activate  # scikit-learn: only when asked

        version = model_version_activate(version=queryset.get(), actor=request.user)
        self.message_user(request, f"Model v{version.version} is now active.", messages.SUCCESS)


@admin.register(PredictionLog)
class PredictionLogAdmin(ModelAdmin):
    list_display = [
        "created_at",
        "source",
        "model_version",
        "prediction",
        "confidence",
        "in_distribution",
        "feedback_correct",
        "latency_ms",
        "request_id",
    ]
    list_filter = ["source", "model_version", "prediction", "in_distribution"]
    search_fields = ["=request_id"]  # a request's predictions, from the id on its log lines
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a log is read, not edited


@admin.register(Promotion)
class PromotionAdmin(ReadOnlyAdmin):
    """Which version was active when: written by activation, read here."""

    list_display = ["activated_at", "version", "previous", "reason", "activated_by"]
    list_filter = ["reason"]
    list_select_related = ["version", "previous", "activated_by"]

    def get_queryset(self, request):
        blobs = ["version__artifact", "version__detector", "previous__artifact", "previous__detector"]
        return super().get_queryset(request).defer(*blobs)

"""The history, append-only: revisions and the audit trail, read and filtered, never added to,
changed or deleted."""

from django.contrib import admin

from releases.models import AuditEvent, Revision


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is append-only: it can be read and filtered, never added to, changed or deleted."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["article", "number", "version", "state", "kind", "conflict", "author", "created_at"]
    list_filter = ["state", "kind", "conflict"]
    search_fields = ["article__title", "article__reference", "note"]
    list_select_related = ["article", "author"]
    raw_id_fields = ["article"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail: who did what to which article, when, with which note."""

    list_display = ["created_at", "user_label", "action", "article", "from_state", "to_state", "note"]
    list_filter = ["action", "user", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["article__title", "article__reference", "note"]
    list_select_related = ["article", "user"]

    @admin.display(description="user", ordering="user__username")
    def user_label(self, obj):
        return obj.user_label

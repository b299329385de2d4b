"""Admin registration of the revision history (read-only: revisions are immutable)."""

from django.contrib import admin

from releases.models import Revision


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["article", "number", "version", "state", "kind", "author", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["article__title", "article__reference", "note"]
    list_select_related = ["article", "author"]
    raw_id_fields = ["article"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

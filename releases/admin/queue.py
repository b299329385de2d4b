"""The review queue: the inbox of what waits for the person looking, oldest first; every other
view of pending work is one filter away."""

from django.contrib import admin
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from articles.models import ArticleState
from releases.models import ReviewQueueItem, ReviewState
from releases.selectors import review_queue

from .actions import WorkflowAdminMixin
from .filters import EntityFilter, StackFilter, ToolFilter, WaitingFilter


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    """The inbox: what waits for the person looking, oldest first; every other view of pending
    work is one filter away."""

    list_display = [
        "title_cell",
        "versions",
        "state_cell",
        "submitted",
        "waiting",
        "last_note_cell",
        "badges",
    ]
    list_display_links = None
    list_filter = [WaitingFilter, "needs_human_review", "difficulty", StackFilter, ToolFilter, EntityFilter,
                   "site"]  # fmt: skip
    search_fields = ["title", "reference", "topic"]
    ordering = ["updated_at", "id"]
    list_per_page = 50

    def get_queryset(self, request):
        return review_queue()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Review queue", **(extra_context or {})})

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("articles.view_article")

    def has_module_permission(self, request):
        return request.user.has_perm("articles.view_article")

    @admin.display(description="article", ordering="title")
    def title_cell(self, obj):
        return format_html(
            '<a class="one-line" href="{}" title="{}">{}</a>',
            reverse("admin:articles_article_change", args=[obj.pk]),
            obj.title,
            obj.title,
        )

    @admin.display(description="live → pending")
    def versions(self, obj):
        live = obj.live_version or "not live"
        if obj.pending_number is None:
            return live
        pending = (
            obj.pending_version if obj.pending_version and obj.pending_version != obj.live_version else ""
        )
        return f"{live} → r{obj.pending_number}" + (f" ({pending})" if pending else "")

    @admin.display(description="state", ordering="review_state")
    def state_cell(self, obj):
        labels = dict(ReviewState.choices) | dict(ArticleState.choices)
        return labels.get(obj.review_state, obj.review_state)

    @admin.display(description="submitted by")
    def submitted(self, obj):
        return obj.submitted_by or "—"

    @admin.display(description="waiting since", ordering="waiting_since")
    def waiting(self, obj):
        return format_html(
            '<time datetime="{}" title="{}">{} ago</time>',
            obj.waiting_since.isoformat(),
            formats.date_format(timezone.localtime(obj.waiting_since), "DATETIME_FORMAT"),
            timesince(obj.waiting_since).split(",")[0],
        )

    @admin.display(description="last note")
    def last_note_cell(self, obj):
        if not obj.last_note:
            return "—"
        return format_html(
            '<span class="one-line" title="{}">{}: {}</span>', obj.last_note, obj.last_note_by or "import",
            obj.last_note.splitlines()[0],
        )  # fmt: skip

    @admin.display(description="")
    def badges(self, obj):
        parts = []
        if obj.conflict:
            parts.append(format_html('<span class="badge {}">{}</span>', "conflict", "conflict"))
        if obj.open_comments:
            parts.append(
                format_html(
                    '<span class="badge comments">{} open comment{}</span>',
                    obj.open_comments,
                    "s" if obj.open_comments != 1 else "",
                )
            )
        if obj.publish_at:
            parts.append(
                format_html(
                    '<span class="badge scheduled">publishes {}</span>',
                    formats.date_format(timezone.localtime(obj.publish_at), "SHORT_DATETIME_FORMAT"),
                )
            )
        return format_html_join(" ", "{}", ((part,) for part in parts))

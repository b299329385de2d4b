"""The article list and change page: the edit form, saved as a draft revision through the
action layer, never to the live rows; the change page with the pointers, the actions the user
may take (and why not the others), comments and schedules; and the history page, which is the
audit trail. The article's other pages are in ``article_pages``."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.html import format_html

from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleState
from articles.templating import meta_box
from releases import services
from releases.forms import ArticleEditForm, CommentForm
from releases.models import AuditEvent, ReviewState
from releases.selectors import audit_trail, last_review, revisions_for

from .actions import WorkflowAdminMixin
from .article_pages import ArticlePagesMixin
from .filters import EntityFilter, ReviewDueFilter, ReviewStateFilter, StackFilter, ToolFilter
from .messages import refused

# A reviewer's last decision, as the top of the change page says it ("Changes requested by rita").
REVIEW_DECISIONS = {
    "request_changes": "Changes requested",
    "approve": "Approved",
    "request_review": "Sent back to review",
}


@admin.register(Article)
class ArticleAdmin(ArticlePagesMixin, WorkflowAdminMixin, admin.ModelAdmin):
    form = ArticleEditForm
    change_form_template = "admin/releases/article_change_form.html"
    object_history_template = "admin/releases/history.html"
    save_on_top = True
    list_display = [
        "title_cell",
        "state_label",
        "pending_label",
        "version",
        "difficulty",
        "site",
        "updated_at",
    ]
    list_filter = ["state", ReviewStateFilter, ReviewDueFilter, "needs_human_review", "difficulty",
                   "code_language", "site", StackFilter, ToolFilter, EntityFilter]  # fmt: skip
    search_fields = ["title", "reference", "topic"]
    date_hierarchy = "updated_at"
    actions = [*WorkflowAdminMixin.actions, "bulk_request_review"]
    fieldsets = [
        ("Content", {"fields": ["title", "topic", "summary", "brief", "body_text", "change_note",
                                "base_number"]}),
        ("Meta", {"fields": ["outline_context", "outline_problem", "outline_stack",
                             "outline_recommended_action",
                             "stack", "tools", "checklist", "notes", "entity_list",
                             ("code_language", "difficulty"), ("reading_time", "view_count"), "source_hash",
                             ("revision_status", "version", "last_reviewed")]}),
        ("Scores and flags", {"fields": [("quality", "freshness", "depth", "clarity"),
                                         ("ai_generated_style", "has_images", "image_heavy",
                                          "needs_human_review")]}),
        ("Images", {"fields": ["image_list", ("upload_for", "upload")]}),
        ("Payload and extra meta", {"fields": ["payload", "extra"], "classes": ["collapse"]}),
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False  # articles come from imports

    def has_delete_permission(self, request, obj=None):
        return False  # archive instead: nothing is ever lost

    def save_model(self, request, obj, form, change):
        form.store_upload()
        try:
            request.edit_revision = services.article_edit(
                article=obj,
                user=request.user,
                content=form.content,
                base_number=form.cleaned_data["base_number"],
                note=form.cleaned_data.get("change_note") or "",
            )
        except services.WorkflowError as error:
            refused(request, error)
            request.edit_refused = True

    def save_related(self, request, form, formsets, change):
        """Parts are part of the draft revision; nothing is written to the live rows."""

    def response_change(self, request, obj):
        if getattr(request, "edit_refused", False):
            return HttpResponseRedirect(request.path)
        revision = getattr(request, "edit_revision", None)
        if revision is None:
            messages.info(request, "Nothing changed: no revision was made.")
        else:
            messages.success(
                request,
                f"Saved as draft revision {revision.number}. "
                "Readers see the live version until it is published.",
            )
        return HttpResponseRedirect(request.path)

    @admin.display(description="title", ordering="title")
    def title_cell(self, obj):
        return format_html('<span class="one-line" title="{}">{}</span>', obj.title, obj.title)

    @admin.display(description="state", ordering="state")
    def state_label(self, obj):
        return ArticleState(obj.state).label

    @admin.display(description="pending")
    def pending_label(self, obj):
        state = obj.release.review_state if hasattr(obj, "release") else ""
        return ReviewState(state).label if state else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("release")

    def log_change(self, request, obj, message):
        """The audit trail records edits (and the history page shows it); no second log is kept."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = _id_or_404(Article, object_id)
        article = get_object_or_404(content_prefetch(Article.objects.all()), pk=pk)
        revisions = list(revisions_for(article))
        release = services.release_of(article)
        availability = {item.action: item for item in services.action_availability(article, request.user)}
        review = last_review(article)
        offered = [
            (item, self._action_url(article, item.action))
            for item in availability.values()
            if item.allowed and item.action not in ("rollback", "resolve", "comment")
        ]
        extra = {
            "live_meta_box": meta_box(content_from_article(article)),
            "revisions": revisions,
            "release": release,
            "live": release.live_revision,
            "pending": release.pending_revision,
            "live_number": release.live_revision.number if release.live_revision else None,
            "pending_number": release.pending_revision.number if release.pending_revision else None,
            "conflict_number": release.conflict_revision.number if release.conflict_revision else None,
            "review_state_label": ReviewState(release.review_state).label if release.review_state else "",
            "last_review": review,
            "last_review_label": REVIEW_DECISIONS.get(review.action, "") if review else "",
            "comments": services.open_comments(article),
            "comment_form": CommentForm(),
            "schedules": services.waiting_schedules(article),
            "preview_url": (
                f"{article.get_absolute_url()}?revision={release.pending_revision.number}"
                if release.pending_revision
                else ""
            ),
            "audit_events": AuditEvent.objects.filter(article=article).select_related("user")[:20],
            "offered": offered,
            "unavailable": [
                item
                for item in availability.values()
                if item.role_allows
                and not item.allowed
                and item.action not in ("resolve", "comment", "rollback")
            ],
            "not_for_role": [
                item.label
                for item in availability.values()
                if not item.role_allows and item.action != "comment"
            ],
            "can_rollback": availability["rollback"].allowed,
            "can_resolve": availability["resolve"].allowed,
            "can_comment": availability["comment"].allowed,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def history_view(self, request, object_id, extra_context=None):
        """The article's history is its audit trail: every action, by whom, when, with its note."""
        article = self._article(request, _id_or_404(Article, object_id))
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {article.title}",
            "subtitle": None,
            "object": article,
            "article": article,
            "opts": self.model._meta,
            "events": audit_trail(article)[:500],
        }
        return TemplateResponse(request, self.object_history_template, context)


def _id_or_404(model, object_id: str):
    """The primary key an admin address names; 404 for text that is not one (never a 500)."""
    try:
        return model._meta.pk.to_python(unquote(object_id))
    except ValidationError:
        raise Http404(f"No {model._meta.verbose_name} has the id {object_id[:40]!r}.") from None

"""Workflow actions run from the admin through the action layer: one article's (``run_action``,
``run_transition``, which say how it went), and the bulk actions of the article list and the
review queue (``WorkflowAdminMixin``: a note, and a bump, on an intermediate page)."""

from django.contrib import admin, messages
from django.shortcuts import render

from articles import similarity
from articles.models import Article
from releases import services
from releases.forms import BulkPublishForm, NoteForm

from .messages import refused, report_bulk

# What a workflow action did, said of an article ("“Title”: approved.").
DONE = {
    "submit": "submitted for review",
    "approve": "approved",
    "request_changes": "sent back to the editors (changes requested)",
    "request_review": "sent back to review",
    "archive": "archived",
}


# The actions that run from the generic confirmation page (publish and rollback have their own).
SIMPLE_ACTIONS = {
    "submit": services.article_submit,
    "approve": services.article_approve,
    "request_changes": services.article_request_changes,
    "request_review": services.article_request_review,
    "archive": services.article_archive,
}


def run_action(article: Article, user, action: str, note: str = "", **extra) -> str:
    """Run one workflow action through the action layer; what it did, in words. Refusals raise
    ``services.WorkflowError`` with the reason."""
    if action == "publish":
        revision = services.article_publish(article=article, user=user, note=note, **extra)
        return f"published as version {revision.version}"
    if action == "rollback":
        revision = services.article_rollback(article=article, user=user, note=note, **extra)
        return f"revision {extra.get('revision')} restored, live as version {revision.version}"
    SIMPLE_ACTIONS[action](article=article, user=user, note=note)
    return DONE[action]


def run_transition(request, article, action: str, note: str = "", **extra) -> bool:
    """Run one workflow action and tell the user how it went; True when it succeeded."""
    try:
        done = run_action(article, request.user, action, note, **extra)
    except services.WorkflowError as error:
        refused(request, error, article)
        return False
    messages.success(request, f"“{article.title}”: {done}.")
    return True


class WorkflowAdminMixin:
    """Bulk workflow actions that ask for a note (and a bump level) on an intermediate page, and
    report each article's outcome. Only the actions the user's role allows are offered."""

    actions = ["bulk_submit", "bulk_approve", "bulk_request_changes", "bulk_publish"]
    ACTION_OF = {
        "bulk_submit": "submit",
        "bulk_approve": "approve",
        "bulk_request_changes": "request_changes",
        "bulk_publish": "publish",
        "bulk_request_review": "request_review",
    }

    def get_actions(self, request):
        actions = super().get_actions(request)
        for name, action in self.ACTION_OF.items():
            if name in actions and not services.may(request.user, action):
                del actions[name]
        return actions

    def _bulk(self, request, queryset, action, form_class=NoteForm):
        note_required = services.RULES[action].note_required
        articles = list(queryset)
        if "apply" in request.POST:
            form = form_class(request.POST, note_required=note_required)
            if form.is_valid():
                extra = {"bump": form.cleaned_data["bump"]} if "bump" in form.cleaned_data else {}
                outcomes = []
                with similarity.deferred(wait=False):  # similar posts: one refresh for all the articles
                    for article in articles:
                        try:
                            outcomes.append(
                                (
                                    article,
                                    run_action(
                                        article, request.user, action, form.cleaned_data["note"], **extra
                                    ),
                                    True,
                                )
                            )
                        except services.WorkflowError as error:
                            outcomes.append((article, error.message, False))
                report_bulk(request, action, outcomes)
                return None
        else:
            form = form_class(note_required=note_required)
        label = services.RULES[action].label
        return render(
            request,
            "admin/releases/bulk_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{label}: {len(articles)} article{'s' if len(articles) != 1 else ''}",
                "articles": articles,
                "form": form,
                "action": request.POST.get("action"),
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Submit selected articles for review")
    def bulk_submit(self, request, queryset):
        return self._bulk(request, queryset, "submit")

    @admin.action(description="Approve selected articles")
    def bulk_approve(self, request, queryset):
        return self._bulk(request, queryset, "approve")

    @admin.action(description="Request changes on selected articles (with a note)")
    def bulk_request_changes(self, request, queryset):
        return self._bulk(request, queryset, "request_changes")

    @admin.action(description="Publish selected articles (with a note and a version bump)")
    def bulk_publish(self, request, queryset):
        return self._bulk(request, queryset, "publish", form_class=BulkPublishForm)

    @admin.action(description="Send selected articles back to review (review due)")
    def bulk_request_review(self, request, queryset):
        return self._bulk(request, queryset, "request_review")

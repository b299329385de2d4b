"""The editors' and reviewers' admin: articles, review queue, history, compare, audit trail.

Every change goes through releases.services: saving the article form makes a draft
revision, and the buttons and bulk actions run the workflow transitions. Nothing here is
ever deleted: archive takes an article down.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from articles import admin as articles_admin
from articles import similarity
from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleState, Entity, Tag
from releases import services
from releases.compare import LABELS, compare_contents, show_value
from releases.forms import (
    ArchiveForm,
    ArticleEditForm,
    BulkPublishForm,
    CommentForm,
    NoteForm,
    PublishForm,
    ResolveConflictForm,
)
from releases.models import AuditEvent, ReviewComment, ReviewQueueItem, ReviewState, Revision, Schedule
from releases.selectors import (
    audit_trail,
    last_review,
    review_due,
    review_queue,
    revisions_for,
    role_of,
    waiting_for,
)

# What a workflow action did, said of an article ("“Title”: approved.").
DONE = {
    "submit": "submitted for review",
    "approve": "approved",
    "request_changes": "sent back to the editors (changes requested)",
    "request_review": "sent back to review",
    "archive": "archived",
}
# A reviewer's last decision, as the top of the change page says it ("Changes requested by rita").
REVIEW_DECISIONS = {
    "request_changes": "Changes requested",
    "approve": "Approved",
    "request_review": "Sent back to review",
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


def refused(request, error: services.WorkflowError, article: Article | None = None) -> None:
    """The admin's one answer to a refused action: an error message with the reason, naming the
    article when the page is about more than one."""
    messages.error(request, f"“{article.title}”: {error.message}" if article is not None else error.message)


def run_transition(request, article, action: str, note: str = "", **extra) -> bool:
    """Run one workflow action and tell the user how it went; True when it succeeded."""
    try:
        done = run_action(article, request.user, action, note, **extra)
    except services.WorkflowError as error:
        refused(request, error, article)
        return False
    messages.success(request, f"“{article.title}”: {done}.")
    return True


def _titles(articles: list[Article], limit: int = 5) -> str:
    names = ", ".join(f"“{article.title}”" for article in articles[:limit])
    return names + (f" and {len(articles) - limit} more" if len(articles) > limit else "")


def report_bulk(request, action: str, outcomes: list[tuple[Article, str, bool]]) -> None:
    """One message for the articles it worked for, one per reason for those it was refused,
    and a summary: success when all went through, a warning when some were refused, an error
    when all were."""
    label = services.RULES[action].label.lower()
    done = [article for article, _, ok in outcomes if ok]
    results: dict[str, list[Article]] = {}
    refused: dict[str, list[Article]] = {}
    for article, text, ok in outcomes:
        (results if ok else refused).setdefault(text, []).append(article)
    for result, articles in results.items():
        messages.success(request, f"{_titles(articles)}: {result}.")
    for reason, articles in refused.items():
        messages.error(request, f"{_titles(articles)}: {reason}")
    total = len(outcomes)
    if not refused:
        messages.success(request, f"{label.capitalize()}: all {total} article{'s' if total != 1 else ''}.")
    elif done:
        messages.warning(
            request, f"{label.capitalize()}: {len(done)} of {total} articles; the others were refused."
        )
    else:
        messages.error(request, f"{label.capitalize()}: none of the {total} articles (each was refused).")


class ReviewStateFilter(admin.SimpleListFilter):
    """The state of the pending work, by its human name; only states that can occur."""

    title = "pending work"
    parameter_name = "review_state"

    def lookups(self, request, model_admin):
        return [("none", "Nothing pending"), *ReviewState.choices]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(release__pending_revision__isnull=True)
        if self.value() in ReviewState.values:
            return queryset.filter(release__review_state=self.value())
        return queryset


class WaitingFilter(admin.SimpleListFilter):
    """The inbox: by default, what waits for the person looking (work in review, and approved work
    for those who may publish); the other views are one click away."""

    title = "show"
    parameter_name = "show"
    VIEWS = {
        "waiting": "Waiting for me",
        "in_review": "In review",
        "reviewed": "Approved, not yet published",
        "changes_requested": "Changes requested",
        "draft": "Drafts",
        "conflict": "Import conflicts",
        "scheduled": "Scheduled",
        "all": "Everything pending",
    }

    def lookups(self, request, model_admin):
        return list(self.VIEWS.items())

    def value(self):
        value = super().value()
        return value if value in self.VIEWS else "waiting"

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        view = self.value()
        if view == "waiting":
            return queryset.filter(waiting_for(request.user))
        if view == "conflict":
            return queryset.filter(conflict=True)
        if view == "scheduled":
            return queryset.filter(publish_at__isnull=False)
        if view in ReviewState.values:
            return queryset.filter(review_state=view)
        return queryset


class AutocompleteFilter(admin.SimpleListFilter):
    """A filter typed into a search box with suggestions (the names that occur in the list),
    rather than a list of links that would run to thousands."""

    template = "admin/releases/autocomplete_filter.html"

    def names(self, queryset) -> list[str]:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [(name, name) for name in self.names(model_admin.get_queryset(request))]

    def choices(self, changelist):
        keep = [
            (name, value)
            for name, values in changelist.params.items()
            for value in (values if isinstance(values, list) else [values])
            if name not in (self.parameter_name, "p")
        ]
        yield {
            "hidden": keep,
            "options": [name for name, _ in self.lookup_choices],
            "current": self.value() or "",
        }


class TagFilter(AutocompleteFilter):
    kind = ""

    def names(self, queryset):
        return list(
            Tag.objects.filter(kind=self.kind, article_tags__article__in=queryset.values("pk"))
            .values_list("name", flat=True)
            .distinct()
            .order_by("name")[:1000]
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                article_tags__tag__kind=self.kind, article_tags__tag__name=self.value().lower()
            )
        return queryset


class StackFilter(TagFilter):
    title = "stack"
    parameter_name = "stack"
    kind = Tag.Kind.STACK


class ToolFilter(TagFilter):
    title = "tool"
    parameter_name = "tool"
    kind = Tag.Kind.TOOL


class EntityFilter(AutocompleteFilter):
    title = "entity"
    parameter_name = "entity"

    def names(self, queryset):
        return list(
            Entity.objects.filter(article_entities__article__in=queryset.values("pk"))
            .values_list("name", flat=True)
            .distinct()
            .order_by("name")[:1000]
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(article_entities__entity__name=self.value())
        return queryset


class ReviewDueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review_due"

    def lookups(self, request, model_admin):
        return [("1", "Review due")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(pk__in=review_due().values("pk"))
        return queryset


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
                with similarity.deferred():  # similar posts: one refresh for all the articles
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


@admin.register(Article)
class ArticleAdmin(WorkflowAdminMixin, admin.ModelAdmin):
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

    def get_urls(self):
        urls = [
            path("<int:pk>/compare/", self.admin_site.admin_view(self.compare_view),
                 name="articles_article_compare"),
            path("<int:pk>/publish/", self.admin_site.admin_view(self.publish_view),
                 name="articles_article_publish"),
            path("<int:pk>/rollback/<int:number>/", self.admin_site.admin_view(self.rollback_view),
                 name="articles_article_rollback"),
            path("<int:pk>/workflow/<str:action>/", self.admin_site.admin_view(self.workflow_view),
                 name="articles_article_workflow"),
            path("<int:pk>/resolve/", self.admin_site.admin_view(self.resolve_view),
                 name="articles_article_resolve"),
            path("<int:pk>/comments/", self.admin_site.admin_view(self.comment_view),
                 name="articles_article_comment"),
            path("<int:pk>/comments/<int:comment>/resolve/",
                 self.admin_site.admin_view(self.comment_resolve_view),
                 name="articles_article_comment_resolve"),
            path("<int:pk>/schedules/<int:schedule>/cancel/",
                 self.admin_site.admin_view(self.schedule_cancel_view),
                 name="articles_article_schedule_cancel"),
        ]  # fmt: skip
        return urls + super().get_urls()

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
            "live_content": content_from_article(article),
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

    @staticmethod
    def _action_url(article: Article, action: str) -> str:
        if action in ("publish", "resolve"):
            return reverse(f"admin:articles_article_{action}", args=[article.pk])
        return reverse("admin:articles_article_workflow", args=[article.pk, action])

    def _article(self, request, pk) -> Article:
        article = get_object_or_404(Article, pk=pk)
        if not self.has_view_permission(request, article):
            raise PermissionDenied
        return article

    def _back(self, article):
        return HttpResponseRedirect(reverse("admin:articles_article_change", args=[article.pk]))

    def compare_view(self, request, pk):
        article = self._article(request, pk)
        revisions = {revision.number: revision for revision in revisions_for(article)}
        numbers = sorted(revisions)
        # By default: what readers see against the work waiting for review; with nothing pending,
        # what readers see against what they saw before (what the last publish or rollback changed).
        release = services.release_of(article)
        if release.pending_revision:
            new = release.pending_revision.number
            old = release.live_revision.number if release.live_revision else numbers[0]
        else:
            new = release.live_revision.number if release.live_revision else numbers[-1]
            earlier = [n for n in numbers if n < new]
            published = [n for n in earlier if revisions[n].state == ArticleState.PUBLISHED]
            old = max(published or earlier or [new])
        try:
            a = int(request.GET.get("a") or old)
            b = int(request.GET.get("b") or new)
        except ValueError:
            a, b = old, new
        if a not in revisions or b not in revisions:
            messages.error(request, "Choose two revisions of this article.")
            return self._back(article)
        changes = compare_contents(revisions[a].content, revisions[b].content)
        changed = {change.key for change in changes}
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare revisions {a} and {b}",
            "article": article,
            "opts": self.model._meta,
            "old": revisions[a],
            "new": revisions[b],
            "old_role": role_of(revisions[a].number, release),
            "new_role": role_of(revisions[b].number, release),
            "numbers": numbers,
            "changes": changes,
            "unchanged": [label for key, label in LABELS.items() if key not in changed],
        }
        return TemplateResponse(request, "admin/releases/compare.html", context)

    def publish_view(self, request, pk):
        article = self._article(request, pk)
        release = services.release_of(article)
        live = release.live_revision
        pending = release.pending_revision
        versions = services.publish_versions(article)
        what = (
            f"approved revision {pending.number}"
            if pending
            else f"revision {live.number if live else '?'} again"
        )
        replaces = (
            f"replaces live {live.version} for readers"
            if live and article.state == "published"
            else ("readers see it for the first time" if not live else "readers see the article again")
        )
        return self._confirm(
            request, article, "publish", PublishForm, form_kwargs={"versions": versions},
            title=f"Publish “{article.title}”",
            explanation=f"Publish {versions['patch'] or '—'} (patch; minor {versions['minor'] or '—'}, "
            f"major {versions['major'] or '—'}): the {what} {replaces}.",
        )  # fmt: skip

    def rollback_view(self, request, pk, number):
        article = self._article(request, pk)
        target = get_object_or_404(Revision, article=article, number=number, state=ArticleState.PUBLISHED)
        live = services.release_of(article).live_revision
        next_version = services.publish_versions(article)["patch"]
        return self._confirm(
            request, article, "rollback", NoteForm, extra={"revision": target.number},
            title=f"Roll back “{article.title}” to revision {target.number} (version {target.version})",
            explanation=f"Revision {target.number}'s content goes live again as version "
            f"{next_version or '—'}, "
            f"replacing live {live.version if live else '—'} for readers. Pending work stays pending, and "
            "the history keeps every version.",
        )  # fmt: skip

    def resolve_view(self, request, pk):
        """Resolve an import conflict field by field."""
        article = self._article(request, pk)
        release = services.release_of(article)
        if release.conflict_revision is None:
            messages.info(request, "This article has no import conflict to resolve.")
            return self._back(article)
        ours = release.pending_revision or release.live_revision
        theirs = release.conflict_revision
        fields = services.conflict_fields(article)
        form = ResolveConflictForm(request.POST or None, fields=fields)
        if request.method == "POST" and form.is_valid():
            try:
                services.conflict_resolve(
                    article=article, user=request.user, choices=form.choices(), note=form.cleaned_data["note"]
                )
            except services.WorkflowError as error:
                refused(request, error, article)
            else:
                messages.success(request, f"“{article.title}”: conflict resolved.")
                return self._back(article)
        rows = [
            {
                "label": LABELS.get(key, key.replace("_", " ")),
                "ours": show_value(ours.content.get(key)),
                "theirs": show_value(theirs.content.get(key)),
                "field": form[f"field_{key}"],
            }
            for key in fields
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve the import conflict of “{article.title}”",
            "article": article,
            "opts": self.model._meta,
            "form": form,
            "rows": rows,
            "ours": ours,
            "theirs": theirs,
        }
        return TemplateResponse(request, "admin/releases/resolve.html", context)

    def workflow_view(self, request, pk, action):
        if action not in SIMPLE_ACTIONS:
            raise Http404("No such workflow action.")
        article = self._article(request, pk)
        release = services.release_of(article)
        pending = release.pending_revision
        live = release.live_revision
        pending_name = f"Revision {pending.number}" if pending else "The pending work"
        live_name = f"version {live.version}" if live else "the article"
        commented = ", which lists the open comments" if services.open_comments(article) else ""
        explanations = {
            "submit": f"{pending_name} goes to the review queue, for a reviewer to approve or send back.",
            "approve": f"{pending_name} is approved: today becomes its 'last reviewed' date and 'needs human "
            "review' is cleared. It goes live when someone publishes it.",
            "request_changes": f"{pending_name} goes back to the editors with your note{commented}.",
            "request_review": f"The live {live_name} goes back to the review queue with your note; approving "
            "it stamps a new 'last reviewed' date.",
            "archive": f"Readers stop seeing {live_name}. The article is kept and comes back by publishing "
            "it again.",
        }
        form_class = ArchiveForm if action == "archive" else NoteForm
        return self._confirm(request, article, action, form_class,
                             title=f"{services.RULES[action].label}: “{article.title}”",
                             explanation=explanations[action])  # fmt: skip

    def _confirm(
        self, request, article, action, form_class, *, title, explanation, extra=None, form_kwargs=None
    ):
        """An action's page: what will happen, or why it cannot; the note (and bump or time) to
        confirm it. The action layer decides, whatever the page showed."""
        note_required = services.RULES[action].note_required
        availability = {item.action: item for item in services.action_availability(article, request.user)}
        blocked = availability[action].reason
        form_kwargs = {"note_required": note_required, **(form_kwargs or {})}
        if request.method == "POST":
            form = form_class(request.POST, **form_kwargs)
            if form.is_valid():
                options = dict(extra or {})
                if "bump" in form.cleaned_data:
                    options["bump"] = form.cleaned_data["bump"]
                due_at = form.cleaned_data.get("due_at")
                if due_at is not None:
                    self._schedule(request, article, action, due_at, form.cleaned_data["note"], options)
                else:
                    run_transition(request, article, action, form.cleaned_data["note"], **options)
                return self._back(article)
        else:
            form = form_class(**form_kwargs)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "blocked": blocked,
            "comments": services.open_comments(article) if action == "request_changes" else [],
            "article": article,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/releases/confirm.html", context)

    def _schedule(self, request, article, action, due_at, note, options) -> None:
        try:
            services.article_schedule(
                article=article, user=request.user, action=action, due_at=due_at, note=note, **options
            )
        except services.WorkflowError as error:
            refused(request, error, article)
            return
        when = f"{timezone.localtime(due_at):%Y-%m-%d %H:%M %Z}"  # as the audit trail says it
        messages.success(
            request, f"“{article.title}”: {services.RULES[action].label.lower()} scheduled for {when}."
        )

    def comment_view(self, request, pk):
        article = self._article(request, pk)
        if request.method != "POST":
            return self._back(article)
        form = CommentForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Write a comment first.")
            return self._back(article)
        try:
            services.comment_add(
                article=article,
                user=request.user,
                body=form.cleaned_data["body"],
                field=form.cleaned_data["field"],
            )
        except services.WorkflowError as error:
            refused(request, error)
        else:
            messages.success(request, "Comment added.")
        return self._back(article)

    def _on_post(self, request, pk, model, object_pk, act, done):
        """A button's POST on one of the article's comments or schedules: run ``act`` on it through
        the action layer, say how it went, and go back to the article."""
        article = self._article(request, pk)
        if request.method == "POST":
            found = get_object_or_404(model, pk=object_pk, article=article)
            try:
                act(found)
            except services.WorkflowError as error:
                refused(request, error)
            else:
                messages.success(request, done(found))
        return self._back(article)

    def comment_resolve_view(self, request, pk, comment):
        return self._on_post(
            request, pk, ReviewComment, comment,
            lambda found: services.comment_resolve(comment=found, user=request.user),
            lambda found: "Comment resolved.",
        )  # fmt: skip

    def schedule_cancel_view(self, request, pk, schedule):
        return self._on_post(
            request, pk, Schedule, schedule,
            lambda found: services.schedule_cancel(schedule=found, user=request.user),
            lambda found: f"Scheduled {found.get_action_display().lower()} cancelled.",
        )  # fmt: skip


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


# -- shared tags and users: writes that touch history go through the action layer ------------------


class RenameThroughActionsMixin:
    """A shared name's change changes every article that carries it: through the action layer,
    as new revisions with audit events, never as a silent rewrite of live rows."""

    rename = None  # the action: (instance, user, name) -> how many articles changed

    def get_readonly_fields(self, request, obj=None):
        # The slug follows the name; the kind or type of a used one would change articles too.
        return ["slug", "kind" if hasattr(obj, "kind") else "type"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)  # a new one carries no article yet
            return
        name = form.cleaned_data["name"]
        obj.name = type(obj).objects.values_list("name", flat=True).get(pk=obj.pk)
        try:
            changed = type(self).rename(obj, request.user, name)
        except services.WorkflowError as error:
            refused(request, error)
            request.rename_refused = True
            return
        obj.refresh_from_db()
        messages.info(request, f"Renamed: {changed} article(s) got a new revision.")

    def response_change(self, request, obj):
        if getattr(request, "rename_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


admin.site.unregister(Tag)
admin.site.unregister(Entity)


@admin.register(Tag)
class TagAdmin(RenameThroughActionsMixin, articles_admin.TagAdmin):
    @staticmethod
    def rename(tag, user, name):
        return services.tag_rename(tag=tag, user=user, name=name)


@admin.register(Entity)
class EntityAdmin(RenameThroughActionsMixin, articles_admin.EntityAdmin):
    @staticmethod
    def rename(entity, user, name):
        return services.entity_rename(entity=entity, user=user, name=name)


def _id_or_404(model, object_id: str):
    """The primary key an admin address names; 404 for text that is not one (never a 500)."""
    try:
        return model._meta.pk.to_python(unquote(object_id))
    except ValidationError:
        raise Http404(f"No {model._meta.verbose_name} has the id {object_id[:40]!r}.") from None


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """History is never rewritten: a user with revisions or audit events cannot be deleted (their
    rows protect them); deactivate them instead (uncheck "Active")."""

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, unquote(object_id))
        if user is None:  # not an id, or no such user: Django's answer (back to the list, with a message)
            return super().delete_view(request, object_id, extra_context)
        has_history = (
            Revision.objects.filter(author_id=user.pk).exists()
            or AuditEvent.objects.filter(user_id=user.pk).exists()
        )
        if has_history:
            messages.error(
                request,
                "This user has revisions or audit events and cannot be deleted: history is never "
                "rewritten. Deactivate the account instead (uncheck “Active” and save).",
            )
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[object_id]))
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk deletes would skip the check above
        return actions

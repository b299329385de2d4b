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
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from articles import admin as articles_admin
from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleState, Entity, Tag
from releases import services
from releases.compare import LABELS, compare_contents, show_value
from releases.forms import ArticleEditForm, NoteForm, PublishForm, ResolveConflictForm
from releases.models import AuditEvent, ReviewQueueItem, ReviewState, Revision
from releases.selectors import review_queue, revisions_for

# action name -> (service, label, whether a note is required)
ACTIONS = {
    "submit": (services.article_submit, "Submit for review", False),
    "approve": (services.article_approve, "Approve", False),
    "request_changes": (services.article_request_changes, "Request changes", True),
    "archive": (services.article_archive, "Archive", True),
}


class ReviewStateFilter(admin.SimpleListFilter):
    title = "review state"
    parameter_name = "review_state"

    def lookups(self, request, model_admin):
        return ArticleState.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(review_state=self.value())
        return queryset


class TagFilter(admin.SimpleListFilter):
    kind = ""

    def lookups(self, request, model_admin):
        tags = Tag.objects.filter(kind=self.kind).annotate(n=Count("article_tags")).order_by("-n", "name")
        return [(tag.slug, tag.name) for tag in tags[:30]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(article_tags__tag__kind=self.kind, article_tags__tag__slug=self.value())
        return queryset


class StackFilter(TagFilter):
    title = "stack"
    parameter_name = "stack"
    kind = Tag.Kind.STACK


class ToolFilter(TagFilter):
    title = "tool"
    parameter_name = "tool"
    kind = Tag.Kind.TOOL


def run_transition(request, article, action: str, note: str = "", **extra):
    """Run one workflow action and tell the user how it went; True when it succeeded."""
    try:
        if action == "publish":
            services.article_publish(article=article, user=request.user, note=note, **extra)
        elif action == "rollback":
            services.article_rollback(article=article, user=request.user, note=note, **extra)
        else:
            ACTIONS[action][0](article=article, user=request.user, note=note)
    except services.WorkflowError as error:
        messages.error(request, f"{article.title}: {error.message}")
        return False
    messages.success(request, f"{article.title}: done ({action.replace('_', ' ')}).")
    return True


class WorkflowAdminMixin:
    """Bulk workflow actions that ask for a note (and a bump level) on an intermediate page."""

    actions = ["bulk_submit", "bulk_approve", "bulk_request_changes", "bulk_publish"]

    def _bulk(self, request, queryset, action, form_class=NoteForm, note_required=False):
        if "apply" in request.POST:
            form = form_class(request.POST, note_required=note_required)
            if form.is_valid():
                extra = {"bump": form.cleaned_data["bump"]} if "bump" in form.cleaned_data else {}
                done = sum(
                    run_transition(request, article, action, form.cleaned_data["note"], **extra)
                    for article in queryset
                )
                messages.info(request, f"{done} of {queryset.count()} articles: {action.replace('_', ' ')}.")
                return None
        else:
            form = form_class(note_required=note_required)
        return render(
            request,
            "admin/releases/bulk_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{action.replace('_', ' ').capitalize()}: {queryset.count()} articles",
                "articles": queryset,
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
        return self._bulk(request, queryset, "request_changes", note_required=True)

    @admin.action(description="Publish selected articles (with a note and a version bump)")
    def bulk_publish(self, request, queryset):
        return self._bulk(request, queryset, "publish", form_class=PublishForm, note_required=True)


@admin.register(Article)
class ArticleAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    form = ArticleEditForm
    change_form_template = "admin/releases/article_change_form.html"
    list_display = [
        "title",
        "reference",
        "state",
        "pending_label",
        "version",
        "difficulty",
        "site",
        "updated_at",
    ]
    list_filter = ["state", "release__review_state", "needs_human_review", "difficulty", "code_language",
                   "site",
                   StackFilter, ToolFilter]  # fmt: skip
    search_fields = ["title", "reference", "topic"]
    date_hierarchy = "updated_at"
    fieldsets = [
        (None, {"fields": ["title", "topic", "summary", "brief", "base_number"]}),
        ("Outline", {"fields": ["outline_context", "outline_problem", "outline_stack",
                                "outline_recommended_action"]}),
        ("Tags and lists", {"fields": ["stack", "tools", "checklist", "notes", "entity_list"]}),
        ("Meta", {"fields": [("code_language", "difficulty"), ("reading_time", "view_count"),
                             "source_hash"]}),
        ("Scores", {"fields": [("quality", "freshness", "depth", "clarity")]}),
        ("Revision", {"fields": [("revision_status", "version", "last_reviewed")]}),
        ("Flags", {"fields": [("ai_generated_style", "has_images", "image_heavy", "needs_human_review")]}),
        ("Images", {"fields": ["image_list", ("upload_for", "upload")]}),
        ("Body", {"fields": ["body_text"]}),
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
            )
        except services.WorkflowError as error:
            messages.error(request, error.message)
            request.edit_refused = True

    def save_related(self, request, form, formsets, change):
        """Parts are part of the draft revision; nothing is written to the live rows."""

    def response_change(self, request, obj):
        if getattr(request, "edit_refused", False):
            return HttpResponseRedirect(request.path)
        if getattr(request, "edit_revision", None) is None:
            messages.info(request, "Nothing changed: no revision was made.")
        else:
            messages.success(
                request, "Saved as a draft revision. Readers see the live version until it is published."
            )
        return HttpResponseRedirect(request.path)

    @admin.display(description="pending")
    def pending_label(self, obj):
        state = obj.release.review_state if hasattr(obj, "release") else ""
        return ReviewState(state).label if state else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("release")

    def log_change(self, request, obj, message):
        """The audit trail records edits; Django's own log entry is not needed."""

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
        ]  # fmt: skip
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = _id_or_404(Article, object_id)
        article = get_object_or_404(content_prefetch(Article.objects.all()), pk=pk)
        revisions = list(revisions_for(article))
        release = services.release_of(article)
        extra = {
            "live_content": content_from_article(article),
            "revisions": revisions,
            "live_number": release.live_revision.number if release.live_revision else None,
            "pending_number": release.pending_revision.number if release.pending_revision else None,
            "conflict_number": release.conflict_revision.number if release.conflict_revision else None,
            "review_state": services.review_state(article),
            "audit_events": AuditEvent.objects.filter(article=article).select_related("user")[:20],
            "workflow_actions": [(name, label) for name, (_, label, _) in ACTIONS.items()],
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def _article(self, request, pk) -> Article:
        article = get_object_or_404(Article, pk=pk)
        if not self.has_view_permission(request, article):
            raise PermissionDenied
        return article

    def compare_view(self, request, pk):
        article = self._article(request, pk)
        revisions = {revision.number: revision for revision in revisions_for(article)}
        numbers = sorted(revisions)
        # By default: what readers see against the work waiting for review.
        release = services.release_of(article)
        live = release.live_revision.number if release.live_revision else numbers[0]
        pending = release.pending_revision.number if release.pending_revision else numbers[-1]
        try:
            a = int(request.GET.get("a") or live)
            b = int(request.GET.get("b") or pending)
        except ValueError:
            a, b = live, pending
        if a not in revisions or b not in revisions:
            messages.error(request, "Choose two revisions of this article.")
            return HttpResponseRedirect(reverse("admin:articles_article_change", args=[article.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare revisions {a} and {b}",
            "article": article,
            "opts": self.model._meta,
            "old": revisions[a],
            "new": revisions[b],
            "numbers": numbers,
            "changes": compare_contents(revisions[a].content, revisions[b].content),
        }
        return TemplateResponse(request, "admin/releases/compare.html", context)

    def publish_view(self, request, pk):
        article = self._article(request, pk)
        return self._confirm(
            request, article, "publish", PublishForm, note_required=True,
            title=f"Publish “{article.title}”",
            explanation=f"The approved changes go live as the next version after {article.version or '—'}.",
        )  # fmt: skip

    def rollback_view(self, request, pk, number):
        article = self._article(request, pk)
        target = get_object_or_404(Revision, article=article, number=number, state=ArticleState.PUBLISHED)
        return self._confirm(
            request, article, "rollback", NoteForm, note_required=True, extra={"revision": target.number},
            title=f"Roll back “{article.title}” to revision {target.number} (version {target.version})",
            explanation=f"Revision {target.number}'s content goes live again as a new patch version; "
            "pending work stays pending, and the history keeps every version.",
        )  # fmt: skip

    def resolve_view(self, request, pk):
        """Resolve an import conflict field by field."""
        article = self._article(request, pk)
        release = services.release_of(article)
        if release.conflict_revision is None:
            messages.info(request, "This article has no import conflict to resolve.")
            return HttpResponseRedirect(reverse("admin:articles_article_change", args=[article.pk]))
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
                messages.error(request, f"{article.title}: {error.message}")
            else:
                messages.success(request, f"{article.title}: conflict resolved.")
                return HttpResponseRedirect(reverse("admin:articles_article_change", args=[article.pk]))
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
        if action not in ACTIONS:
            raise PermissionDenied
        article = self._article(request, pk)
        _, label, note_required = ACTIONS[action]
        return self._confirm(request, article, action, NoteForm, note_required=note_required,
                             title=f"{label}: “{article.title}”", explanation="")  # fmt: skip

    def _confirm(
        self, request, article, action, form_class, *, note_required, title, explanation, extra=None
    ):
        if request.method == "POST":
            form = form_class(request.POST, note_required=note_required)
            if form.is_valid():
                options = dict(extra or {})
                if "bump" in form.cleaned_data:
                    options["bump"] = form.cleaned_data["bump"]
                run_transition(request, article, action, form.cleaned_data["note"], **options)
                return HttpResponseRedirect(reverse("admin:articles_article_change", args=[article.pk]))
        else:
            form = form_class(note_required=note_required)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "article": article,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/releases/confirm.html", context)


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(WorkflowAdminMixin, admin.ModelAdmin):
    """Articles waiting for review, oldest first."""

    list_display = ["open_link", "review_state", "conflict_badge", "needs_human_review", "difficulty", "site",
                    "updated_at"]  # fmt: skip
    list_display_links = None
    list_filter = [ReviewStateFilter, "needs_human_review", "difficulty", StackFilter, ToolFilter,
                   "code_language", "site"]  # fmt: skip
    search_fields = ["title", "reference", "topic"]
    ordering = ["updated_at", "id"]

    def get_queryset(self, request):
        return review_queue()

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
    def open_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:articles_article_change", args=[obj.pk]), obj.title
        )

    @admin.display(description="review state", ordering="review_state")
    def review_state(self, obj):
        return ArticleState(obj.review_state).label

    @admin.display(description="conflict", boolean=True)
    def conflict_badge(self, obj):
        return bool(obj.conflict)


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
            messages.error(request, error.message)
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

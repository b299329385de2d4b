"""The article's own pages beside its change page: compare, publish, roll back, resolve a
conflict, the confirmation page of the other workflow actions (run now or scheduled), and the
comments' and schedules' buttons. Every change goes through the action layer, which decides
whatever the page showed."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from articles.models import Article, ArticleState
from releases import services
from releases.compare import LABELS, compare_contents, show_value
from releases.forms import ArchiveForm, CommentForm, NoteForm, PublishForm, ResolveConflictForm
from releases.models import ReviewComment, Revision, Schedule
from releases.selectors import revisions_for, role_of

from .actions import SIMPLE_ACTIONS, run_transition
from .messages import refused


class ArticlePagesMixin:
    """The article's pages beside its change page, each at an address under it (``get_urls``);
    an action's page says what will happen, or why it cannot, and takes the note (and bump or
    time) to confirm it."""

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

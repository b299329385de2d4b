"""Issue 15: a stateful property-based test of the action layer (``releases.services``).

Editors, reviewers, an administrator and the importer act in random order on one or two
articles (the sample "a", and "b" once an import creates it):

- edit (summary, difficulty or checklist; an image upload; a caption sent without the uploads,
  as a form sends it; the same content with CRLF line ends; a control character in the title or
  an extra-meta key named ``items``; from the current revision, from none, or from a stale one),
  submit, approve, request changes, publish (patch, minor, major), roll back to any revision
  (a published one, or one never published: refused), archive, resolve an import conflict field
  by field, rename a tool tag;
- import a document (a new article, the identical document again, a newer, older or unversioned
  one, the same version with other content, one conflicting with editors' pending work, another
  site's, reviewed or needing review) as the operator, a reviewer, or an editor (who may not
  publish);
- export a backup and restore it, or an earlier one, into this database (nothing changes), or
  into the database emptied of every article (each comes back as it was);
- ``advance``: the next step of the workflow by whoever may take it, so that random sequences
  get changes live as well as being refused.

Every action the rules refuse raises a ``WorkflowError`` and writes nothing (no revision, audit
event, pointer or row change). After every step:

- the row of a published or archived article is the projection of its ``live_revision``, and of
  a never-published one, of its pending revision;
- no revision ever changes or disappears;
- every editor's edit is *held*: the pending revision or an ancestor of it, or an ancestor of a
  published revision (through ``base_number`` and ``merged_number``); it may stop being held
  only in a step that is a reviewer's publish or conflict resolution, recorded in the audit
  trail as that reviewer's (an import, a rollback or anything else never drops one);
- the versions of an article's published revisions are unique, and grow with each one;
- anonymous API clients read the live revision's content, and get 404 for a never-published or
  archived article;
- every successful action adds exactly one audit event (an import or a tag rename, one per
  revision it adds; an edit that changes nothing, an export and a restore, none), and the trail
  holds exactly as many events as the actions called for.

``WORKFLOW_FSM_EXAMPLES`` (default 40) and ``WORKFLOW_FSM_STEPS`` (at most this many steps per
example, default 25) make it search longer: ``WORKFLOW_FSM_EXAMPLES=500 pytest tests/releases/
test_workflow_state_machine.py -s`` also prints how often each step ran, was refused or changed
nothing.
"""

import contextlib
import io
import os
from collections import Counter
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import F, Max
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from articles.content import content_from_article, content_prefetch, content_version, version_key
from articles.models import (
    Article,
    ArticleEntity,
    ArticleState,
    ArticleTag,
    ImageSource,
    SimilarArticle,
    Tag,
)
from releases import backup, services
from releases.importing import Source, import_document, import_documents
from releases.models import AuditEvent, Release, Revision, RevisionKind
from tests.conftest import SAMPLE_PATH

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("WORKFLOW_FSM_EXAMPLES", "40"))
STEPS = int(os.environ.get("WORKFLOW_FSM_STEPS", "25"))
FSM_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

SAMPLE = SAMPLE_PATH.read_text(encoding="utf-8")
SITE, OTHER_SITE = "alphanode", "betabyte"
REFERENCES = {"a": "anp-ref-035445-8950", "b": "anp-ref-000009-0009"}
SAMPLE_SUMMARY = (
    "this ai-style technical summary explains creating rollback friendly releases in python services, "
    "with emphasis on measurement, safe defaults, rollback planning, and maintainable documentation."
)
SUMMARIES = (
    SAMPLE_SUMMARY,
    "an editor's shorter summary",
    "a second editor's summary",
    "summary of the source",
)
DIFFICULTIES = ("advanced", "easy", "intermediate")
EDITORS = ("edith", "eddie")
REVIEWERS = ("rita", "rex")
# The reviewer decisions (audit actions) that may take an editor's edit out of the pending chain
# unpublished. The action layer has no such path today; it would have to be one of these.
SUPERSEDING = ("publish", "resolve")

# Which article a rule acts on: "a" (the sample, imported first), "b" (once an import created it;
# "a" until then), or "ready": the first article the action suits (else "a"), so that random
# steps get through the workflow as well as being refused by it.
articles_ = st.sampled_from(("ready", "ready", "a", "b"))
editors_ = st.sampled_from(EDITORS)
# Reviewer actions are sometimes tried by an editor: refused, and nothing is written.
reviewer_actors = st.sampled_from((*REVIEWERS, *REVIEWERS, "edith"))
notes = st.sampled_from(("looks good", "looks good", "looks good", "", "  "))
changes = st.one_of(
    st.tuples(st.just("summary"), st.sampled_from(SUMMARIES)),
    st.tuples(st.just("difficulty"), st.sampled_from(DIFFICULTIES)),
    st.tuples(st.just("checklist"), st.sampled_from(("append", "drop_last", "replace"))),
    # An uploaded image file for an image source, and a caption changed the way a form sends it
    # (image sources without their upload): the upload must stay with the revision.
    st.tuples(st.just("upload"), st.sampled_from((1, 2))),
    st.tuples(st.just("caption"), st.sampled_from(("a better caption", "another caption"))),
    # The same content with CRLF line ends, as a browser sends a textarea: no change at all.
    st.tuples(st.just("crlf"), st.none()),
    # What the importer refuses, every edit path refuses: nothing is written.
    st.tuples(st.just("hostile"), st.sampled_from(("title\u000b", "title\u000c", "extra items"))),
)
edit_bases = st.sampled_from(("current", "none", "current", "none", "stale"))


# -- documents ------------------------------------------------------------------------------------


def older(version: str) -> str:
    major, minor, patch = version_key(version) or (1, 5, 4)
    if patch:
        return f"{major}.{minor}.{patch - 1}"
    if minor:
        return f"{major}.{minor - 1}.9"
    return f"{max(major - 1, 0)}.9.9" if major else "0.0.0"


def document(
    *,
    reference: str,
    version: str,
    site: str = SITE,
    status: str = "reviewed",
    needs_review: bool = False,
    summary: str = SAMPLE_SUMMARY,
    difficulty: str = "advanced",
    drop_tool: bool = False,
) -> bytes:
    """A variant of the sample document (each replaced text is there exactly once)."""
    replacements = [
        ("  \u2022 version: 1.5.4\n", f"  \u2022 version: {version}\n" if version else ""),
        ("status: reviewed", f"status: {status}"),
        ("needs human review: 0", f"needs human review: {int(needs_review)}"),
        (f"{SITE} post meta", f"{site} post meta"),
        (f"reference{REFERENCES['a']}", f"reference{reference}"),
        (f"summary{SAMPLE_SUMMARY}", f"summary{summary}"),
        ("difficultyadvanced", f"difficulty{difficulty}"),
    ]
    if drop_tool:
        replacements.append(("  \u2022 ruff\n", ""))
    text = SAMPLE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode()


@dataclass(frozen=True)
class DocumentSpec:
    reference: str  # "a" or "b"
    # How the version relates to the article's current one: same, older, patch, minor, major;
    # "sample" is the sample's 1.5.4, "identical" the document last imported for the reference,
    # "none" a document whose revision block has no version.
    version: str
    site: str
    status: str
    needs_review: bool
    summary: str
    difficulty: str
    drop_tool: bool


document_specs = st.builds(
    DocumentSpec,
    reference=st.sampled_from(("a", "b")),
    version=st.sampled_from(("patch", "minor", "major", "same", "older", "sample", "identical", "none")),
    site=st.sampled_from((SITE, SITE, SITE, SITE, OTHER_SITE)),
    status=st.sampled_from(("reviewed", "reviewed", "draft")),
    needs_review=st.sampled_from((False, False, True)),
    summary=st.sampled_from(SUMMARIES),
    difficulty=st.sampled_from(DIFFICULTIES),
    drop_tool=st.booleans(),
)


# -- reading the database -------------------------------------------------------------------------


def closure(revisions: dict[int, Revision], numbers) -> set[int]:
    """The revisions ``numbers`` and all their ancestors (through base_number and merged_number)."""
    seen: set[int] = set()
    todo = [number for number in numbers if number is not None]
    while todo:
        number = todo.pop()
        if number in seen or number not in revisions:
            continue
        seen.add(number)
        revision = revisions[number]
        todo.extend(n for n in (revision.base_number, revision.merged_number) if n is not None)
    return seen


def snapshot() -> dict:
    """Everything an action may write: a refused action must leave all of it as it was."""
    return {
        "revisions": Revision.objects.count(),
        "audit": AuditEvent.objects.count(),
        "releases": sorted(
            Release.objects.values_list(
                "article_id",
                "live_revision_id",
                "pending_revision_id",
                "conflict_revision_id",
                "review_state",
                "edited_at",
            )
        ),
        "articles": sorted(
            Article.objects.values_list(
                "id",
                "site",
                "state",
                "version",
                "summary",
                "difficulty",
                "checklist",
                "source_digest",
                "published_at",
                "updated_at",
            )
        ),
    }


def without_uploads(value, name: str):
    if name != "image_sources" or not value:
        return value
    return [
        {key: item for key, item in image.items() if key not in ("upload", "width", "height")}
        for image in value
    ]


def logical_state() -> dict[str, dict]:
    """Each article by reference as a backup should carry it, without database ids."""
    state = {}
    for article in content_prefetch(Article.objects.select_related("release")):
        release = article.release
        numbers = dict(Revision.objects.filter(article=article).values_list("id", "number"))
        state[article.reference] = {
            "row": {name: getattr(article, name) for name in LOGICAL_ROW},
            "content": content_from_article(article),
            "release": (
                numbers.get(release.live_revision_id),
                numbers.get(release.pending_revision_id),
                numbers.get(release.conflict_revision_id),
                release.review_state,
                release.edited_at,
            ),
            "revisions": list(
                Revision.objects.filter(article=article)
                .order_by("number")
                .values_list(
                    "number",
                    "kind",
                    "state",
                    "version",
                    "content",
                    "base_number",
                    "merged_number",
                    "conflict",
                    "author_name",
                    "note",
                    "created_at",
                )
            ),
            "audit": sorted(
                (action, from_state, to_state, user_name, note, numbers.get(revision_id), created_at)
                for action, from_state, to_state, user_name, note, revision_id, created_at in (
                    AuditEvent.objects.filter(article=article).values_list(
                        "action", "from_state", "to_state", "user_name", "note", "revision_id", "created_at"
                    )
                )
            ),
        }
    return state


LOGICAL_ROW = (
    "site", "slug", "state", "title", "version", "summary", "difficulty", "checklist", "source_digest",
    "source_version", "published_at", "created_at", "updated_at",
)  # fmt: skip


def differences(before: dict, after: dict) -> list[str]:
    return [f"{key}: {before[key]!r} -> {after[key]!r}" for key in before if before[key] != after[key]]


@dataclass
class Step:
    """The action the last rule ran, for the invariants."""

    action: str
    actor: str | None  # username, None for the operator's importer
    article_id: int | None
    last_audit_id: int  # the newest audit event before the step
    refused: bool = False


# -- the machine ----------------------------------------------------------------------------------


class WorkflowMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in its own savepoint, rolled back by teardown, so examples are
        # independent; the caches are keyed by a content generation that the rollback resets.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        for cache in caches.all():
            cache.clear()
        user_model = get_user_model()
        self.users = {}
        self.users["root"] = user_model.objects.create_superuser(username="root", password=None)
        for names, group in ((EDITORS, "Editors"), (REVIEWERS, "Reviewers")):
            for name in names:
                # No password: hashing one takes longer than a whole step.
                user = user_model.objects.create_user(username=name, password=None, is_staff=True)
                user.groups.add(Group.objects.get(name=group))
                self.users[name] = user
        result = import_document(document(reference=REFERENCES["a"], version="1.5.4"), path="sample.txt")
        end_of_import_transaction()
        assert result.outcome == "created", result.errors
        self.last_document = {REFERENCES["a"]: document(reference=REFERENCES["a"], version="1.5.4")}
        # Revisions are named by (reference, number): a restore into an emptied database gives
        # the articles new ids, and the same revision numbers.
        self.known: dict[tuple[str, int], tuple] = {}  # revision -> what it was
        self.edits: set[tuple[str, int]] = set()  # editors' edits made by the machine
        self.superseded: dict[tuple[str, int], str] = {}  # edit -> the reviewer's decision
        self.held: set[tuple[str, int]] = set()
        self.backups: list[str] = []
        self.step = Step("start", None, None, last_audit_id())
        self.audit_expected = 1  # the sample's import
        self.anonymous = Client()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- helpers ----------------------------------------------------------------------------------

    def article(self, which: str, suits=None) -> Article:
        """Article "a" or "b" ("b" is "a" until an import created it), or with "ready" the first
        whose row and Release ``suits(article, release)`` (else "a")."""
        if which == "ready":
            for article in Article.objects.select_related("release").order_by("pk"):
                if suits is None or suits(article, article.release):
                    return article
            which = "a"
        article = Article.objects.filter(reference=REFERENCES[which]).first()
        return article or Article.objects.get(reference=REFERENCES["a"])

    def begin(self, action: str, actor: str | None, article: Article | None) -> dict:
        self.step = Step(action, actor, article.pk if article else None, last_audit_id())
        return snapshot()

    def attempt(self, before: dict, call):
        """Run ``call``; a refusal (WorkflowError) must have written nothing."""
        try:
            return call()
        except services.WorkflowError as refused:
            after = snapshot()
            assert after == before, (
                f"{self.step.action} was refused ({type(refused).__name__}: {refused.message}) but wrote: "
                + "; ".join(differences(before, after))
            )
            self.step.refused = True
            event(f"{self.step.action}: refused ({type(refused).__name__})")
            return refused

    def expect_written(self, before: dict, *, revisions: int, audit: int, action: str | None = None):
        after = snapshot()
        added_revisions = after["revisions"] - before["revisions"]
        added_audit = after["audit"] - before["audit"]
        self.audit_expected += audit
        event(f"{self.step.action}: " + ("done" if revisions or audit else "no change"))
        assert (added_revisions, added_audit) == (revisions, audit), (
            f"{self.step.action} added {added_revisions} revision(s) and {added_audit} audit event(s), "
            f"expected {revisions} and {audit}"
        )
        if action is not None and audit:
            last = AuditEvent.objects.order_by("-id").first()
            assert (last.action, last.user_name, last.article_id) == (
                action,
                self.step.actor or "",
                self.step.article_id,
            ), f"{self.step.action}: the audit event is {last.action} by {last.user_label!r}"
        if not revisions and not audit:
            assert after == before, f"{self.step.action} changed nothing but wrote: " + "; ".join(
                differences(before, after)
            )
        return after

    def base_version(self, article: Article | None) -> str:
        if article is None:
            return "1.5.4"
        release = services.release_of(article)
        current = release.live_revision or release.pending_revision
        return (current.version if current else "") or article.version or "1.5.4"

    # -- editors ----------------------------------------------------------------------------------

    @rule(which=articles_, editor=editors_, change=changes, base=edit_bases)
    def edit(self, which, editor, change, base):
        article = self.article(which)
        content = services.pending_content(article)
        working = services.working_revision(article)
        key, value = change
        if key == "checklist":
            items = list(content.get("checklist") or [])
            value = {
                "append": [*items, f"step {len(items) + 1}"],
                "drop_last": items[:-1],
                "replace": ["only one step"],
            }[value]
        elif key == "upload":
            images = [dict(image) for image in content.get("image_sources") or []]
            images[0].update(upload=f"uploads/fsm-{value}.png", width=40 * value, height=30 * value)
            key, value = "image_sources", images
        elif key == "caption":
            images = [
                {name: image.get(name) for name in ("source", "url", "caption")}
                for image in content.get("image_sources") or []
            ]
            images[0]["caption"] = value
            key, value = "image_sources", images
        elif key == "crlf":
            key, value = "body_text", (content.get("body_text") or "").replace("\n", "\r\n")
        elif key == "hostile":
            if value == "extra items":
                key, value = "extra", {**(content.get("extra") or {}), "items": ["one", "two"]}
            else:
                key, value = "title", f"bad{value[-1]}title"
        content = {**content, key: value}
        base_number = {
            "current": working.number if working else None,
            "none": None,
            "stale": working.number - 1 if working and working.number > 1 else None,
        }[base]
        before = self.begin("edit", editor, article)
        result = self.attempt(
            before,
            lambda: services.article_edit(
                article=article, user=self.users[editor], content=content, base_number=base_number
            ),
        )
        stale = base == "stale" and base_number is not None
        if isinstance(result, services.WorkflowError):
            if stale:
                assert isinstance(result, services.EditConflict), result.message
            else:
                assert change[0] == "hostile" and isinstance(result, services.InvalidContent), result.message
            return
        assert not stale, f"an edit from revision {base_number}, not the current {working.number}, was saved"
        assert change[0] != "hostile", f"an edit with {change[1]!r} was saved"
        if result is None:
            self.expect_written(before, revisions=0, audit=0)
            return
        assert change[0] != "crlf", "an edit that only turned line ends into CRLF made a revision"
        self.expect_written(before, revisions=1, audit=1, action="edit")
        assert result.kind == RevisionKind.EDIT and result.author_name == editor
        uploads = {
            image["url"]: image["upload"]
            for image in (working.content if working else {}).get("image_sources") or []
            if image.get("upload") and change[0] == "caption"  # sent without the uploads it keeps
        }
        for image in result.content.get("image_sources") or []:
            if image["url"] in uploads:
                assert image.get("upload") == uploads[image["url"]], (
                    f"an edit lost the upload of {image['url']}"
                )
        assert services.release_of(Article(pk=article.pk)).pending_revision_id == result.pk
        self.edits.add((article.reference, result.number))

    @rule(which=articles_, editor=editors_)
    def submit(self, which, editor):
        article = self.article(which, lambda a, r: r.review_state in ("draft", "changes_requested"))
        before = self.begin("submit", editor, article)
        result = self.attempt(
            before, lambda: services.article_submit(article=article, user=self.users[editor])
        )
        if not isinstance(result, services.WorkflowError):
            self.expect_written(before, revisions=0, audit=1, action="submit")

    # -- reviewers --------------------------------------------------------------------------------

    @rule(which=articles_, reviewer=reviewer_actors)
    def approve(self, which, reviewer):
        article = self.article(which, lambda a, r: r.review_state == "in_review")
        pending = services.release_of(article).pending_revision
        before = self.begin("approve", reviewer, article)
        result = self.attempt(
            before, lambda: services.article_approve(article=article, user=self.users[reviewer], note="ok")
        )
        if not isinstance(result, services.WorkflowError):
            self.expect_written(before, revisions=1, audit=1, action="approve")
            approved = Release.objects.select_related("pending_revision").get(article_id=article.pk)
            assert approved.pending_revision.base_number == pending.number, "approved something else"

    @rule(which=articles_, reviewer=reviewer_actors, note=notes)
    def request_changes(self, which, reviewer, note):
        article = self.article(which, lambda a, r: r.review_state == "in_review")
        before = self.begin("request_changes", reviewer, article)
        result = self.attempt(
            before,
            lambda: services.article_request_changes(article=article, user=self.users[reviewer], note=note),
        )
        if not isinstance(result, services.WorkflowError):
            self.expect_written(before, revisions=0, audit=1, action="request_changes")

    @rule(which=articles_, reviewer=reviewer_actors, bump=st.sampled_from(services.BUMPS), note=notes)
    def publish(self, which, reviewer, bump, note):
        article = self.article(
            which,
            lambda a, r: (
                r.review_state == "reviewed" or (a.state == "archived" and not r.pending_revision_id)
            ),
        )
        release = services.release_of(article)
        was_pending = release.pending_revision
        before = self.begin("publish", reviewer, article)
        result = self.attempt(
            before,
            lambda: services.article_publish(
                article=article, user=self.users[reviewer], note=note, bump=bump
            ),
        )
        if isinstance(result, services.WorkflowError):
            return
        self.expect_written(before, revisions=1, audit=1, action="publish")
        release = Release.objects.get(article_id=article.pk)
        assert release.live_revision_id == result.pk and release.pending_revision_id is None
        if was_pending is not None:
            assert result.base_number == was_pending.number, "publish did not publish the pending work"

    @rule(which=articles_, reviewer=reviewer_actors, data=st.data())
    def rollback(self, which, reviewer, data):
        article = self.article(
            which, lambda a, r: Revision.objects.filter(article=a, state=ArticleState.PUBLISHED).count() > 1
        )
        published = sorted(
            Revision.objects.filter(article=article, state=ArticleState.PUBLISHED).values_list(
                "number", flat=True
            )
        )
        others = sorted(
            Revision.objects.filter(article=article)
            .exclude(state=ArticleState.PUBLISHED)
            .values_list("number", flat=True)
        )
        # A revision that was never published (drawn as its negative number) is refused.
        choices = [st.sampled_from(published)] if published else []
        if others:
            choices.append(st.sampled_from(others).map(lambda n: -n))
        if not choices:
            return
        choices = st.one_of(choices)
        number = data.draw(choices, label="revision")
        target = abs(number)
        release = services.release_of(article)
        pending, conflict = release.pending_revision_id, release.conflict_revision_id
        before = self.begin("rollback", reviewer, article)
        result = self.attempt(
            before,
            lambda: services.article_rollback(
                article=article, user=self.users[reviewer], revision=target, note="roll back"
            ),
        )
        if isinstance(result, services.WorkflowError):
            assert isinstance(result, services.InvalidTransition | services.ActionForbidden), result.message
            return
        assert number > 0, f"rolled back to revision {target}, which was never published"
        self.expect_written(before, revisions=1, audit=1, action="rollback")
        release = Release.objects.get(article_id=article.pk)
        assert release.live_revision_id == result.pk and result.base_number == target
        assert (release.pending_revision_id, release.conflict_revision_id) == (pending, conflict), (
            "a rollback moved the pending work or the conflict"
        )
        source = Revision.objects.get(article=article, number=target).content
        strip = lambda content: {k: v for k, v in content.items() if k != "revision"}  # noqa: E731
        assert strip(result.content) == strip(source)

    @rule(which=articles_, reviewer=reviewer_actors, note=notes)
    def archive(self, which, reviewer, note):
        article = self.article(which, lambda a, r: a.state == "published")
        before = self.begin("archive", reviewer, article)
        result = self.attempt(
            before, lambda: services.article_archive(article=article, user=self.users[reviewer], note=note)
        )
        if not isinstance(result, services.WorkflowError):
            self.expect_written(before, revisions=0, audit=1, action="archive")

    @rule(which=articles_, reviewer=reviewer_actors, data=st.data())
    def resolve_conflict(self, which, reviewer, data):
        article = self.article(which, lambda a, r: r.conflict_revision_id is not None)
        fields = services.conflict_fields(article)
        choices = {}
        for name in fields:
            choice = data.draw(st.sampled_from((None, "pending", "import")), label=f"choice for {name}")
            if choice is not None:
                choices[name] = choice
        if fields and data.draw(st.sampled_from((False, False, False, True)), label="an unknown field too"):
            choices["no_such_field"] = "import"
        release = services.release_of(article)
        ours = release.pending_revision or release.live_revision
        theirs = release.conflict_revision
        state_before = release.review_state
        before = self.begin("resolve", reviewer, article)
        result = self.attempt(
            before,
            lambda: services.conflict_resolve(article=article, user=self.users[reviewer], choices=choices),
        )
        if isinstance(result, services.WorkflowError):
            return
        taken = [name for name, choice in choices.items() if choice == "import"]
        self.expect_written(before, revisions=1 if taken else 0, audit=1, action="resolve")
        release = Release.objects.get(article_id=article.pk)
        assert release.conflict_revision_id is None
        if taken:
            assert (result.base_number, result.merged_number) == (ours.number, theirs.number)
            assert release.pending_revision_id == result.pk
            for name in fields:
                expected = theirs.content.get(name) if name in taken else ours.content.get(name)
                # An image source that keeps its URL keeps its upload, whichever side it came from.
                assert without_uploads(result.content.get(name), name) == without_uploads(expected, name), (
                    f"resolve took the wrong {name}"
                )
        else:
            assert result is None and release.review_state == state_before

    # -- shared tags ------------------------------------------------------------------------------

    @rule(old=st.sampled_from(("pytest", "ruff", "pytest-ng")), new=st.sampled_from(("pytest-ng", "pytest")))
    def rename_tag(self, old, new):
        """An administrator renames a tool tag: a revision (and an audit event) for every live
        revision and every pending revision that carries it."""
        tag = Tag.objects.filter(kind=Tag.Kind.TOOL, name=old).first()
        if tag is None:
            return
        before = self.begin("rename_tag", "root", None)
        result = self.attempt(before, lambda: services.tag_rename(tag=tag, user=self.users["root"], name=new))
        if isinstance(result, services.WorkflowError):
            return
        after = snapshot()
        added = after["revisions"] - before["revisions"]
        assert after["audit"] - before["audit"] == added, (
            "a tag rename added audit events unlike its revisions"
        )
        assert result <= added <= 2 * result, f"a rename of {result} article(s) added {added} revisions"
        self.audit_expected += added
        event(f"rename_tag: {'done' if added else 'no change'}")
        for revision in Revision.objects.order_by("-id")[:added]:
            assert revision.kind == RevisionKind.RENAME and old not in revision.content["tools"]

    # -- the happy path ---------------------------------------------------------------------------

    @rule(which=articles_, bump=st.sampled_from(services.BUMPS))
    def advance(self, which, bump):
        """The next step of the workflow, done by whoever may do it: edit what is live, submit a
        draft, approve the work in review, publish the approved work or an archived article, or
        keep the editors' side of a conflict. (Random steps alone seldom get a change live.)"""
        article = self.article(which, lambda a, r: r.review_state or a.state == ArticleState.PUBLISHED)
        release = services.release_of(article)
        which = "a" if article.reference == REFERENCES["a"] else "b"
        if release.conflict_revision_id is not None:
            self.resolve_conflict(which, "rex", _KeepEverything())
        elif release.review_state in ("draft", "changes_requested"):
            self.submit(which, "eddie")
        elif release.review_state == "in_review":
            self.approve(which, "rex")
        elif release.review_state == "reviewed" or article.state == ArticleState.ARCHIVED:
            self.publish(which, "rex", bump, "release")
        else:
            number = Revision.objects.filter(article=article).count()
            self.edit(which, "eddie", ("summary", f"summary of change {number}"), "current")

    # -- the importer -----------------------------------------------------------------------------

    @rule(spec=document_specs, importer=st.sampled_from((None, None, "rita", "edith")))
    def import_(self, spec, importer):
        """A document for "a" or "b" by the operator (may publish), a reviewer (may publish) or
        an editor (may not: what they import waits for review)."""
        reference = REFERENCES[spec.reference]
        article = Article.objects.filter(reference=reference).first()
        again = spec.version == "identical" and reference in self.last_document
        data = self.document_for(spec)
        outcome = self._import(reference, article, data, document_version(data), importer)
        if again:
            assert outcome == "unchanged", f"importing the last imported document again: {outcome}"

    @rule(specs=st.lists(document_specs, min_size=2, max_size=3), importer=st.sampled_from((None, "edith")))
    def import_batch(self, specs, importer):
        """Several documents in one run (one batch; those with the same reference one after the
        other): the same rules, one revision and one audit event per document written."""
        datas = [self.document_for(spec) for spec in specs]
        sites = dict(Article.objects.values_list("reference", "site"))
        before = self.begin("import batch", importer, None)
        results = []
        import_documents(
            [Source(f"fsm-{n}.txt", data) for n, data in enumerate(datas)],
            user=self.users[importer] if importer else None,
            on_result=results.append,
        )
        end_of_import_transaction()
        after = snapshot()
        written = [result for result in results if result.outcome in ("created", "updated")]
        added = after["revisions"] - before["revisions"]
        assert added == after["audit"] - before["audit"] == len(written), (
            f"a batch of {len(results)} ({[r.outcome for r in results]}) added {added} revisions and "
            f"{after['audit'] - before['audit']} audit events"
        )
        self.audit_expected += added
        for spec, data, result in zip(specs, datas, results, strict=True):
            event(f"import batch: {result.outcome}")
            reference = REFERENCES[spec.reference]
            if reference in sites and sites[reference] != site_of(data):
                # Never an overwrite: refused, or (its text is the one stored last) nothing to do.
                assert result.outcome in ("failed", "unchanged"), (
                    f"another site's document was {result.outcome}"
                )
            if result.outcome in ("created", "updated"):
                self.last_document[reference] = data

    def document_for(self, spec: DocumentSpec) -> bytes:
        reference = REFERENCES[spec.reference]
        if spec.version == "identical" and reference in self.last_document:
            return self.last_document[reference]
        article = Article.objects.filter(reference=reference).first()
        base = self.base_version(article)
        version = {
            "same": base,
            "older": older(base),
            "patch": services.bump_version(base, "patch"),
            "minor": services.bump_version(base, "minor"),
            "major": services.bump_version(base, "major"),
            "sample": "1.5.4",
            "identical": "1.5.4",
            "none": "",
        }[spec.version]
        return document(
            reference=reference,
            version=version,
            site=spec.site,
            status=spec.status,
            needs_review=spec.needs_review,
            summary=spec.summary,
            difficulty=spec.difficulty,
            drop_tool=spec.drop_tool,
        )

    def _import(self, reference, article, data: bytes, version: str, importer) -> str:
        user = self.users[importer] if importer else None
        release = Release.objects.filter(article_id=article.pk).first() if article else None
        live = release.live_revision if release else None
        published_versions = set(
            Revision.objects.filter(article=article, state=ArticleState.PUBLISHED).values_list(
                "version", flat=True
            )
            if article
            else ()
        )
        site = site_of(data)
        before = self.begin("import", importer, article)
        result = import_document(data, path="fsm.txt", user=user)
        end_of_import_transaction()
        after = snapshot()
        added = after["revisions"] - before["revisions"]
        assert after["audit"] - before["audit"] == added, "an import added audit events unlike its revisions"
        self.audit_expected += added
        if result.outcome in ("created", "updated"):
            assert added == 1, f"an import ({result.outcome}) added {added} revisions"
            self.last_document[reference] = data
        else:
            assert after == before, f"an import ({result.outcome}) wrote: " + "; ".join(
                differences(before, after)
            )
        event(f"import: {result.outcome}")
        if article is None:
            assert result.outcome in ("created", "failed"), result
            if result.outcome == "created":
                self.step.article_id = result.article_id
            return result.outcome
        self.step.article_id = article.pk
        if site != article.site:
            # Never an overwrite: refused, or (its text is the one stored last) nothing to do.
            assert result.outcome in ("failed", "unchanged"), f"another site's document was {result.outcome}"
            return result.outcome
        assert result.outcome != "failed", result.errors
        if live is not None and _older(version, live.version):
            assert result.outcome in ("stale", "unchanged"), (
                f"version {version}, older than the live {live.version}, was {result.outcome}"
            )
        new_release = Release.objects.get(article_id=article.pk)
        if result.outcome == "updated":
            made = Revision.objects.filter(article=article).order_by("-number").first()
            assert made.kind == RevisionKind.IMPORT
            audit = AuditEvent.objects.order_by("-id").first()
            assert (audit.action, audit.revision_id, audit.user_name) == ("import", made.pk, importer or "")
            kind = (
                "conflict" if made.conflict else "live" if made.state == ArticleState.PUBLISHED else "pending"
            )
            event(f"import: updated ({kind})")
            if release.edited_at is not None:
                assert new_release.conflict_revision_id == made.pk and made.conflict, (
                    "an import while editors had pending work was not kept as a conflict"
                )
                assert new_release.pending_revision_id == release.pending_revision_id
            if new_release.live_revision_id != release.live_revision_id:
                assert new_release.live_revision_id == made.pk
                may_publish = user is None or user.has_perm("releases.publish_article")
                assert may_publish, f"an import by {importer}, who may not publish, went live"
                assert b"needs human review: 0" in data and b"status: reviewed" in data, (
                    "a document that needs review went live"
                )
                assert version not in published_versions, f"version {version} was published twice"
                assert release.edited_at is None, "an import went live over editors' pending work"
        return result.outcome

    # -- backups ----------------------------------------------------------------------------------

    @rule(into=st.sampled_from(("this database", "this database", "an emptied database")), data=st.data())
    def backup_and_restore(self, into, data):
        """Export a backup, then restore it (or an earlier one) into this same database: nothing
        changes, as a restore merges and this database is as new as any of its backups. Or
        delete every article with its history first: the backup brings each back as it was."""
        if into == "an emptied database":
            self._restore_into_an_emptied_database()
            return
        before = self.begin("export", None, None)
        out = io.StringIO()
        backup.export_backup(out)
        self.backups.append(out.getvalue())
        self.expect_written(before, revisions=0, audit=0)
        index = data.draw(st.sampled_from(range(len(self.backups) - 1, -1, -1)), label="backup")
        text = self.backups[index]
        latest = index == len(self.backups) - 1
        before = self.begin(
            f"restore of {'the backup just made' if latest else 'an earlier backup'}", None, None
        )
        report = backup.restore_backup(io.BytesIO(text.encode()).readlines(), path="fsm-backup.jsonl")
        assert not report.errors, report.errors
        counts = {outcome: count for outcome, count in report.counts.items() if count}
        assert set(counts) <= {"unchanged"}, (
            f"restoring backup {index} of {len(self.backups)} (of this very database) was not a no-op: "
            f"{counts}"
        )
        self.expect_written(before, revisions=0, audit=0)

    def _restore_into_an_emptied_database(self):
        self.begin("export", None, None)
        out = io.StringIO()
        articles = backup.export_backup(out)
        was = logical_state()
        for model in (ArticleTag, ArticleEntity, ImageSource, SimilarArticle, AuditEvent, Release, Revision):
            model.objects.all().delete()
        Article.objects.all().delete()
        self.begin("restore into an emptied database", None, None)
        report = backup.restore_backup(
            io.BytesIO(out.getvalue().encode()).readlines(), path="fsm-backup.jsonl"
        )
        assert not report.errors, report.errors
        counts = {outcome: count for outcome, count in report.counts.items() if count}
        assert counts == {"created": articles}, (
            f"restoring {articles} article(s) into an empty database: {counts}"
        )
        now = logical_state()
        for reference in was:
            lost = {key: (was[reference][key], now[reference][key]) for key in was[reference]}
            lost = {key: pair for key, pair in lost.items() if pair[0] != pair[1]}
            assert not lost, f"{reference} restored differently: {lost}"
        event("restore into an emptied database: done")

    # -- invariants -------------------------------------------------------------------------------

    def _articles(self):
        return list(content_prefetch(Article.objects.order_by("pk")))

    @invariant()
    def live_row_is_the_live_revision(self):
        for article in self._articles():
            release = Release.objects.select_related("live_revision", "pending_revision").get(
                article_id=article.pk
            )
            row = content_from_article(article)
            if release.live_revision is None:
                assert article.state not in (ArticleState.PUBLISHED, ArticleState.ARCHIVED), (
                    f"{article.reference} is {article.state} without a live revision"
                )
                if release.pending_revision is not None:
                    assert row == release.pending_revision.content, (
                        f"{article.reference} (never published): the row is not the pending revision "
                        f"r{release.pending_revision.number}: {_diff(row, release.pending_revision.content)}"
                    )
                continue
            if article.state in (ArticleState.PUBLISHED, ArticleState.ARCHIVED):
                assert row == release.live_revision.content, (
                    f"{article.reference} ({article.state}): the row is not the live revision "
                    f"r{release.live_revision.number}: {_diff(row, release.live_revision.content)}"
                )
            else:
                raise AssertionError(f"{article.reference} has a live revision but is {article.state}")

    @invariant()
    def revisions_never_change(self):
        rows = Revision.objects.values_list(
            "article__reference",
            "number",
            "content",
            "state",
            "version",
            "kind",
            "base_number",
            "merged_number",
        )
        seen = set()
        for reference, number, *rest in rows:
            key = (reference, number)
            seen.add(key)
            value = tuple(rest)
            if key in self.known:
                assert self.known[key] == value, f"revision {number} of {reference} changed"
            else:
                self.known[key] = value
        missing = set(self.known) - seen
        assert not missing, f"revisions disappeared: {sorted(missing)}"

    @invariant()
    def published_versions_are_unique(self):
        versions = Revision.objects.filter(state=ArticleState.PUBLISHED).values_list("article_id", "version")
        repeated = [key for key, count in Counter(versions).items() if count > 1]
        assert not repeated, f"published versions repeat: {repeated}"

    @invariant()
    def published_versions_only_grow(self):
        """Publishing, rolling back and renaming a tag bump the live version, and an import older
        than the live version is stale: each published revision's version is greater than every
        earlier one of its article (only an article's first may have none)."""
        published = Revision.objects.filter(state=ArticleState.PUBLISHED).order_by("article_id", "number")
        history: dict[int, list[tuple[int, str]]] = {}
        for article_id, number, version in published.values_list("article_id", "number", "version"):
            history.setdefault(article_id, []).append((number, version))
        for revisions in history.values():
            for (_, earlier), (number, version) in zip(revisions, revisions[1:], strict=False):
                key, earlier_key = version_key(version), version_key(earlier)
                assert key is not None and (earlier_key is None or key > earlier_key), (
                    f"published revision r{number} has version {version!r}, after {earlier!r}: "
                    f"published versions {[v for _, v in revisions]}"
                )

    @invariant()
    def editors_work_is_never_lost(self):
        """An editor's edit is *held* while it is the pending revision or an ancestor of it, or an
        ancestor of a published revision (through base_number and merged_number). An edit may
        stop being held only by being *superseded*: in a step that is a reviewer's decision about
        content (a publish or a conflict resolution, ``SUPERSEDING``) which the audit trail
        records as that reviewer's, on that article. Nothing else may drop one: not an import, a
        rollback, an approval, a request for changes, an archive, a tag rename or a restore."""
        held = set()
        for release in Release.objects.select_related("article"):
            revisions = {r.number: r for r in Revision.objects.filter(article_id=release.article_id)}
            pending = next(
                (r.number for r in revisions.values() if r.pk == release.pending_revision_id), None
            )
            published = [r.number for r in revisions.values() if r.state == ArticleState.PUBLISHED]
            keep = closure(revisions, [pending, *published])
            held |= {(release.article.reference, number) for number in keep}
        for edit in sorted(self.edits):
            if edit in held or edit in self.superseded:
                continue
            step = self.step
            events = list(AuditEvent.objects.filter(pk__gt=step.last_audit_id, article__reference=edit[0]))
            decisions = [
                e
                for e in events
                if e.action in SUPERSEDING and e.user_name == step.actor and step.actor in REVIEWERS
            ]
            assert edit in self.held and decisions and not step.refused, (
                f"the edit r{edit[1]} of {edit[0]} left the pending chain without being "
                f"published, in step {step.action} by {step.actor or 'the importer'} "
                f"(audit events of the step: {[(e.action, e.user_label) for e in events]})"
            )
            self.superseded[edit] = f"{decisions[0].action} by {decisions[0].user_name}"
        self.held = held & self.edits

    @invariant()
    def anonymous_clients_read_the_live_revision(self):
        for article in Article.objects.order_by("pk"):
            release = Release.objects.select_related("live_revision").get(article_id=article.pk)
            response = self.anonymous.get(f"/api/articles/{article.slug}/")
            if release.live_revision is None or article.state != ArticleState.PUBLISHED:
                assert response.status_code == 404, (
                    f"anonymous read of {article.reference} ({article.state}, live "
                    f"r{release.live_revision_id}) answered {response.status_code}"
                )
                continue
            assert response.status_code == 200, response.status_code
            data, live = response.json(), release.live_revision.content
            shown = {key: data.get(key) for key in ("summary", "difficulty", "checklist", "revision")}
            expected = {key: live.get(key) for key in ("summary", "difficulty", "checklist", "revision")}
            assert shown == expected, f"anonymous clients read {shown}, the live revision is {expected}"

    @invariant()
    def one_audit_event_per_action(self):
        """Each rule checks its own step (``expect_written``); here, the whole trail: as many
        events as successful actions called for, each naming a revision of its own article."""
        assert AuditEvent.objects.count() == self.audit_expected, (
            f"{AuditEvent.objects.count()} audit events, {self.audit_expected} expected"
        )
        stray = AuditEvent.objects.filter(revision__isnull=False).exclude(
            revision__article_id=F("article_id")
        )
        assert not stray.exists(), "an audit event names another article's revision"


# What the steps did, over the whole run: printed at the end (pytest -s shows it).
STATISTICS: Counter = Counter()


def event(name: str) -> None:
    STATISTICS[name] += 1
    with contextlib.suppress(InvalidArgument):  # a step replayed by hand, outside hypothesis
        hypothesis_event(name)


class _KeepEverything:
    """Stands in for ``st.data()``: resolve a conflict keeping every pending value."""

    def draw(self, strategy, label=None):
        return None if "choice" in (label or "") else False


def end_of_import_transaction() -> None:
    """Undo what the importer sets for its own transaction only (``articles.bulk``: sequential
    scans off, on PostgreSQL). Here that transaction is a savepoint of the example's, so the
    setting would outlive the import and make every later query of the example cost 10^10 and be
    JIT-compiled: tens of milliseconds for a one-row table."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan TO ON")


def last_audit_id() -> int:
    return AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0


def site_of(data: bytes) -> str:
    return OTHER_SITE if f"{OTHER_SITE} post meta".encode() in data else SITE


def document_version(data: bytes) -> str:
    for line in data.decode().splitlines():
        if line.strip().startswith("\u2022 version: "):
            return line.split("version: ", 1)[1].strip()
    return ""


def _older(version: str, than: str) -> bool:
    new, old = version_key(version), version_key(than)
    return new is not None and old is not None and new < old


def _diff(a: dict, b: dict) -> dict:
    return {key: (a.get(key), b.get(key)) for key in dict.fromkeys([*a, *b]) if a.get(key) != b.get(key)}


def test_workflow_state_machine(db):
    STATISTICS.clear()
    try:
        run_state_machine_as_test(WorkflowMachine, settings=FSM_SETTINGS)
    finally:
        print("\nsteps of the workflow state machine:")
        for name, count in sorted(STATISTICS.items()):
            print(f"  {count:6}  {name}")


def test_version_helpers():
    assert older("1.5.4") == "1.5.3" and older("1.6.0") == "1.5.9" and older("2.0.0") == "1.9.9"
    assert document_version(document(reference=REFERENCES["b"], version="2.0.1")) == "2.0.1"
    assert content_version({"revision": {"version": "1.0.0"}}) == "1.0.0"

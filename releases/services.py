"""The action layer: every write to an article's content and workflow goes through here.

The admin (form, buttons, bulk actions), the API, the importer and the tag admin all call these
actions, so each rule lives here once. Each action *checks* (permission, then state, then input)
before it *executes* (lock the article, add a revision, move the pointers of its
``releases.models.Release``, project the live revision onto the article row, write one audit
event, refresh similar posts after commit).

The pointers are the one source of truth: ``live_revision`` is what readers see, and the article
row is its projection; ``pending_revision`` is the work waiting for review. Edits, imports and
conflict resolutions move ``pending_revision``; publishing moves ``live_revision`` to it and
clears it; a rollback moves ``live_revision`` only. Nothing finds "live" or "pending" by scanning
revisions.

The importer decides what each incoming document means with ``decide_import``, one function over
plain values, the same for one document and for a batch; its bulk writer applies the decision.
"""

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from articles import similarity
from articles.changes import articles_changed
from articles.content import (
    clean_content,
    content_from_article,
    content_prefetch,
    content_version,
    version_key,
)
from articles.models import Article, ArticleState, Entity, Tag
from articles.parsing import VERSION_PART_MAX
from articles.writing import article_apply_content, tag_slug
from releases.compare import LABELS as FIELD_LABELS
from releases.errors import (
    ActionForbidden,
    EditConflict,
    InvalidContent,
    InvalidTransition,
    NoteRequired,
    WorkflowError,
)
from releases.models import (
    AuditAction,
    AuditEvent,
    Release,
    ReviewComment,
    ReviewState,
    Revision,
    RevisionKind,
    Schedule,
    ScheduledAction,
    ScheduleState,
)

BUMPS = ("patch", "minor", "major")


# -- reads that the rules need ----------------------------------------------------------------


def release_of(article: Article) -> Release:
    """The article's revision pointers (every article has one row, made with it)."""
    cached = getattr(article, "_release_cache", None)
    if cached is not None:
        return cached
    return Release.objects.select_related("live_revision", "pending_revision", "conflict_revision").get(
        article_id=article.pk
    )


def review_state(article: Article) -> str:
    """The state a reviewer works with: of the pending work if any, else of the article."""
    return release_of(article).review_state or article.state


def bump_version(version: str | None, level: str = "patch") -> str:
    """1.5.4 -> 1.5.5 (patch), 1.6.0 (minor), 2.0.0 (major); no version yet -> 1.0.0.

    A part never grows past VERSION_PART_MAX: such a bump is refused (InvalidTransition), never
    wrapped around or written as a version nothing could read back.
    """
    if level not in BUMPS:
        raise InvalidTransition(f"bump must be one of {', '.join(BUMPS)}, not {level!r}")
    key = version_key(version)
    if key is None:
        return "1.0.0"
    major, minor, patch = key
    if level == "major":
        bumped = f"{major + 1}.0.0"
    elif level == "minor":
        bumped = f"{major}.{minor + 1}.0"
    else:
        bumped = f"{major}.{minor}.{patch + 1}"
    if version_key(bumped) is None:  # a part would pass the largest a version can hold
        raise InvalidTransition(
            f"Version {version} cannot be bumped ({level}): its {level} part would pass "
            f"{VERSION_PART_MAX:,}, the largest a version part can be."
        )
    return bumped


def latest_revision(article: Article) -> Revision | None:
    return Revision.objects.filter(article=article).order_by("-number").first()


def live_revision(article: Article) -> Revision | None:
    """The revision readers see (or saw last, for an archived article)."""
    return release_of(article).live_revision


def pending_revision(article: Article) -> Revision | None:
    return release_of(article).pending_revision


def working_revision(article: Article) -> Revision | None:
    """What an editor continues from: the pending work, or else the live revision."""
    release = release_of(article)
    return release.pending_revision or release.live_revision


def pending_content(article: Article) -> dict[str, Any]:
    """The content an editor or reviewer works on: the pending work's, else the live one's."""
    revision = working_revision(article)
    if revision is not None:
        return revision.content
    return content_from_article(content_prefetch(Article.objects.filter(pk=article.pk)).get())


def published_revision(
    article: Article, *, number: int | None = None, version: str | None = None
) -> Revision:
    """A revision that went live, by its number or by a version that names exactly one."""
    published = Revision.objects.filter(article=article, state=ArticleState.PUBLISHED)
    if number is not None:
        revision = published.filter(number=number).first()
        if revision is None:
            raise InvalidTransition(f"Revision {number} was never published for this article.")
        return revision
    matches = list(published.filter(version=version or "").order_by("-number")[:2])
    if not matches:
        raise InvalidTransition(f"Version {version} was never published for this article.")
    if len(matches) > 1:
        raise InvalidTransition(
            f"Several published revisions carry version {version}: name the revision number "
            f"({', '.join(str(r.number) for r in matches)})."
        )
    return matches[0]


# -- which action applies: one rule per action, for the actions and for every page that offers them


@dataclass(frozen=True)
class ActionRule:
    """Who may take an action (a permission, and what the refusal says they may not do) and in
    which states (``blocker`` says in words why the action does not apply now, or "")."""

    label: str
    permission: str | tuple[str, ...]  # any of them
    forbidden: str
    blocker: Any
    note_required: bool = False


@dataclass(frozen=True)
class Availability:
    """Whether ``user`` can take ``action`` on an article now, and if not, why, in words."""

    action: str
    label: str
    allowed: bool
    reason: str = ""
    role_allows: bool = True


def _state_label(article: Article, release: Release) -> str:
    if release.review_state:
        return ReviewState(release.review_state).label.lower()
    return ArticleState(article.state).label.lower()


def _submit_blocker(article: Article, release: Release) -> str:
    if release.pending_revision_id is not None and release.review_state in (
        ReviewState.DRAFT,
        ReviewState.CHANGES_REQUESTED,
    ):
        return ""
    if release.pending_revision_id is None:
        return "Nothing is pending: edit the article to make a draft first."
    return f"Only a draft can be submitted for review; this article is {_state_label(article, release)}."


def _in_review_blocker(what: str):
    def blocker(article: Article, release: Release) -> str:
        if release.review_state == ReviewState.IN_REVIEW:
            return ""
        return f"{what} only for an article in review; this article is {_state_label(article, release)}."

    return blocker


def _publish_blocker(article: Article, release: Release) -> str:
    if release.conflict_revision_id is not None:
        number = release.conflict_revision.number if release.conflict_revision else "?"
        return (
            f"An import (revision {number}) conflicts with the pending changes: "
            "resolve the conflict before publishing."
        )
    if release.review_state == ReviewState.REVIEWED:
        return ""
    if article.state == ArticleState.ARCHIVED and release.pending_revision_id is None:
        return ""
    if release.pending_revision_id is None:
        return "Nothing is approved to publish: there are no pending changes."
    return f"Only approved changes can be published; this article is {_state_label(article, release)}."


def _rollback_blocker(article: Article, release: Release) -> str:
    others = Revision.objects.filter(article=article, state=ArticleState.PUBLISHED)
    if article.state == ArticleState.PUBLISHED and release.live_revision_id is not None:
        others = others.exclude(pk=release.live_revision_id)
    if others.exists():
        return ""
    return "No earlier published version to restore."


def _archive_blocker(article: Article, release: Release) -> str:
    if article.state == ArticleState.PUBLISHED:
        return ""
    return f"Only a published article can be archived; this article is {_state_label(article, release)}."


def _comment_blocker(article: Article, release: Release) -> str:
    if release.pending_revision_id is not None:
        return ""
    return "Comments are on pending changes, and nothing is pending."


def _request_review_blocker(article: Article, release: Release) -> str:
    if article.state != ArticleState.PUBLISHED:
        label = _state_label(article, release)
        return f"Only a live article can be sent back to review; this article is {label}."
    if release.pending_revision_id is not None or release.conflict_revision_id is not None:
        return "It has pending changes already: they are in the review queue."
    return ""


def _resolve_blocker(article: Article, release: Release) -> str:
    if release.conflict_revision_id is not None:
        return ""
    return "This article has no import conflict to resolve."


RULES: dict[str, ActionRule] = {
    "submit": ActionRule(
        "Submit for review", "releases.submit_article", "submit articles for review", _submit_blocker
    ),
    "approve": ActionRule(
        "Approve", "releases.review_article", "approve articles", _in_review_blocker("Approval is")
    ),
    "request_changes": ActionRule(
        "Request changes",
        "releases.review_article",
        "request changes",
        _in_review_blocker("Changes can be requested"),
        note_required=True,
    ),
    "resolve": ActionRule(
        "Resolve the conflict", "releases.review_article", "resolve conflicts", _resolve_blocker
    ),
    "request_review": ActionRule(
        "Send back to review",
        "releases.review_article",
        "send articles back to review",
        _request_review_blocker,
        note_required=True,
    ),
    "comment": ActionRule(
        "Comment",
        ("releases.submit_article", "releases.review_article"),
        "comment on reviews",
        _comment_blocker,
        note_required=True,
    ),
    "publish": ActionRule(
        "Publish", "releases.publish_article", "publish articles", _publish_blocker, note_required=True
    ),
    "rollback": ActionRule(
        "Roll back", "releases.publish_article", "roll back articles", _rollback_blocker, note_required=True
    ),
    "archive": ActionRule(
        "Archive", "releases.publish_article", "archive articles", _archive_blocker, note_required=True
    ),
}


def _may(user, action: str) -> bool:
    permission = RULES[action].permission
    permissions = (permission,) if isinstance(permission, str) else permission
    return user is not None and user.is_active and any(user.has_perm(name) for name in permissions)


def _require_rule(user, action: str) -> None:
    if not _may(user, action):
        raise ActionForbidden(f"You are not allowed to {RULES[action].forbidden}.")


def _require_state(action: str, article: Article, release: Release) -> None:
    reason = RULES[action].blocker(article, release)
    if reason:
        raise InvalidTransition(reason)


def may(user, action: str) -> bool:
    """Whether ``user``'s role allows ``action`` at all, whatever the article's state."""
    return _may(user, action)


def publish_versions(article: Article) -> dict[str, str | None]:
    """The version publishing would give the article, for each bump (None: it would overflow)."""
    release = release_of(article)
    live, pending = release.live_revision, release.pending_revision
    source = pending or live
    base = live.version if live is not None else (content_version(source.content) if source else None)
    versions = {}
    for bump in BUMPS:
        try:
            versions[bump] = _next_published_version(article, base, bump)
        except WorkflowError:
            versions[bump] = None
    return versions


def action_availability(article: Article, user) -> list[Availability]:
    """Every workflow action, in order, with whether ``user`` can take it on ``article`` now and
    why not: the same rules the actions check, for pages to offer only what applies."""
    release = release_of(article)
    result = []
    for action, rule in RULES.items():
        role_allows = _may(user, action)
        reason = (
            rule.blocker(article, release) if role_allows else f"You are not allowed to {rule.forbidden}."
        )
        result.append(Availability(action, rule.label, not reason, reason, role_allows))
    return result


# -- helpers ------------------------------------------------------------------------------------


def _require(user, permission: str, action: str) -> None:
    if user is None or not user.is_active or not user.has_perm(permission):
        raise ActionForbidden(f"You are not allowed to {action}.")


def _note_for(action: str, note: str | None) -> str:
    """The note, stripped; refused when empty for an action whose rule requires one."""
    note = (note or "").strip()
    if not note and RULES[action].note_required:
        raise NoteRequired(f"A note is required to {RULES[action].label.lower()}.")
    return note


def _locked(article: Article) -> tuple[Article, Release]:
    """The article row, locked until the transaction ends so concurrent actions queue up, and
    its pointers."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    release = Release.objects.select_related("live_revision", "pending_revision", "conflict_revision").get(
        article_id=article.pk
    )
    article._release_cache = release
    return article, release


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def _add_revision(
    article: Article, *, kind, state, content, user, note="", base=None, merged=None, conflict=False
):
    number = (Revision.objects.filter(article=article).aggregate(n=Max("number"))["n"] or 0) + 1
    return Revision.objects.create(
        article=article,
        number=number,
        kind=kind,
        state=state,
        version=content_version(content) or "",
        content=content,
        base_number=base.number if base is not None else None,
        merged_number=merged.number if merged is not None else None,
        conflict=conflict,
        author=user,
        author_name=_username(user),
        note=note,
    )


def _audit(article, action, *, user, from_state, to_state, note="", revision=None) -> AuditEvent:
    return AuditEvent.objects.create(
        article=article,
        revision=revision,
        action=action,
        user=user,
        user_name=_username(user),
        from_state=from_state or "",
        to_state=to_state or "",
        note=note,
    )


def _with_revision_block(content: dict, **changes) -> dict:
    content = {**content, "revision": {**(content.get("revision") or {}), **changes}}
    content["revision"].setdefault("status", None)
    content["revision"].setdefault("version", None)
    content["revision"].setdefault("last_reviewed", None)
    return content


def _make_pending(
    article: Article, release: Release, revision: Revision, state: str, *, edited: bool
) -> None:
    """Point the pending work at ``revision`` in ``state``; ``edited``: by editors' hands."""
    release.pending_revision = revision
    release.review_state = state
    if edited:
        release.edited_at = timezone.now()
    release.save()
    _project_pending(article, release)


def _project_pending(article: Article, release: Release) -> None:
    """A never-published article's row shows its pending content (staff only see it)."""
    if release.live_revision_id is None and release.pending_revision is not None:
        article_apply_content(article, release.pending_revision.content)
        articles_changed([article.pk], live=False)
        article.state = release.review_state
        article.save(update_fields=["state", "updated_at"])


def _go_live(article: Article, release: Release, revision: Revision) -> None:
    """Make ``revision`` what readers see: the pointer moves, the row follows."""
    release.live_revision = revision
    release.save()
    article_apply_content(article, revision.content)
    article.state = ArticleState.PUBLISHED
    if article.published_at is None:
        article.published_at = timezone.now()
    article.save(update_fields=["state", "published_at", "updated_at"])
    articles_changed([article.pk], live=True)
    _refresh_similar(article)


def _refresh_similar(article: Article) -> None:
    """Similar posts follow what readers see: refreshed once the change is committed."""
    transaction.on_commit(lambda: similarity.refresh([article.pk]))


def _next_published_version(article: Article, base: str | None, bump: str) -> str:
    """The next version after ``base``, unique among the article's published revisions."""
    version = bump_version(base, bump)
    taken = set(
        Revision.objects.filter(article=article, state=ArticleState.PUBLISHED).values_list(
            "version", flat=True
        )
    )
    while version in taken:
        version = bump_version(version, "patch")
    return version


def carry_uploads(content: dict, base: dict | None) -> dict:
    """Uploaded image files belong to the revision: an image source that keeps its URL keeps its
    upload, whatever else changed (caption, source, position)."""
    if not base:
        return content
    uploads = {
        image["url"]: {key: image[key] for key in ("upload", "width", "height") if key in image}
        for image in base.get("image_sources") or []
        if image.get("upload")
    }
    if not uploads:
        return content
    images = []
    for image in content.get("image_sources") or []:
        if not image.get("upload") and image.get("url") in uploads:
            image = {**image, **uploads[image["url"]]}
        images.append(image)
    return {**content, "image_sources": images}


def validated_content(content: dict[str, Any], *, base: dict | None = None) -> dict[str, Any]:
    """The one content check of every edit path: normalised, or InvalidContent naming each field."""
    cleaned, problems = clean_content(content)
    if problems:
        raise InvalidContent("Some fields are not valid.", [problem.as_dict() for problem in problems])
    cleaned = carry_uploads(cleaned, base)
    if base is not None and cleaned.get("body_text") == base.get("body_text"):
        # The blocks are derived from the text: an unchanged text keeps the blocks it had.
        cleaned["body"] = base.get("body") or []
    return cleaned


# -- workflow actions -----------------------------------------------------------------------------


@transaction.atomic
def article_edit(
    *, article: Article, user, content: dict[str, Any], base_number: int | None = None, note: str = ""
) -> Revision | None:
    """Save an editor's changes as the pending revision; live content stays as it is.

    ``base_number`` is the revision the editor started from: if the work moved on since (a newer
    pending revision, or a new live one when nothing was pending), the edit is refused with a
    conflict and nothing is written. Without it, the edit applies to the current work. An edit
    that changes nothing writes nothing and returns None.
    """
    _require(user, "articles.change_article", "edit articles")
    article, release = _locked(article)
    base = release.pending_revision or release.live_revision
    base_content = base.content if base is not None else None
    if base_number is not None and base is not None and base_number != base.number:
        raise EditConflict(
            f"Revision {base.number} was saved by {base.author_label} after revision {base_number}, which "
            "your changes start from. Reload the article and apply your changes again."
        )
    if content.get("reference") != article.reference:
        raise InvalidContent("The reference identifies the article and cannot change.", [])
    if content.get("site") != article.site:
        raise InvalidContent("The site of an article cannot change.", [])
    content = validated_content(content, base=base_content)
    if base_content is not None and content == base_content:
        return None
    before = review_state(article)
    revision = _add_revision(
        article,
        kind=RevisionKind.EDIT,
        state=ArticleState.DRAFT,
        content=content,
        user=user,
        note=note,
        base=base,
    )
    _make_pending(article, release, revision, ReviewState.DRAFT, edited=True)
    _audit(
        article,
        AuditAction.EDIT,
        user=user,
        from_state=before,
        to_state=ArticleState.DRAFT,
        note=note,
        revision=revision,
    )
    return revision


def _move_review_state(article, release, *, to: str) -> None:
    release.review_state = to
    release.save(update_fields=["review_state"])
    if release.live_revision_id is None:
        article.state = to
        article.save(update_fields=["state", "updated_at"])
        articles_changed([article.pk], live=False)  # never published: readers see nothing of it


@transaction.atomic
def article_submit(*, article: Article, user, note: str = "") -> Article:
    """Send the pending work to review."""
    _require_rule(user, "submit")
    article, release = _locked(article)
    before = release.review_state
    _require_state("submit", article, release)
    _move_review_state(article, release, to=ReviewState.IN_REVIEW)
    _audit(
        article, AuditAction.SUBMIT, user=user, from_state=before, to_state=ReviewState.IN_REVIEW, note=note
    )
    return article


@transaction.atomic
def article_approve(*, article: Article, user, note: str = "") -> Article:
    """Approve the work in review: stamps 'last reviewed' and clears 'needs human review'."""
    _require_rule(user, "approve")
    article, release = _locked(article)
    before = release.review_state
    _require_state("approve", article, release)
    pending = release.pending_revision
    content = _with_revision_block(
        pending.content, status="reviewed", last_reviewed=dt.date.today().isoformat()
    )
    if content.get("flags") is not None:
        content["flags"] = {**content["flags"], "needs_human_review": False}
    revision = _add_revision(
        article,
        kind=RevisionKind.REVIEW,
        state=ArticleState.REVIEWED,
        content=content,
        user=user,
        note=note,
        base=pending,
    )
    _make_pending(article, release, revision, ReviewState.REVIEWED, edited=False)
    _audit(
        article,
        AuditAction.APPROVE,
        user=user,
        from_state=before,
        to_state=ReviewState.REVIEWED,
        note=note,
        revision=revision,
    )
    return article


@transaction.atomic
def article_request_changes(*, article: Article, user, note: str) -> Article:
    """Send the work in review back to the editors, saying what to change."""
    _require_rule(user, "request_changes")
    note = _note_for("request_changes", note)
    article, release = _locked(article)
    before = release.review_state
    _require_state("request_changes", article, release)
    comments = open_comments(article)
    if comments:
        listed = "\n".join(f"- {comment_label(comment)}" for comment in comments)
        note = f"{note}\n\nOpen comments:\n{listed}"
    _move_review_state(article, release, to=ReviewState.CHANGES_REQUESTED)
    _audit(
        article,
        AuditAction.REQUEST_CHANGES,
        user=user,
        from_state=before,
        to_state=ReviewState.CHANGES_REQUESTED,
        note=note,
    )
    return article


@transaction.atomic
def article_publish(*, article: Article, user, note: str, bump: str = "patch") -> Revision:
    """Make the approved work live with the next version (of the live one, bumped by ``bump``).

    An archived article with nothing pending is published again as it was.
    """
    _require_rule(user, "publish")
    note = _note_for("publish", note)
    if bump not in BUMPS:
        raise InvalidContent(f"bump must be one of {', '.join(BUMPS)}.", [])
    article, release = _locked(article)
    before = release.review_state or article.state
    live, pending = release.live_revision, release.pending_revision
    _require_state("publish", article, release)
    republish = release.review_state != ReviewState.REVIEWED
    source = live if republish else pending
    base_version = live.version if live is not None else content_version(source.content)
    content = _with_revision_block(
        source.content, version=_next_published_version(article, base_version, bump)
    )
    revision = _add_revision(
        article,
        kind=RevisionKind.PUBLISH,
        state=ArticleState.PUBLISHED,
        content=content,
        user=user,
        note=note,
        base=source,
    )
    release.pending_revision = None
    release.review_state = ""
    release.edited_at = None
    _go_live(article, release, revision)
    _audit(
        article,
        AuditAction.PUBLISH,
        user=user,
        from_state=before,
        to_state=ArticleState.PUBLISHED,
        note=note,
        revision=revision,
    )
    return revision


@transaction.atomic
def article_rollback(
    *, article: Article, user, note: str, revision: int | None = None, version: str | None = None
) -> Revision:
    """Restore an earlier published revision (by number, or by a version only it carries): its
    content goes live again as a new revision with the next patch version. Only the live pointer
    moves: pending work stays pending, and stays in the queue."""
    _require_rule(user, "rollback")
    note = _note_for("rollback", note)
    if revision is None and not version:
        raise InvalidContent("Name the revision (or the version) to roll back to.", [])
    article, release = _locked(article)
    _require_state("rollback", article, release)
    target = published_revision(article, number=revision, version=version)
    live = release.live_revision
    if live is not None and live.number == target.number and article.state == ArticleState.PUBLISHED:
        raise InvalidTransition(f"Revision {target.number} (version {target.version}) is live already.")
    before = article.state
    base_version = live.version if live is not None else target.version
    content = _with_revision_block(
        target.content, version=_next_published_version(article, base_version, "patch")
    )
    made = _add_revision(
        article,
        kind=RevisionKind.ROLLBACK,
        state=ArticleState.PUBLISHED,
        content=content,
        user=user,
        note=note,
        base=target,
    )
    _go_live(article, release, made)
    _audit(
        article,
        AuditAction.ROLLBACK,
        user=user,
        from_state=before,
        to_state=ArticleState.PUBLISHED,
        note=note,
        revision=made,
    )
    return made


@transaction.atomic
def article_archive(*, article: Article, user, note: str) -> Article:
    """Take a live article down. It is kept, and comes back by publishing again."""
    _require_rule(user, "archive")
    note = _note_for("archive", note)
    article, release = _locked(article)
    _require_state("archive", article, release)
    article.state = ArticleState.ARCHIVED
    article.save(update_fields=["state", "updated_at"])
    articles_changed([article.pk], live=True)  # it was live: its pages and the lists go
    _refresh_similar(article)
    _audit(
        article,
        AuditAction.ARCHIVE,
        user=user,
        from_state=ArticleState.PUBLISHED,
        to_state=ArticleState.ARCHIVED,
        note=note,
    )
    return article


# -- conflicts ------------------------------------------------------------------------------------

KEEP, TAKE = "pending", "import"


def conflict_fields(article: Article) -> list[str]:
    """The content keys in which the open conflict's import differs from the pending work."""
    release = release_of(article)
    if release.conflict_revision is None:
        return []
    ours = (release.pending_revision or release.live_revision).content
    theirs = release.conflict_revision.content
    return [key for key in dict.fromkeys([*ours, *theirs]) if ours.get(key) != theirs.get(key)]


@transaction.atomic
def conflict_resolve(*, article: Article, user, choices: dict[str, str], note: str = "") -> Revision | None:
    """Resolve an import conflict field by field: for each differing field, keep the pending
    work's value (``"pending"``) or take the import's (``"import"``). The result becomes the
    pending revision, in review, recording both parents; keeping everything writes no revision,
    and the decision is in the audit trail either way."""
    _require_rule(user, "resolve")
    article, release = _locked(article)
    _require_state("resolve", article, release)
    theirs = release.conflict_revision
    fields = conflict_fields(article)
    unknown = sorted(set(choices) - set(fields))
    if unknown:
        raise InvalidContent(f"No conflict in {', '.join(unknown)}.", [])
    bad = sorted(key for key, choice in choices.items() if choice not in (KEEP, TAKE))
    if bad:
        raise InvalidContent(f"Choose '{KEEP}' or '{TAKE}' for {', '.join(bad)}.", [])
    ours = release.pending_revision or release.live_revision
    merged = {**ours.content}
    for key in fields:
        if choices.get(key, KEEP) == TAKE:
            merged[key] = theirs.content.get(key)
    taken = [key for key in fields if choices.get(key, KEEP) == TAKE]
    note = note or (f"took the import's {', '.join(taken)}" if taken else "kept the pending changes")
    before = release.review_state
    made = None
    if taken:
        merged = validated_content(merged, base=ours.content)
        made = _add_revision(
            article,
            kind=RevisionKind.RESOLVE,
            state=ReviewState.IN_REVIEW,
            content=merged,
            user=user,
            note=note,
            base=ours,
            merged=theirs,
        )
    release.conflict_revision = None
    if made is not None:
        _make_pending(article, release, made, ReviewState.IN_REVIEW, edited=True)
    else:
        release.save()
    _audit(
        article,
        AuditAction.RESOLVE,
        user=user,
        from_state=before,
        to_state=release.review_state,
        note=note,
        revision=made or theirs,
    )
    return made


# -- comments on a review ---------------------------------------------------------------------------


def open_comments(article: Article) -> list[ReviewComment]:
    """The article's unresolved review comments, oldest first."""
    return list(
        ReviewComment.objects.filter(article=article, resolved_at__isnull=True)
        .select_related("revision")
        .order_by("created_at", "id")
    )


def comment_label(comment: ReviewComment) -> str:
    where = f"on {comment.field_label}, " if comment.field else ""
    return f"{comment.author_name} ({where}revision {comment.revision.number}): {comment.body}"


@transaction.atomic
def comment_add(*, article: Article, user, body: str, field: str = "") -> ReviewComment:
    """Comment on the pending work, optionally on one field; it stays open until resolved."""
    _require_rule(user, "comment")
    body = _note_for("comment", body)
    field = (field or "").strip()
    if field and field not in FIELD_LABELS:
        raise InvalidContent(f"No field {field!r} to comment on.", [])
    article, release = _locked(article)
    _require_state("comment", article, release)
    comment = ReviewComment.objects.create(
        article=article,
        revision=release.pending_revision,
        field=field,
        body=body,
        author=user,
        author_name=_username(user),
    )
    state = release.review_state
    _audit(
        article, AuditAction.COMMENT, user=user, from_state=state, to_state=state, note=comment_label(comment)
    )
    return comment


@transaction.atomic
def comment_resolve(*, comment: ReviewComment, user) -> ReviewComment:
    """Mark a comment as dealt with; it stays in the history."""
    _require_rule(user, "comment")
    article, release = _locked(comment.article)
    comment = ReviewComment.objects.select_for_update().select_related("revision").get(pk=comment.pk)
    if comment.resolved_at is not None:
        raise InvalidTransition(f"{comment.resolved_by_name or 'Someone'} resolved this comment already.")
    comment.resolved_at = timezone.now()
    comment.resolved_by = user
    comment.resolved_by_name = _username(user)
    comment.save(update_fields=["resolved_at", "resolved_by", "resolved_by_name"])
    state = release.review_state
    _audit(
        article,
        AuditAction.RESOLVE_COMMENT,
        user=user,
        from_state=state,
        to_state=state,
        note=comment_label(comment),
    )
    return comment


# -- review due -------------------------------------------------------------------------------------


@transaction.atomic
def article_request_review(*, article: Article, user, note: str) -> Revision:
    """Put a live article back in the review queue (its review is due): its live content becomes
    pending work in review, so approving it stamps a new 'last reviewed' date."""
    _require_rule(user, "request_review")
    note = _note_for("request_review", note)
    article, release = _locked(article)
    _require_state("request_review", article, release)
    live = release.live_revision
    revision = _add_revision(
        article,
        kind=RevisionKind.REOPEN,
        state=ReviewState.IN_REVIEW,
        content=live.content,
        user=user,
        note=note,
        base=live,
    )
    _make_pending(article, release, revision, ReviewState.IN_REVIEW, edited=False)
    _audit(
        article,
        AuditAction.REQUEST_REVIEW,
        user=user,
        from_state=ArticleState.PUBLISHED,
        to_state=ReviewState.IN_REVIEW,
        note=note,
        revision=revision,
    )
    return revision


# -- scheduled publishing ---------------------------------------------------------------------------


def waiting_schedules(article: Article) -> list[Schedule]:
    return list(
        Schedule.objects.filter(article=article, state=ScheduleState.WAITING)
        .select_related("revision")
        .order_by("due_at")
    )


@transaction.atomic
def article_schedule(
    *, article: Article, user, action: str, due_at: dt.datetime, note: str, bump: str = "patch"
) -> Schedule:
    """Set a publish (of the approved work, as it is now) or an archive for ``due_at``. The rules
    are the action's own, checked now and again when it runs; a new schedule replaces a waiting
    one for the same action."""
    if action not in ScheduledAction.values:
        raise InvalidContent(f"Only {', '.join(ScheduledAction.values)} can be scheduled.", [])
    _require_rule(user, action)
    note = _note_for(action, note)
    if action == ScheduledAction.PUBLISH and bump not in BUMPS:
        raise InvalidContent(f"bump must be one of {', '.join(BUMPS)}.", [])
    if timezone.is_naive(due_at):
        raise InvalidContent("The time must say its time zone.", [])
    article, release = _locked(article)
    _require_state(action, article, release)
    replaced = Schedule.objects.filter(article=article, action=action, state=ScheduleState.WAITING)
    replaced.update(
        state=ScheduleState.CANCELLED, outcome="Replaced by a newer schedule.", finished_at=timezone.now()
    )
    schedule = Schedule.objects.create(
        article=article,
        action=action,
        due_at=due_at,
        revision=release.pending_revision if action == ScheduledAction.PUBLISH else None,
        bump=bump if action == ScheduledAction.PUBLISH else "",
        note=note,
        user=user,
        user_name=_username(user),
    )
    state = release.review_state or article.state
    _audit(
        article,
        AuditAction.SCHEDULE,
        user=user,
        from_state=state,
        to_state=state,
        note=f"{schedule.get_action_display()} at {timezone.localtime(due_at):%Y-%m-%d %H:%M %Z}: {note}",
        revision=schedule.revision,
    )
    return schedule


@transaction.atomic
def schedule_cancel(*, schedule: Schedule, user, note: str = "") -> Schedule:
    _require_rule(user, schedule.action)
    article, release = _locked(schedule.article)
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.state != ScheduleState.WAITING:
        raise InvalidTransition(f"This schedule is {schedule.get_state_display().lower()} already.")
    schedule.state = ScheduleState.CANCELLED
    schedule.outcome = note or f"Cancelled by {_username(user)}."
    schedule.finished_at = timezone.now()
    schedule.save(update_fields=["state", "outcome", "finished_at"])
    state = release.review_state or article.state
    _audit(
        article,
        AuditAction.UNSCHEDULE,
        user=user,
        from_state=state,
        to_state=state,
        note=f"{schedule.get_action_display()} at {timezone.localtime(schedule.due_at):%Y-%m-%d %H:%M %Z}"
        + (f": {note}" if note else ""),
    )
    return schedule


def run_due_schedules(now: dt.datetime | None = None) -> list[Schedule]:
    """Carry out every waiting schedule due by ``now``, each in its own transaction, as the user
    who set it. Safe to run from several places at once: a schedule another run holds is skipped,
    and each is done at most once. A publish whose approved revision is no longer the pending one
    fails with the reason, rather than publishing work nobody approved."""
    now = now or timezone.now()
    finished = []
    due = Schedule.objects.filter(state=ScheduleState.WAITING, due_at__lte=now).order_by("due_at", "id")
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            schedule = (
                Schedule.objects.select_for_update(skip_locked=True)
                .select_related("article", "user")
                .filter(pk=pk, state=ScheduleState.WAITING)
                .first()
            )
            if schedule is None:
                continue
            try:
                with transaction.atomic():
                    schedule.outcome = _run_schedule(schedule)
                schedule.state = ScheduleState.DONE
            except WorkflowError as error:
                schedule.state = ScheduleState.FAILED
                schedule.outcome = error.message
            schedule.finished_at = timezone.now()
            schedule.save(update_fields=["state", "outcome", "finished_at"])
            finished.append(schedule)
    return finished


def _run_schedule(schedule: Schedule) -> str:
    article, user = schedule.article, schedule.user
    if schedule.action == ScheduledAction.ARCHIVE:
        article_archive(article=article, user=user, note=schedule.note)
        return "Archived."
    release = release_of(Article.objects.get(pk=article.pk))
    if release.pending_revision_id != schedule.revision_id:
        now_pending = release.pending_revision.number if release.pending_revision else None
        raise InvalidTransition(
            f"The approved revision {schedule.revision.number if schedule.revision else '?'} is no longer "
            f"the pending one ({'revision ' + str(now_pending) if now_pending else 'nothing'} is pending "
            "now): review and schedule again."
        )
    revision = article_publish(article=article, user=user, note=schedule.note, bump=schedule.bump or "patch")
    return f"Published version {revision.version} (revision {revision.number})."


# -- shared tags ----------------------------------------------------------------------------------


@transaction.atomic
def tag_rename(*, tag: Tag, user, name: str, note: str = "") -> int:
    """Rename a stack or tool tag everywhere it is used (see ``_rename_in_articles``)."""
    _require(user, "releases.publish_article", "rename tags on live articles")
    _require(user, "articles.change_tag", "rename tags")
    name = " ".join((name or "").split()).lower()
    if not name:
        raise InvalidContent("A tag needs a name.", [{"line": None, "field": "name", "message": "is empty"}])
    tag = Tag.objects.select_for_update().get(pk=tag.pk)
    old = tag.name
    if name == old:
        return 0
    key = "stack" if tag.kind == Tag.Kind.STACK else "tools"
    if Tag.objects.filter(kind=tag.kind, name=name).exclude(pk=tag.pk).exists():
        raise InvalidContent(f"There is already a {tag.kind} tag named {name!r}.", [])
    live = Article.objects.filter(article_tags__tag=tag).values_list("pk", flat=True)
    carriers = _carriers(live, lambda content: old in (content.get(key) or []))
    tag.name, tag.slug = name, tag_slug(name)
    tag.save(update_fields=["name", "slug"])
    articles_changed([], live=True)  # the tag's page moves, even with no live article on it

    def renamed(content: dict) -> dict:
        names = [name if item == old else item for item in content.get(key) or []]
        return {**content, key: list(dict.fromkeys(names))}

    note = note or f"{tag.kind} tag renamed from {old!r} to {name!r}"
    return _rename_in_articles(carriers, renamed, user=user, note=note, action=AuditAction.RENAME_TAG)


@transaction.atomic
def entity_rename(*, entity: Entity, user, name: str, note: str = "") -> int:
    """Rename an entity everywhere it is named (see ``_rename_in_articles``)."""
    _require(user, "releases.publish_article", "rename entities on live articles")
    _require(user, "articles.change_entity", "rename entities")
    name = " ".join((name or "").split())
    if not name:
        raise InvalidContent(
            "An entity needs a name.", [{"line": None, "field": "name", "message": "is empty"}]
        )
    entity = Entity.objects.select_for_update().get(pk=entity.pk)
    old, type_ = entity.name, entity.type
    if name == old:
        return 0
    if Entity.objects.filter(type=type_, name=name).exclude(pk=entity.pk).exists():
        raise InvalidContent(f"There is already a {type_} entity named {name!r}.", [])
    was = {"name": old, "type": type_}
    live = Article.objects.filter(article_entities__entity=entity).values_list("pk", flat=True)
    carriers = _carriers(live, lambda content: was in (content.get("entities") or []))
    entity.name, entity.slug = name, tag_slug(name)
    entity.save(update_fields=["name", "slug"])
    articles_changed([], live=True)  # the entity's page moves, even with no live article on it

    def renamed(content: dict) -> dict:
        entities = [{**item, "name": name} if item == was else item for item in content.get("entities") or []]
        unique = list({(item["type"], item["name"]): item for item in reversed(entities)}.values())[::-1]
        return {**content, "entities": unique}

    note = note or f"{type_} entity renamed from {old!r} to {name!r}"
    return _rename_in_articles(carriers, renamed, user=user, note=note, action=AuditAction.RENAME_ENTITY)


def _carriers(live_ids, names_it) -> list[int]:
    """Articles whose live row carries a name (``live_ids``) or whose pending work does."""
    ids = set(live_ids)
    pending = Release.objects.filter(pending_revision__isnull=False).select_related("pending_revision")
    ids |= {release.article_id for release in pending if names_it(release.pending_revision.content)}
    return sorted(ids)


def _rename_in_articles(article_ids, renamed, *, user, note: str, action: str) -> int:
    """A shared name changed: every live revision that carries it is followed by a published one
    with the new name (next patch version; an archived article stays down), and pending work by a
    new pending revision, each with its audit event. Returns how many articles changed."""
    changed = 0
    for article_id in article_ids:
        article, release = _locked(Article(pk=article_id))
        touched = False
        live = release.live_revision
        if live is not None and renamed(live.content) != live.content:
            content = _with_revision_block(
                renamed(live.content), version=_next_published_version(article, live.version, "patch")
            )
            made = _add_revision(
                article, kind=RevisionKind.RENAME, state=ArticleState.PUBLISHED, content=content, user=user,
                note=note, base=live,
            )  # fmt: skip
            if article.state == ArticleState.PUBLISHED:
                _go_live(article, release, made)
            else:  # archived: it stays down, and shows the new name when it comes back
                release.live_revision = made
                release.save()
                article_apply_content(article, made.content)
                articles_changed([article.pk], live=False)
            _audit(article, action, user=user, from_state=article.state, to_state=article.state, note=note,
                   revision=made)  # fmt: skip
            touched = True
        pending = release.pending_revision
        if pending is not None and renamed(pending.content) != pending.content:
            content = renamed(pending.content)
            made = _add_revision(
                article, kind=RevisionKind.RENAME, state=release.review_state, content=content, user=user,
                note=note, base=pending,
            )  # fmt: skip
            _make_pending(article, release, made, release.review_state, edited=False)
            _audit(article, action, user=user, from_state=release.review_state, to_state=release.review_state,
                   note=note, revision=made)  # fmt: skip
            touched = True
        changed += touched
    return changed


# -- what an incoming document means ------------------------------------------------------------


class ImportAction(enum.Enum):
    CREATE = "create"  # a new article
    LIVE = "live"  # its content goes live (a new published revision)
    PENDING = "pending"  # a new pending revision for review; readers keep what they see
    CONFLICT = "conflict"  # kept beside editors' pending work for a reviewer to resolve
    UNCHANGED = "unchanged"
    STALE = "stale"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportTarget:
    """What the database holds for an incoming document's reference, as plain values."""

    site: str
    state: str
    source_digest: str
    live_version: str | None
    pending_version: str | None
    has_pending: bool
    editors_pending: bool  # editors changed the pending work (an edit or a conflict resolution)
    # Whether the incoming content equals the published revision with its version; None when no
    # published revision carries that version.
    same_as_published: bool | None


@dataclass(frozen=True)
class ImportDecision:
    action: ImportAction
    message: str = ""

    @property
    def outcome(self) -> str:
        """The import report's outcome for this decision."""
        return {
            ImportAction.CREATE: "created",
            ImportAction.UNCHANGED: "unchanged",
            ImportAction.STALE: "stale",
            ImportAction.FAILED: "failed",
        }.get(self.action, "updated")


def _older(version: str | None, than: str | None) -> bool:
    new, old = version_key(version), version_key(than)
    return new is not None and old is not None and new < old


def decide_import(
    *, site: str, version: str | None, digest: str, goes_live: bool, target: ImportTarget | None
) -> ImportDecision:
    """What one incoming document means, in this order of rules:

    1. no article has its reference: create it (live when ``goes_live``: its source reviewed it,
       it asks for no human review and the importer may publish);
    2. the article belongs to another site: failed, naming both;
    3. the same text as last imported: unchanged;
    4. older than the live version (or than the pending work's): stale, whatever else it says;
    5. a version already published: unchanged when the content is the same, else pending work
       flagged for a human ("same version, different content"), never live;
    6. editors have pending work: a conflict kept beside it;
    7. no version while a versioned revision is live, archived, or not ``goes_live``: pending
       work for review;
    8. otherwise it goes live, superseding any pending import.
    """
    if target is None:
        return ImportDecision(ImportAction.CREATE)
    if site != target.site:
        return ImportDecision(
            ImportAction.FAILED,
            f"the reference belongs to an article of site {target.site!r}; this document names site {site!r}",
        )
    if digest == target.source_digest:
        return ImportDecision(ImportAction.UNCHANGED)
    for label, other in (("live", target.live_version), ("pending", target.pending_version)):
        if _older(version, other):
            return ImportDecision(
                ImportAction.STALE, f"version {version} is older than the {label} version {other}: skipped"
            )
    if target.same_as_published is True:
        return ImportDecision(ImportAction.UNCHANGED)
    if target.editors_pending:
        return ImportDecision(
            ImportAction.CONFLICT,
            "editors have pending changes to this article: the new text is kept beside them as a revision "
            "flagged as a conflict, for a reviewer to resolve; nothing was overwritten",
        )
    if target.same_as_published is False:
        return ImportDecision(
            ImportAction.PENDING,
            f"version {version} was published already with different content: kept as pending work for "
            "review (same version, different content)",
        )
    if version_key(version) is None and target.live_version:
        return ImportDecision(
            ImportAction.PENDING,
            f"the document carries no version, and version {target.live_version} is live: kept as pending "
            "work for review",
        )
    if target.state == ArticleState.ARCHIVED:
        return ImportDecision(
            ImportAction.PENDING, "the article is archived: the new text is kept as pending work for review"
        )
    if not goes_live:
        if target.live_version is None and target.state != ArticleState.PUBLISHED:
            return ImportDecision(ImportAction.PENDING)
        return ImportDecision(
            ImportAction.PENDING,
            "the new text needs review: kept as pending work; the live version is unchanged",
        )
    return ImportDecision(ImportAction.LIVE)

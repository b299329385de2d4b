"""Which action applies: one rule per action (``RULES``), for the actions and for every page
that offers them.

Each rule says who may take the action (a permission, and what the refusal says they may not
do), in which states (a *blocker* that says in words why the action does not apply now) and
whether it needs a note. The actions check through it before they execute (``_require_rule``,
``_require_state``, ``_note_for``); ``action_availability`` reads the same rules for the pages;
``_require`` checks a permission no rule names (editing, renaming shared names).
"""

from dataclasses import dataclass
from typing import Any

from articles.models import Article, ArticleState
from releases.errors import ActionForbidden, InvalidTransition, NoteRequired
from releases.models import Release, ReviewState, Revision

from .reads import release_of


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
        # (the revision is protected from deletion while a release names it)
        return (
            f"An import (revision {release.conflict_revision.number}) conflicts with the pending changes: "
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


def _require(user, permission: str, action: str) -> None:
    if user is None or not user.is_active or not user.has_perm(permission):
        raise ActionForbidden(f"You are not allowed to {action}.")


def _note_for(action: str, note: str | None) -> str:
    """The note, stripped; refused when empty for an action whose rule requires one."""
    note = (note or "").strip()
    if not note and RULES[action].note_required:
        raise NoteRequired(f"A note is required to {RULES[action].label.lower()}.")
    return note


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

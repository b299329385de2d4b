"""An editor's changes: saved as the pending revision (a draft), refused when the work moved on
since the editor read it; the live content stays as it is."""

from typing import Any

from django.db import transaction

from articles.models import Article, ArticleState
from releases.errors import EditConflict, InvalidContent
from releases.models import AuditAction, ReviewState, Revision, RevisionKind

from .reads import review_state
from .rules import _require
from .steps import _add_revision, _audit, _locked, _make_pending
from .validation import validated_content


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

"""Import conflicts: an import kept beside editors' pending work, and its resolution field by
field (keep the pending work's value, or take the import's)."""

from django.db import transaction

from articles.models import Article
from releases.errors import InvalidContent
from releases.models import AuditAction, ReviewState, Revision, RevisionKind

from .reads import release_of
from .rules import _require_rule, _require_state
from .steps import _add_revision, _audit, _locked, _make_pending
from .validation import validated_content

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

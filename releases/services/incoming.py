"""What an incoming document means: the importer decides it with ``decide_import``, one function
over plain values, the same for one document and for a batch; its bulk writer
(``releases.importing``, ``releases.recording``) applies the decision."""

import enum
from dataclasses import dataclass

from articles.content import version_key
from articles.models import ArticleState


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

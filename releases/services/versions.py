"""Versions: what a bump makes of a version, and the version publishing would give an article
(unique among its published revisions, never past the largest a version part can be)."""

from articles.content import content_version, version_key
from articles.models import Article, ArticleState
from articles.parsing import VERSION_PART_MAX
from releases.errors import InvalidTransition, WorkflowError
from releases.models import Revision

from .reads import release_of

BUMPS = ("patch", "minor", "major")


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

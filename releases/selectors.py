"""Reads of the releases app."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from articles.models import Article, ArticleState
from releases.models import (
    AuditAction,
    AuditEvent,
    ReviewComment,
    ReviewState,
    Revision,
    Schedule,
    ScheduleState,
)

REVIEW_STATES = (
    ArticleState.DRAFT,
    ArticleState.IN_REVIEW,
    ArticleState.CHANGES_REQUESTED,
    ArticleState.REVIEWED,
)


def revisions_for(article: Article):
    """Every revision of an article, newest first, with its author."""
    return Revision.objects.filter(article=article).select_related("author").order_by("-number")


def review_queue():
    """Articles with work waiting for review (or an import conflict), oldest change first.

    ``review_state`` is the state of the pending work; ``conflict`` says an import is waiting
    beside it for a reviewer to resolve. Each row also carries what the inbox shows, in the one
    query: the live and pending versions, who submitted, since when it waits, the last note and
    who wrote it, the number of open comments and a waiting publish's time.
    """
    events = AuditEvent.objects.filter(article=OuterRef("pk")).order_by("-created_at", "-id")
    submitted = events.filter(
        action__in=[AuditAction.SUBMIT, AuditAction.REQUEST_REVIEW, AuditAction.RESOLVE]
    )
    noted = events.exclude(note="")
    open_comments = (
        ReviewComment.objects.filter(article=OuterRef("pk"), resolved_at__isnull=True)
        .values("article")
        .annotate(n=Count("id"))
        .values("n")
    )
    publishing = Schedule.objects.filter(
        article=OuterRef("pk"), state=ScheduleState.WAITING, action="publish"
    ).values("due_at")
    return (
        pending_work()
        .annotate(
            live_version=F("release__live_revision__version"),
            pending_number=F("release__pending_revision__number"),
            pending_version=F("release__pending_revision__version"),
            submitted_by=Subquery(submitted.values("user_name")[:1]),
            waiting_since=Coalesce(Subquery(events.values("created_at")[:1]), "updated_at"),
            last_note=Subquery(noted.values("note")[:1]),
            last_note_by=Subquery(noted.values("user_name")[:1]),
            open_comments=Coalesce(Subquery(open_comments, output_field=IntegerField()), 0),
            publish_at=Subquery(publishing[:1]),
        )
        .order_by("updated_at", "id")
    )


def pending_work():
    """Articles with work waiting for review or an import conflict, with ``review_state`` (of
    the pending work, else of the article) and ``conflict``: what the queue and its counts
    filter on, without the inbox's columns."""
    return Article.objects.filter(
        Q(release__pending_revision__isnull=False) | Q(release__conflict_revision__isnull=False)
    ).annotate(
        review_state=Coalesce(NullIf("release__review_state", Value("")), "state"),
        conflict=Q(release__conflict_revision__isnull=False),
    )


def waiting_for(user) -> Q:
    """What waits for ``user`` (over ``pending_work()``): work in review, approved work for those
    who may publish, and import conflicts."""
    states = [ReviewState.IN_REVIEW]
    if user.has_perm("releases.publish_article"):
        states.append(ReviewState.REVIEWED)
    return Q(review_state__in=states) | Q(conflict=True)


def review_due(today: dt.date | None = None):
    """Live articles, with nothing pending, whose review is due: never reviewed, last reviewed
    more than REVIEW_MAX_AGE_DAYS ago, or a freshness score under REVIEW_MIN_FRESHNESS."""
    today = today or timezone.localdate()
    oldest = today - dt.timedelta(days=settings.REVIEW_MAX_AGE_DAYS)
    return Article.objects.filter(
        Q(last_reviewed__isnull=True)
        | Q(last_reviewed__lt=oldest)
        | Q(freshness__lt=settings.REVIEW_MIN_FRESHNESS),
        state=ArticleState.PUBLISHED,
        release__pending_revision__isnull=True,
        release__conflict_revision__isnull=True,
    )


def desk_counts(user) -> dict[str, int]:
    """How much waits in each part of the desk, for the admin index: two queries."""
    queue = pending_work()
    counts = queue.aggregate(
        in_review=Count("pk", filter=Q(release__review_state=ReviewState.IN_REVIEW)),
        approved=Count("pk", filter=Q(release__review_state=ReviewState.REVIEWED)),
        changes_requested=Count("pk", filter=Q(release__review_state=ReviewState.CHANGES_REQUESTED)),
        drafts=Count("pk", filter=Q(release__review_state=ReviewState.DRAFT)),
        conflicts=Count("pk", filter=Q(release__conflict_revision__isnull=False)),
        waiting=Count("pk", filter=waiting_for(user)),
    )
    counts["review_due"] = review_due().count()
    return counts


def revision_content(article: Article, revision: str) -> dict | None:
    """The content of one revision of ``article`` for staff previews: by number ("12"), or the
    latest revision with that version ("1.5.4")."""
    revisions = Revision.objects.filter(article=article)
    found = (
        revisions.filter(number=int(revision)).first()
        if revision.isdigit() and len(revision) < 10
        else revisions.filter(version=revision[:40]).order_by("-number").first()
    )
    return found.content if found else None


def audit_trail(article: Article):
    """Everything done to an article, newest first: the history page and the change page."""
    return (
        AuditEvent.objects.filter(article=article).select_related("revision").order_by("-created_at", "-id")
    )


REVIEW_ACTIONS = (AuditAction.REQUEST_CHANGES, AuditAction.APPROVE, AuditAction.REQUEST_REVIEW)


def last_review(article: Article) -> AuditEvent | None:
    """The latest reviewer's decision on the article (changes requested, approved, sent back to
    review), for the top of the change page."""
    return audit_trail(article).filter(action__in=REVIEW_ACTIONS).first()


def role_of(number: int, release) -> str:
    """What a revision is to its article now: "live", "pending", "conflicting import" or ""."""
    roles = {
        "live": release.live_revision,
        "pending": release.pending_revision,
        "conflicting import": release.conflict_revision,
    }
    return next(
        (role for role, revision in roles.items() if revision is not None and revision.number == number), ""
    )


def audit_trail_recent():
    """The latest actions on any article, newest first, for the admin index."""
    return AuditEvent.objects.select_related("article").order_by("-created_at", "-id")

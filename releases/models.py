"""How an article changes: immutable revisions and the audit trail."""

from django.conf import settings
from django.db import models

from articles.models import Article, ArticleState
from releases.compare import LABELS as FIELD_LABELS


class RevisionKind(models.TextChoices):
    IMPORT = "import", "Import"
    EDIT = "edit", "Edit"
    REVIEW = "review", "Review stamp"
    PUBLISH = "publish", "Publish"
    ROLLBACK = "rollback", "Rollback"
    RESOLVE = "resolve", "Conflict resolution"
    RENAME = "rename", "Rename of a tag or entity"
    REOPEN = "reopen", "Review requested"


class ReviewState(models.TextChoices):
    """The review state of an article's pending work."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REVIEWED = "reviewed", "Approved"


class Revision(models.Model):
    """An immutable JSON snapshot of an article's whole content and meta.

    Every import, edit, approval, publish and rollback adds one; none is ever changed or
    deleted. ``content`` has the shape of ``articles.content.content_from_page``. A revision in
    state ``published`` went live when it was made.
    """

    # Served by the unique (article, number) index.
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="revisions", db_index=False)
    number = models.PositiveIntegerField(help_text="1, 2, 3... per article, in the order they were made.")
    kind = models.CharField(max_length=20, choices=RevisionKind.choices)
    state = models.CharField(
        max_length=20, choices=ArticleState.choices, help_text="Workflow state when it was made."
    )
    version = models.CharField(max_length=40, blank=True)
    content = models.JSONField()
    base_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="The revision this one was made from."
    )
    merged_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="A conflict resolution's second parent: the import it took from."
    )
    conflict = models.BooleanField(
        default=False, help_text="An import that arrived while editors had unpublished changes."
    )
    # History is never rewritten: a user with revisions cannot be deleted (deactivate instead),
    # and the name is kept as text too, as it was when the revision was made.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revisions",
        help_text="Empty for revisions made by the importer.",
    )
    author_name = models.CharField(max_length=150, blank=True, help_text="Empty for the importer.")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_unique_number"),
        ]
        permissions = [
            ("submit_article", "Can submit drafts for review"),
            ("review_article", "Can approve drafts or request changes"),
            ("publish_article", "Can publish, roll back and archive articles"),
        ]

    def __str__(self):
        return f"{self.article_id} r{self.number} v{self.version} ({self.state})"

    @property
    def author_label(self) -> str:
        return self.author_name or "import"


class AuditAction(models.TextChoices):
    IMPORT = "import", "Import"
    EDIT = "edit", "Edit"
    SUBMIT = "submit", "Submit for review"
    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"
    PUBLISH = "publish", "Publish"
    ROLLBACK = "rollback", "Roll back"
    ARCHIVE = "archive", "Archive"
    RESOLVE = "resolve", "Resolve conflict"
    RENAME_TAG = "rename_tag", "Rename tag"
    RENAME_ENTITY = "rename_entity", "Rename entity"
    COMMENT = "comment", "Comment"
    RESOLVE_COMMENT = "resolve_comment", "Resolve comment"
    SCHEDULE = "schedule", "Schedule"
    UNSCHEDULE = "unschedule", "Cancel schedule"
    REQUEST_REVIEW = "request_review", "Send back to review"


class AuditEvent(models.Model):
    """Who did what to which article, when, with which note. Append-only."""

    # Served by the (article, -created_at) index.
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="audit_events", db_index=False
    )
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(max_length=20, choices=AuditAction.choices, db_index=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user_name = models.CharField(max_length=150, blank=True, help_text="Empty for the importer.")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["article", "-created_at"], name="audit_by_article")]

    def __str__(self):
        return f"{self.get_action_display()} of {self.article_id} by {self.user_label}"

    @property
    def user_label(self) -> str:
        return self.user_name or "import"

    @property
    def from_label(self) -> str:
        return state_label(self.from_state)

    @property
    def to_label(self) -> str:
        return state_label(self.to_state)


def state_label(value: str) -> str:
    """The human name of an article or review state ("in_review" -> "In review")."""
    labels = dict(ArticleState.choices) | dict(ReviewState.choices)
    return str(labels.get(value, value))


class Release(models.Model):
    """Where an article's published and pending work are: explicit revision pointers.

    ``live_revision`` is the revision readers see (the article row is its projection) or, for an
    archived article, the one they saw last; ``pending_revision`` is the work waiting for review,
    in ``review_state``; ``conflict_revision`` is an import that arrived while editors had pending
    work, kept beside it until a reviewer resolves it field by field. Only the actions of
    ``releases.services`` and the importer's writer (applying their rule) move the pointers.
    """

    article = models.OneToOneField(
        Article, on_delete=models.PROTECT, primary_key=True, related_name="release"
    )
    live_revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    pending_revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    review_state = models.CharField(
        max_length=20, choices=ReviewState.choices, blank=True, help_text="Empty when nothing is pending."
    )
    conflict_revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    edited_at = models.DateTimeField(
        null=True, blank=True, help_text="When editors last changed the pending work; empty when none did."
    )

    class Meta:
        indexes = [models.Index(fields=["review_state"], name="release_review_state")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pending_revision__isnull=True, review_state="")
                | models.Q(pending_revision__isnull=False, review_state__in=ReviewState.values),
                name="release_pending_has_state",
            ),
        ]

    def __str__(self):
        return f"{self.article_id}: live r{self.live_revision_id} pending r{self.pending_revision_id}"


class ReviewQueueItem(Article):
    """The review queue in the admin: articles with changes waiting for review."""

    class Meta:
        proxy = True
        verbose_name = "review queue item"
        verbose_name_plural = "review queue"


class ReviewComment(models.Model):
    """A comment on an article's pending work, optionally on one field, open until resolved.

    It belongs to the pending revision it was written on; open comments stay on the article
    while editors make further revisions, until someone resolves them.
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="review_comments")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="comments")
    field = models.CharField(max_length=50, blank=True, help_text="The content field it is about, if one.")
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["article", "resolved_at"], name="comment_open_by_article")]

    def __str__(self):
        return f"{self.author_name} on {self.article_id}: {self.body[:40]}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def field_label(self) -> str:
        """The field it is about as the pages name it ("Body", not "body_text"); "" for the whole article."""
        return FIELD_LABELS.get(self.field, self.field)


class ScheduledAction(models.TextChoices):
    PUBLISH = "publish", "Publish"
    ARCHIVE = "archive", "Archive"


class ScheduleState(models.TextChoices):
    WAITING = "waiting", "Waiting"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


class Schedule(models.Model):
    """A publish or archive a reviewer set for a later time; ``manage.py publish_scheduled``
    carries it out as that reviewer, and records the outcome. At most one of each action waits
    per article."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="schedules")
    action = models.CharField(max_length=10, choices=ScheduledAction.choices)
    due_at = models.DateTimeField()
    revision = models.ForeignKey(
        Revision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a publish: the approved revision it publishes.",
    )
    bump = models.CharField(max_length=10, blank=True)
    note = models.TextField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    user_name = models.CharField(max_length=150)
    state = models.CharField(max_length=10, choices=ScheduleState.choices, default=ScheduleState.WAITING)
    outcome = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"], name="schedule_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "action"],
                condition=models.Q(state="waiting"),
                name="schedule_one_waiting_per_action",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.article_id} at {self.due_at:%Y-%m-%d %H:%M}"

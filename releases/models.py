"""How an article changes: immutable revisions and the audit trail."""

from django.conf import settings
from django.db import models

from articles.models import Article, ArticleState


class RevisionKind(models.TextChoices):
    IMPORT = "import", "Import"
    EDIT = "edit", "Edit"
    REVIEW = "review", "Review stamp"
    PUBLISH = "publish", "Publish"
    ROLLBACK = "rollback", "Rollback"


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
        null=True, blank=True, help_text="The revision this one was edited from."
    )
    conflict = models.BooleanField(
        default=False, help_text="An import that arrived while editors had unpublished changes."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="revisions",
        help_text="Empty for revisions made by the importer.",
    )
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
        return self.author.get_username() if self.author_id else "import"


class AuditAction(models.TextChoices):
    IMPORT = "import", "Import"
    EDIT = "edit", "Edit"
    SUBMIT = "submit", "Submit for review"
    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"
    PUBLISH = "publish", "Publish"
    ROLLBACK = "rollback", "Roll back"
    ARCHIVE = "archive", "Archive"


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
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["article", "-created_at"], name="audit_by_article")]

    def __str__(self):
        return f"{self.get_action_display()} of {self.article_id} by {self.user_label}"

    @property
    def user_label(self) -> str:
        return self.user.get_username() if self.user_id else "import"


class ReviewQueueItem(Article):
    """The review queue in the admin: articles with changes waiting for review."""

    class Meta:
        proxy = True
        verbose_name = "review queue item"
        verbose_name_plural = "review queue"

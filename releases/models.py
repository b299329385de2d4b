"""How an article changes: immutable revisions and the audit trail."""

from django.conf import settings
from django.db import models

from articles.models import Article, ArticleState


class RevisionKind(models.TextChoices):
    IMPORT = "import", "Import"
    EDIT = "edit", "Edit"
    PUBLISH = "publish", "Publish"
    ROLLBACK = "rollback", "Rollback"


class Revision(models.Model):
    """An immutable JSON snapshot of an article's whole content and meta.

    Every import, edit, publish and rollback adds one; none is ever changed or deleted.
    ``content`` has the shape of ``articles.content.content_from_page``.
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(help_text="1, 2, 3... per article, in the order they were made.")
    kind = models.CharField(max_length=20, choices=RevisionKind.choices)
    state = models.CharField(
        max_length=20, choices=ArticleState.choices, help_text="Workflow state of this revision."
    )
    version = models.CharField(max_length=40, blank=True)
    content = models.JSONField()
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

    def __str__(self):
        return f"{self.article_id} r{self.number} v{self.version} ({self.state})"

    @property
    def author_label(self) -> str:
        return self.author.get_username() if self.author_id else "import"

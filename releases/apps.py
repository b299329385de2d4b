from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    """How an article changes: revisions, review workflow, publish and rollback, audit trail."""

    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from django.db.models import OuterRef, Subquery

        from articles import selectors
        from releases.models import Release
        from releases.selectors import revision_content

        selectors.revision_previewer = revision_content
        # The live version's revision was made when it went live (imports, publishing, rollbacks).
        # A subquery rather than joins: PostgreSQL computes it for the rows a page returns, after
        # the sort and the limit, while joins came before the sort, for every match of a search.
        selectors.live_version_made_at = lambda: Subquery(
            Release.objects.filter(article=OuterRef("pk")).values("live_revision__created_at")[:1]
        )

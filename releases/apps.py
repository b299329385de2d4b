from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    """How an article changes: revisions, review workflow, publish and rollback, audit trail."""

    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from django.db.models import F

        from articles import selectors
        from releases.selectors import revision_content

        selectors.revision_previewer = revision_content
        # The live version's revision was made when it went live (imports, publishing, rollbacks).
        selectors.live_version_made_at = lambda: F("release__live_revision__created_at")

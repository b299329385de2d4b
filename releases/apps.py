from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    """How an article changes: revisions, review workflow, publish and rollback, audit trail."""

    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from articles import selectors
        from releases.selectors import revision_content

        selectors.revision_previewer = revision_content

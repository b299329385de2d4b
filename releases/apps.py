from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    """How an article changes: revisions, review workflow, publish and rollback, audit trail."""

    name = "releases"
    verbose_name = "Releases"

from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    """What an article is and how it is read: models, importer, reader views, meta API."""

    name = "articles"
    verbose_name = "Articles"

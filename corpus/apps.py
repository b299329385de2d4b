from django.apps import AppConfig


class CorpusConfig(AppConfig):
    """Synthetic documents and the similar-posts evaluation: demo content, benchmarks, measurements."""

    name = "corpus"
    verbose_name = "Synthetic corpus"

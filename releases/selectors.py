"""Reads of the releases app."""

from articles.models import Article
from releases.models import Revision


def revisions_for(article: Article):
    """Every revision of an article, newest first, with its author."""
    return Revision.objects.filter(article=article).select_related("author").order_by("-number")

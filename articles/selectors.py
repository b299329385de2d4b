"""Reads of articles: one function per question the site and the API ask."""

from django.shortcuts import get_object_or_404

from articles.models import Article


def article_for_reader(*, slug: str, user) -> Article:
    """The article at ``slug`` if ``user`` may see it; a 404 otherwise, never a hint it exists."""
    return get_object_or_404(Article.objects.visible_to(user), slug=slug)

"""The Atom feed of the latest live articles."""

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from articles.models import Article


class LatestArticlesFeed(Feed):
    feed_type = Atom1Feed
    title = "Release knowledge base: latest articles"
    link = "/"
    subtitle = "The latest live articles."

    def items(self):
        return Article.objects.live().order_by("-published_at", "-id")[:30]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # Atom declares the summary as HTML: escaped, the plain text stays text in feed readers.
        return escape(item.summary or item.topic or "")

    def item_updateddate(self, item):
        return item.updated_at

    def item_pubdate(self, item):
        return item.published_at

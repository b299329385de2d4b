"""The sitemap: live articles only, with when each last changed."""

from django.contrib.sitemaps import Sitemap

from articles.models import Article


class ArticleSitemap(Sitemap):
    limit = 10_000

    def items(self):
        return Article.objects.live().order_by("id").only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at

"""The sitemap: the home page, live articles with when their live version was made, and the browse
pages of the stacks, tools and entities that live articles carry (never one only drafts carry)."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Exists, OuterRef
from django.urls import reverse

from articles import selectors
from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, Entity, Tag


class HomeSitemap(Sitemap):
    def items(self):
        return ["articles:home"]

    def location(self, item):
        return reverse(item)


class ArticleSitemap(Sitemap):
    limit = 10_000

    def items(self):
        live = Article.objects.live().order_by("id").only("slug", "published_at", "updated_at")
        return selectors.with_live_dates(live)

    def lastmod(self, item):
        return selectors.live_dates(item)["modified"]


class TagSitemap(Sitemap):
    """The browse pages of one kind of tag that at least one live article carries."""

    kind = ""

    def items(self):
        live_links = ArticleTag.objects.filter(tag=OuterRef("pk"), article__state=ArticleState.PUBLISHED)
        return Tag.objects.filter(Exists(live_links), kind=self.kind).order_by("slug").only("kind", "slug")


class StackSitemap(TagSitemap):
    kind = Tag.Kind.STACK


class ToolSitemap(TagSitemap):
    kind = Tag.Kind.TOOL


class EntitySitemap(Sitemap):
    """The pages of the entities that at least one live article names."""

    def items(self):
        live_links = ArticleEntity.objects.filter(
            entity=OuterRef("pk"), article__state=ArticleState.PUBLISHED
        )
        entities = Entity.objects.filter(Exists(live_links)).order_by("type", "slug").only("type", "slug")
        # A type the route cannot carry (one with a "/") has no page to list (models.entity_url).
        return [entity for entity in entities if self.location(entity)]

    def location(self, item):
        return item.get_absolute_url()


SITEMAPS = {
    "home": HomeSitemap,
    "articles": ArticleSitemap,
    "stacks": StackSitemap,
    "tools": ToolSitemap,
    "entities": EntitySitemap,
}

from django.contrib.sitemaps.views import sitemap
from django.urls import path

from articles import read_cache, views
from articles.feeds import LatestArticlesFeed
from articles.sitemaps import SITEMAPS

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<slug:slug>/", views.article_detail, name="detail"),
    path("articles/<slug:slug>/card.png", views.card, name="card"),
    path("stack/<slug:slug>/", views.stack_page, name="stack"),
    path("tools/<slug:slug>/", views.tool_page, name="tool"),
    path("entities/<str:type>/<slug:slug>/", views.entity_page, name="entity"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.search_suggest, name="search-suggest"),
    path("feed/", read_cache.anonymous_page(read_cache.lists)(LatestArticlesFeed()), name="feed"),
    path(
        "sitemap.xml",
        read_cache.anonymous_page(read_cache.lists)(sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon, name="favicon"),
]

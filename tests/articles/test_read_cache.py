"""The anonymous read cache: fast repeats, and never a stale or unpublished version."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from articles import read_cache
from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleState
from releases import services
from releases.importing import import_document

pytestmark = pytest.mark.django_db


def page_url(article):
    return f"/articles/{article.slug}/"


def api_url(article):
    return f"/api/articles/{article.slug}/"


def edited(article, **changes):
    content = content_from_article(content_prefetch(Article.objects.filter(pk=article.pk)).get())
    content.update(changes)
    return content


def publish_change(article, editor, reviewer, **changes):
    services.article_edit(article=article, user=editor, content=edited(article, **changes))
    services.article_submit(article=article, user=editor)
    services.article_approve(article=article, user=reviewer)
    services.article_publish(article=article, user=reviewer, note="update")


def test_a_repeated_anonymous_page_costs_one_query(client, sample_article, django_assert_num_queries):
    first = client.get(page_url(sample_article))
    assert first.status_code == 200
    with django_assert_num_queries(1):  # the content generation
        again = client.get(page_url(sample_article))
    assert again.status_code == 200
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]


@pytest.mark.parametrize(
    "path",
    ["/", "/?difficulty=advanced", "/search/?q=rollback", "/api/articles/", "/api/articles/?page_size=5"],
)
def test_lists_and_searches_repeat_from_the_cache(client, sample_article, path, django_assert_num_queries):
    first = client.get(path)
    assert first.status_code == 200
    with django_assert_num_queries(1):
        again = client.get(path)
    assert again.content == first.content


def test_publishing_shows_at_once_without_a_purge(client, sample_article, editor, reviewer):
    assert b"A summary nobody has read yet" not in client.get(page_url(sample_article)).content
    api_before = client.get(api_url(sample_article))
    publish_change(sample_article, editor, reviewer, summary="A summary nobody has read yet")
    assert b"A summary nobody has read yet" in client.get(page_url(sample_article)).content
    api_after = client.get(api_url(sample_article))
    assert api_after.json()["summary"] == "A summary nobody has read yet"
    assert api_after["ETag"] != api_before["ETag"]


def test_a_draft_is_never_served_to_readers(client, sample_article, editor):
    client.get(page_url(sample_article))
    services.article_edit(
        article=sample_article, user=editor, content=edited(sample_article, title="Draft title")
    )
    services.article_submit(article=sample_article, user=editor)
    page = client.get(page_url(sample_article))
    assert b"Draft title" not in page.content
    assert client.get(api_url(sample_article)).json()["title"] != "Draft title"


def test_archiving_takes_the_cached_page_down(client, sample_article, reviewer):
    assert client.get(page_url(sample_article)).status_code == 200
    assert client.get(api_url(sample_article)).status_code == 200
    services.article_archive(article=sample_article, user=reviewer, note="outdated")
    assert client.get(page_url(sample_article)).status_code == 404
    assert client.get(api_url(sample_article)).status_code == 404


def test_staff_answers_are_neither_served_nor_stored(client, sample_article, reviewer, editor):
    services.article_archive(article=sample_article, user=reviewer, note="outdated")
    client.force_login(reviewer)
    assert client.get(page_url(sample_article)).status_code == 200  # staff see archived articles
    client.logout()
    assert client.get(page_url(sample_article)).status_code == 404
    assert client.get(api_url(sample_article)).status_code == 404


def test_an_import_changes_the_lists(sample_article, sample_text):
    api = APIClient()
    assert api.get("/api/articles/").json()["count"] == 1
    other = sample_text.replace("anp-ref-035445-8950", "anp-ref-999999-0001").replace(
        "production checklist", "field notes"
    )
    assert import_document(other.encode(), path="other.txt").outcome == "created"
    assert api.get("/api/articles/").json()["count"] == 2


def test_any_write_to_an_article_advances_the_generation(sample_article):
    before = read_cache.generation()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_article SET view_count = 1 WHERE id = %s", [sample_article.id])
    middle = read_cache.generation()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_tag SET name = name || %s", ["!"])
    assert before != middle != read_cache.generation()


def test_similar_posts_changes_reach_the_cached_page(client, sample_article, sample_text):
    from articles import similarity

    other = sample_text.replace("anp-ref-035445-8950", "anp-ref-999999-0002").replace(
        "production checklist", "field notes"
    )
    client.get(page_url(sample_article))
    other_id = import_document(other.encode(), path="other.txt").article_id
    similarity.rebuild_all()
    other_article = Article.objects.get(pk=other_id)
    assert other_article.state == ArticleState.PUBLISHED
    assert f'href="/articles/{other_article.slug}/"'.encode() in client.get(page_url(sample_article)).content


def test_turned_off_every_request_is_built(client, sample_article, settings):
    settings.READ_CACHE = False
    client.get(page_url(sample_article))
    with CaptureQueriesContext(connection) as queries:
        client.get(page_url(sample_article))
    assert len(queries) > 1
    assert not any(":read:" in key for key in caches["default"]._cache)


def test_cache_urls():
    from config.settings import cache_from_url

    assert cache_from_url("redis://127.0.0.1:6379/1")["BACKEND"].endswith("RedisCache")
    assert cache_from_url("locmem://")["BACKEND"].endswith("LocMemCache")
    assert cache_from_url("file:///tmp/kb-cache")["LOCATION"] == "/tmp/kb-cache"
    with pytest.raises(Exception, match="CACHE_URL"):
        cache_from_url("memcached://x")


def test_a_shared_redis_cache_serves_every_process(client, sample_article, settings):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        },
    }
    settings.READ_CACHE_ALIAS = "shared"
    caches["shared"].clear()
    first = client.get(page_url(sample_article))
    keys = [key for key in redis.Redis.from_url("redis://127.0.0.1:6379/15").keys() if b"read:page:" in key]
    assert len(keys) == 1
    assert client.get(page_url(sample_article)).content == first.content
    caches["shared"].clear()


def test_every_table_readers_see_has_its_generation_triggers():
    """Migrations that rebuild a table (SQLite does for most changes) must not lose them."""
    tables = [
        "articles_article", "articles_articletag", "articles_articleentity", "articles_imagesource",
        "articles_tag", "articles_entity", "articles_similararticle",
    ]  # fmt: skip
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%%_generation'")
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%gen%'")
        covered = {table for (table,) in cursor.fetchall()}
    assert covered >= set(tables)

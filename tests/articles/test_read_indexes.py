"""Uncached reads: the home page's facets, and the indexes the live lists are read through."""

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles import search, selectors
from articles.models import LIVE_ORDERINGS, Article, ArticleState, ArticleTag, Tag

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")

# A value, or none; lower-case letters sort the same in Python and in either database.
VALUES = st.one_of(st.none(), st.text(alphabet="abc", max_size=3))
ROWS = st.lists(st.tuples(st.sampled_from(ArticleState.values), VALUES, VALUES), max_size=12)


class Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
def test_facets_are_the_distinct_values_of_live_articles(rows):
    """Whatever the values and states, the facets are what a scan of the live rows finds: values
    only drafts or archived articles have are left out, NULL is never offered, '' is."""
    live = [(difficulty, language) for state, difficulty, language in rows if state == ArticleState.PUBLISHED]
    expected = {
        "difficulties": sorted({difficulty for difficulty, _ in live if difficulty is not None}),
        "code_languages": sorted({language for _, language in live if language is not None}),
    }
    try:
        with transaction.atomic():
            Article.objects.bulk_create(
                Article(
                    reference=f"facet-{number}",
                    slug=f"facet-{number}",
                    title="Facet",
                    site="example",
                    state=state,
                    difficulty=difficulty,
                    code_language=language,
                )
                for number, (state, difficulty, language) in enumerate(rows)
            )
            choices = selectors.filter_choices()
            raise Rollback
    except Rollback:
        pass
    assert {key: choices[key] for key in expected} == expected


def test_home_offers_the_tags_of_live_articles_only(sample_article):
    draft = Article.objects.create(reference="facet-draft", slug="facet-draft", title="Draft", site="x")
    only_drafts = Tag.objects.create(kind=Tag.Kind.STACK, name="only drafts", slug="only-drafts")
    ArticleTag.objects.create(article=draft, tag=only_drafts, position=0)
    unused = Tag.objects.create(kind=Tag.Kind.TOOL, name="unused", slug="unused")

    choices = selectors.filter_choices()

    live_tags = Tag.objects.filter(article_tags__article__state=ArticleState.PUBLISHED).distinct()
    assert choices["stacks"] == [(tag.slug, tag.name) for tag in live_tags.filter(kind=Tag.Kind.STACK)]
    assert choices["tools"] == [(tag.slug, tag.name) for tag in live_tags.filter(kind=Tag.Kind.TOOL)]
    assert choices["stacks"] and choices["tools"]
    offered = {slug for slug, _ in choices["stacks"] + choices["tools"]}
    assert only_drafts.slug not in offered and unused.slug not in offered


def test_home_page_facets_take_two_queries(sample_article, django_assert_num_queries):
    with django_assert_num_queries(2):  # tags in use; difficulties and code languages together
        choices = selectors.filter_choices()
    assert choices["difficulties"] == [sample_article.difficulty]
    assert choices["code_languages"] == [sample_article.code_language]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # The test tables are tiny and their statistics depend on what ran before, so a scan or
        # a sort could win either way: ask whether an index can serve the order. With both
        # off, a Sort stays in the plan only when no index gives the rows in that order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgresql_only
@pytest.mark.parametrize("field", LIVE_ORDERINGS)
def test_a_live_list_best_first_is_read_in_index_order(field, sample_article):
    """``ordering=-quality`` and the other descending orderings: a page is read from the field's
    live index in order, never sorted."""
    with transaction.atomic():
        plan = _plan(
            Article.objects.live()
            .filter(difficulty="intermediate")
            .order_by(F(field).desc(nulls_last=True), "-id")[:20]
        )
    assert f"article_live_{field}" in plan
    assert "Sort" not in plan


@postgresql_only
def test_live_list_order_indexes_match_the_ordering_of_the_api():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'article_live_quality'")
        (definition,) = cursor.fetchone()
    assert "(quality DESC NULLS LAST, id DESC) WHERE ((state)::text = 'published'::text)" in definition


def test_the_api_orders_best_first_with_unknown_scores_last(client, sample_article):
    """The order the index serves is the API's: highest first, NULL last, ties newest first."""
    base = {"site": "example", "state": ArticleState.PUBLISHED, "published_at": sample_article.published_at}
    scored = [
        Article.objects.create(reference=f"q-{n}", slug=f"q-{n}", title="Q", quality=quality, **base)
        for n, quality in enumerate([50, None, 90, 50, None])
    ]
    body = client.get("/api/articles/", {"ordering": "-quality", "page_size": 100}).json()
    slugs = [item["slug"] for item in body["results"]]
    everything = [*scored, sample_article]
    expected = sorted(
        everything, key=lambda article: (article.quality is None, -(article.quality or 0), -article.pk)
    )
    assert slugs == [article.slug for article in expected]


def test_a_tag_in_use_is_found_by_any_carrier_not_the_newest(sample_article):
    """The question "does a live article carry it?" is asked without an order: ordered, the
    subquery of each tag walks the newest live articles instead of the tag's own links."""
    tags = Tag.objects.filter(article_tags__article=sample_article)
    assert tags.exists()
    with CaptureQueriesContext(connection) as queries:
        selectors.filter_choices()
        for tag in tags:
            selectors.tag_page(kind=tag.kind, slug=tag.slug)
    carried = [query["sql"] for query in queries if "LIMIT 1" in query["sql"]]
    assert len(carried) == 1 + len(tags)
    for sql in carried:
        inner = sql[sql.index("(SELECT") : sql.index("LIMIT 1")]
        assert "ORDER BY" not in inner, sql


@postgresql_only
def test_a_readers_search_ranks_live_matches_from_their_own_index_before_reading_dates():
    """A search of live articles finds its matches in the GIN index of live articles (not the
    index of every article, intersected with another index for the state), and the API's list
    ranks them before it reads their live dates: no join to the releases comes before the sort,
    which would join every match (and, in a parallel plan, carry its vector through the sort)."""
    Article.objects.bulk_create(
        Article(
            reference=f"search-plan-{number}",
            slug=f"search-plan-{number}",
            title="zanzibar release notes" if number % 100 == 0 else f"release checklist {number}",
            site="example",
            state=ArticleState.DRAFT if number % 7 == 3 else ArticleState.PUBLISHED,  # 500 is a draft
        )
        for number in range(800)
    )
    with connection.cursor() as cursor:  # as autovacuum would: GIN's pending entries, statistics
        cursor.execute("SELECT gin_clean_pending_list('article_live_search_vector')")
        cursor.execute("SELECT gin_clean_pending_list('article_search_vector')")
        cursor.execute("ANALYZE articles_article")
    queryset = selectors.with_live_dates(
        selectors.list_columns(search.search(Article.objects.live(), '"zanzibar release"'))
    )
    with transaction.atomic():
        plan = _plan(queryset[:20])
    assert "article_live_search_vector" in plan
    assert "article_search_vector" not in plan
    below_sort = plan[plan.index("Sort") :].split("SubPlan")[0]
    assert "Join" not in below_sort and "Nested Loop" not in below_sort
    found = [article.reference for article in queryset]
    assert found == [
        f"search-plan-{n}" for n in (700, 600, 400, 300, 200, 100, 0)
    ]  # equal ranks: newest first


@postgresql_only
def test_a_tags_page_counts_its_live_articles_by_merging_two_indexes(client):
    """A tag's page counts the tag's live articles (up to the count limit) by merging the tag's
    article ids with the live ids (``article_live_id``), both read from indexes in id order,
    instead of fetching every linked article's row to see whether it is live."""
    tag = Tag.objects.create(kind=Tag.Kind.STACK, name="merged", slug="merged")
    articles = Article.objects.bulk_create(
        Article(
            reference=f"count-plan-{number}",
            slug=f"count-plan-{number}",
            title=f"Count plan {number}",
            site="example",
            state=ArticleState.DRAFT if number % 4 == 1 else ArticleState.PUBLISHED,
        )
        for number in range(1200)
    )
    ArticleTag.objects.bulk_create(
        ArticleTag(article=article, tag=tag, position=0) for article in articles[::3]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_article")
        cursor.execute("ANALYZE articles_articletag")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/stack/merged/")
    assert response.status_code == 200
    live = sum(1 for number in range(0, 1200, 3) if number % 4 != 1)
    assert f"{live} articles" in response.content.decode()
    (count,) = [query["sql"] for query in queries if query["sql"].startswith("SELECT COUNT(*)")]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {count}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Merge Join" in plan and "Index Only Scan using article_live_id" in plan, plan

"""Full-text search (articles/search.py): relevance on documents whose text the tests write, the
query language, snippets, "did you mean", suggestions, the site and the API giving the same
answers, hostile queries and query budgets. Runs on SQLite (FTS5) and PostgreSQL (tsvector)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from articles import search as search_module
from articles.models import Article, ArticleState, Tag
from articles.paging import CappedPaginator
from releases import services
from releases.importing import import_document

pytestmark = pytest.mark.django_db


def document(
    reference: str,
    title: str,
    body: str = "a short body about nothing in particular.",
    *,
    topic: str = "general notes",
    summary: str = "a plain summary.",
    stack: tuple[str, ...] = ("backend",),
    tools: tuple[str, ...] = ("git",),
    checklist: tuple[str, ...] = ("write the final note",),
    quality: int = 50,
    freshness: int = 50,
    difficulty: str = "intermediate",
    version: str = "1.0.0",
) -> bytes:
    """A page-text document whose every searched text is given."""
    lines = [title, "", body, "", "alphanode post meta", "", f"topic{topic}", f"summary{summary}", "stack"]
    lines += [f"  • {name}" for name in stack]
    lines += ["tools", *(f"  • {name}" for name in tools)]
    lines += [f"difficulty{difficulty}", "score", f"  • quality: {quality}", f"  • freshness: {freshness}"]
    lines += [
        "  • depth: 50",
        "  • clarity: 50",
        "revision",
        "  • status: reviewed",
        f"  • version: {version}",
    ]
    lines += ["  • last reviewed: 2026-01-01", f"reference{reference}", "flags", "  • needs human review: 0"]
    lines += ["checklist", *(f"  • {item}" for item in checklist), "", "Similar Posts", ""]
    return "\n".join(lines).encode()


def add(
    reference: str, title: str, body: str = "a short body about nothing in particular.", **fields
) -> Article:
    result = import_document(document(reference, title, body, **fields), path=f"{reference}.txt")
    assert result.outcome == "created", result.errors
    article = Article.objects.get(pk=result.article_id)
    assert article.state == ArticleState.PUBLISHED
    return article


def site_slugs(client, query: str, page: int = 1) -> list[str]:
    response = client.get("/search/", {"q": query, "page": page})
    assert response.status_code == 200
    return re.findall(r'<h2><a href="/articles/([^/"]+)/">', response.content.decode())


def api_slugs(query: str, **params) -> list[str]:
    response = APIClient().get("/api/articles/", {"search": query, **params})
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["results"]]


@pytest.fixture
def corpus():
    """Articles on secret rotation, on kubernetes, on both, and on neither."""
    return {
        "both-title": add(
            "s-both-1",
            "Rotating secrets in kubernetes clusters",
            "how to rotate credentials on a schedule without downtime.",
            topic="secret rotation / kubernetes",
            stack=("kubernetes",),
        ),
        "both-summary": add(
            "s-both-2",
            "Credential hygiene for platform teams",
            "a body that repeats nothing of the query.",
            topic="rotating secrets / kubernetes",
            summary="secrets rotation for kubernetes workloads, step by step.",
            stack=("kubernetes",),
        ),
        "problem-only": add(
            "s-problem",
            "Rotating secrets in django services",
            "vault holds the keys; a kubernetes cluster is mentioned once, in passing.",
            topic="secret rotation / django",
            stack=("django",),
        ),
        "stack-only": add(
            "s-stack",
            "Scaling kubernetes clusters",
            "autoscaling nodes; secrets are out of scope and rotation too.",
            topic="autoscaling / kubernetes",
            stack=("kubernetes",),
        ),
        "phrase": add(
            "s-phrase",
            "Blue green deployment with load balancers",
            "switch traffic between two identical environments.",
            tools=("terraform",),
        ),
        "apart": add(
            "s-apart",
            "Green dashboards after a deployment",
            "the blue team owns the alerts for every release.",
            tools=("pytest",),
        ),
        "unrelated": add("s-unrelated", "Writing pytest fixtures", "fixtures keep tests short."),
    }


# -- relevance -----------------------------------------------------------------------------------


def test_articles_on_the_problem_and_the_stack_rank_above_those_on_one(client, corpus):
    slugs = site_slugs(client, "secrets rotation kubernetes")
    both = {corpus["both-title"].slug, corpus["both-summary"].slug}
    one = {corpus["problem-only"].slug, corpus["stack-only"].slug}
    assert set(slugs[:2]) == both
    assert one <= set(slugs[2:])  # they mention the rest only in their bodies
    assert corpus["unrelated"].slug not in slugs


def test_stemming_finds_other_forms_of_a_word(client, corpus):
    slugs = site_slugs(client, "secrets rotation")
    assert corpus["problem-only"].slug in slugs  # "Rotating secrets"
    assert corpus["both-title"].slug in slugs
    assert corpus["unrelated"].slug not in slugs


def test_a_phrase_matches_the_phrase_and_not_the_words_apart(client, corpus):
    assert site_slugs(client, '"blue green deployment"') == [corpus["phrase"].slug]
    assert set(site_slugs(client, "blue green deployment ")) == {corpus["phrase"].slug, corpus["apart"].slug}


def test_exclusion_and_or(client, corpus):
    excluded = site_slugs(client, "kubernetes -secrets")
    assert corpus["both-title"].slug not in excluded and corpus["problem-only"].slug not in excluded
    assert corpus["both-summary"].slug not in excluded
    assert excluded == []  # every kubernetes article here speaks of secrets too
    assert set(site_slugs(client, "autoscaling -vault")) == {corpus["stack-only"].slug}
    either = set(site_slugs(client, "terraform or fixtures"))
    assert either == {corpus["phrase"].slug, corpus["unrelated"].slug}


def test_tags_checklist_and_outline_words_are_searched(client, corpus):
    assert set(site_slugs(client, "terraform")) == {corpus["phrase"].slug}  # a tool tag
    assert corpus["problem-only"].slug in site_slugs(client, "django")  # a stack tag


def test_quality_and_freshness_break_near_ties(client):
    low = add("q-low", "Feature flags in practice", quality=10, freshness=10)
    high = add("q-high", "Feature flags in practice", quality=95, freshness=95)
    assert site_slugs(client, "feature flags") == [high.slug, low.slug]


def test_the_last_word_matches_as_a_prefix_while_typing(client, corpus):
    assert corpus["stack-only"].slug in site_slugs(client, "scaling kuber")
    assert corpus["stack-only"].slug in api_slugs("scaling kuber")
    assert site_slugs(client, '"scaling kuber"') == []  # a quoted word is a whole word
    assert site_slugs(client, "kuber scaling") == []  # and so is any but the last
    assert site_slugs(client, "ku") == []  # too short to be a prefix


# -- the site and the API ------------------------------------------------------------------------


def test_site_and_api_give_the_same_results_in_the_same_order(client):
    for number in range(25):
        add(
            f"same-{number:02d}",
            f"Release checklist {number}" + (" for canary releases" if number % 3 == 0 else ""),
            "canary " * (number % 5 + 1),
            quality=(number * 37) % 100,
            freshness=(number * 53) % 100,
        )
    for query in ("canary", "release canary", "checklist or canary"):
        first, second = site_slugs(client, query, 1), site_slugs(client, query, 2)
        assert len(first) == 20 and second, query
        assert first == api_slugs(query), query
        assert second == api_slugs(query, page=2), query


def test_api_search_combines_with_filters_and_honours_an_explicit_ordering(corpus):
    add("o-1", "Zeta canary rollouts", difficulty="beginner", quality=90)
    add("o-2", "Alpha canary rollouts", difficulty="advanced", quality=10)
    add("o-3", "Mid canary rollouts", difficulty="beginner", quality=50)
    by_title = api_slugs("canary", ordering="title")
    assert by_title == sorted(by_title, key=lambda slug: Article.objects.get(slug=slug).title)
    by_quality = api_slugs("canary", ordering="-quality")
    assert [Article.objects.get(slug=slug).quality for slug in by_quality] == [90, 50, 10]
    beginner = api_slugs("canary", difficulty="beginner")
    assert {Article.objects.get(slug=slug).reference for slug in beginner} == {"o-1", "o-3"}


def test_drafts_are_found_by_staff_only(corpus, staff_client):
    draft = corpus["unrelated"]
    Article.objects.filter(pk=draft.pk).update(state=ArticleState.DRAFT)
    assert draft.slug not in api_slugs("fixtures")
    response = staff_client.get("/api/articles/", {"search": "fixtures"})
    assert draft.slug in [item["slug"] for item in response.json()["results"]]


@pytest.fixture
def staff_client(django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("staffer", is_staff=True))
    return client


# -- snippets, corrections, suggestions ----------------------------------------------------------


def test_snippets_mark_the_matched_words_and_escape_the_rest(client):
    add("html", "Escaping output", 'never trust <script>alert("x")</script> when 1 < 2 in a rollback note.')
    page = client.get("/search/", {"q": "rollback"}).content.decode()
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page, re.S)[1]
    assert "<mark>rollback</mark>" in snippet
    # PostgreSQL's headline drops what looks like a tag, SQLite's snippet keeps it: escaped.
    assert "<script" not in snippet and "alert(&quot;x&quot;)" in snippet and "1 &lt; 2" in snippet


def test_mark_up_cannot_be_forged_by_the_text():
    assert search_module.mark_up("<mark>a</mark> \x01b\x02 \x01c") == (
        "&lt;mark&gt;a&lt;/mark&gt; <mark>b</mark> c"
    )


def test_a_typo_gets_a_corrected_query_as_a_link(client, corpus):
    page = client.get("/search/", {"q": "kuberntes"}).content.decode()
    assert "No articles found" in page
    assert re.search(r'Did you mean <a href="/search/\?q=kubernetes">kubernetes</a>', page)
    # a word of a title is a candidate too, and correct words stay as written
    assert search_module.correction("scaling clustres") == "scaling clusters"
    assert search_module.correction("kubernetes") is None


def test_a_correction_never_offers_a_name_only_drafts_carry(client):
    add("draft-tag", "Something else entirely", stack=("zookeeperish",))
    Article.objects.filter(reference="draft-tag").update(state=ArticleState.DRAFT)
    assert search_module.correction("zookeperish") is None


def test_suggest_returns_titles_for_a_partial_word(client, corpus):
    response = client.get("/search/suggest/", {"q": "load bal"})
    assert response.status_code == 200
    assert response.json() == {
        "query": "load bal",
        "results": [{"title": corpus["phrase"].title, "url": corpus["phrase"].get_absolute_url()}],
    }
    assert client.get("/search/suggest/", {"q": "bl"}).json()["results"] == []


# -- the index follows every write ---------------------------------------------------------------


def test_a_new_version_a_rename_and_archiving_reach_the_index(client, corpus, superuser):
    article = corpus["unrelated"]
    result = import_document(
        document("s-unrelated", "Writing pytest factories", "factories keep tests short.", version="1.0.1"),
        path="again.txt",
    )
    assert result.outcome == "updated", result.errors
    assert site_slugs(client, "factories") == [article.slug]
    assert site_slugs(client, "fixtures") == []
    tag = Tag.objects.get(kind=Tag.Kind.TOOL, name="terraform")
    services.tag_rename(tag=tag, user=superuser, name="opentofu")
    assert site_slugs(client, "opentofu") == [corpus["phrase"].slug]
    assert site_slugs(client, "terraform") == []
    Article.objects.filter(pk=article.pk).update(state=ArticleState.ARCHIVED)
    assert site_slugs(client, "factories") == []


# -- hostile queries and budgets -----------------------------------------------------------------

HOSTILE = [
    '"', '""', '"unbalanced', "-", "--", "- -", "or", "OR or", "-or", "and", "*", "^", "NEAR(", "NEAR(a b)",
    "title:", "title:kubernetes", "a:*", "!", "&|!", "(", ")", "'", "\\", "x" * 10_000, "kube" * 2500,
    "-kubernetes", '-"blue green"', "secrets -", "<->", "'a' & 'b'", "%", "_", "\u202e", "🙂", "中文",
]  # fmt: skip


@pytest.fixture
def one_article():
    return add("one", "Rotating kubernetes secrets", "blue green deployment notes.")


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_give_a_normal_page_and_answer(client, one_article, query):
    assert client.get("/search/", {"q": query}).status_code == 200
    assert APIClient().get("/api/articles/", {"search": query}).status_code == 200
    assert client.get("/search/suggest/", {"q": query}).status_code == 200


def test_exclusions_alone_find_nothing(client, one_article):
    assert site_slugs(client, "-kubernetes") == [] and api_slugs("-kubernetes") == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=60))
def test_any_text_is_a_query(client, one_article, query):
    assert client.get("/search/", {"q": query}).status_code == 200
    assert APIClient().get("/api/articles/", {"search": query}).status_code == 200


@settings(max_examples=100, deadline=None)
@given(query=st.text(alphabet=st.sampled_from('ab "-()*^:orNEAR'), max_size=30))
def test_the_engine_accepts_every_parsed_query(query):
    """Whatever the text, the query the engine is given is valid in its syntax."""
    list(search_module.search(Article.objects.all(), query).values_list("id", flat=True))
    search_module.snippets(query, [1])


def test_queries_the_site_and_the_api_make(client, corpus, django_assert_max_num_queries):
    client.get("/search/", {"q": "warm"})  # work the writes above left for the first request
    # site: count, page, tags of the page, snippets
    with django_assert_max_num_queries(5):
        assert client.get("/search/", {"q": "kubernetes"}).status_code == 200
    # no match: count, and the correction's reads (titles, tags, entities for each word)
    with django_assert_max_num_queries(8):
        assert client.get("/search/", {"q": "kuberntes"}).status_code == 200
    with django_assert_max_num_queries(6):
        assert APIClient().get("/api/articles/", {"search": "kubernetes"}).status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get("/search/suggest/", {"q": "kuber"}).status_code == 200


def test_sqlite_and_postgresql_each_use_their_index():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'article_search_vector'")
            assert "gin (search_vector)" in cursor.fetchone()[0]
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles_article'"
            )
            assert {"article_fts_insert", "article_fts_update", "article_fts_delete"} <= {
                name for (name,) in cursor.fetchall()
            }


def test_a_search_page_counts_at_most_the_limit(client, corpus, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "count_limit", 2)
    page = client.get("/search/", {"q": "kubernetes"}).content.decode()
    assert "More than 2 results" in page
    assert site_slugs(client, "kubernetes") == api_slugs("kubernetes")  # still every match, in order
    assert "1 result for" in client.get("/search/", {"q": "autoscaling"}).content.decode()


@pytest.mark.parametrize("path, param", [("/search/", "q"), ("/api/articles/", "search")])
def test_counting_the_matches_does_not_rank_them(client, corpus, path, param):
    """The count reads the matches' keys only: ranking each counted row is the page's own work."""
    rank_functions = ("ts_rank", "bm25(")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, {param: "kubernetes"}).status_code == 200
    counts = [query["sql"] for query in queries if "COUNT(" in query["sql"]]
    ranked = [query["sql"] for query in queries if any(name in query["sql"] for name in rank_functions)]
    assert len(counts) == 1 and ranked  # the page itself is ranked
    assert not any(name in counts[0] for name in rank_functions)

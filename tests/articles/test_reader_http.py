"""HTTP of the reader pages: HEAD answers like GET, page numbers that are not pages are 404, and
terms that only drafts carry stay unknown to readers."""

import pytest
from django.test import Client

from articles.models import Article, Entity, Tag
from articles.paging import CappedPaginator
from tests.articles.test_site import variant

pytestmark = pytest.mark.django_db

# A draft (it asks for human review, so it does not go live) with a stack tag, a tool tag and an
# entity no live article carries.
SECRET = "quokka"
DRAFT_ONLY = {
    "needs human review: 0": "needs human review: 1",
    "  • backend\n": f"  • backend\n  • {SECRET}stack\n",
    "  • ruff\n": f"  • ruff\n  • {SECRET}tool\n",
    "    • type: problem\n": f"    • type: problem\n    • name: {SECRET} entity\n    • type: {SECRET}type\n",
}


def reader_urls(article) -> list[str]:
    return [
        "/",
        "/?stack=python&difficulty=advanced",
        article.get_absolute_url(),
        f"/articles/{article.slug}/card.png",
        "/stack/python-services/",
        "/tools/fastapi/",
        "/entities/problem/creating-rollback-friendly-releases/",
        "/search/?q=rollback",
        "/feed/",
        "/sitemap.xml",
        "/robots.txt",
        "/favicon.ico",
        "/health",
    ]


def comparable_headers(response) -> dict[str, str]:
    # A HEAD answer may carry the GET body's Content-Length, or none; Expires (never_cache on
    # /health) is "now", which may be another second for the second request.
    return {
        name: value for name, value in response.headers.items() if name not in ("Content-Length", "Expires")
    }


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "staff"])
def test_head_answers_like_get_without_a_body(sample_article, media_root, reviewer, signed_in):
    client = Client()
    if signed_in:
        client.force_login(reviewer)
    for url in reader_urls(sample_article):
        head = client.head(url)
        get = client.get(url)
        assert get.status_code == 200, url
        assert head.status_code == get.status_code, url
        assert comparable_headers(head) == comparable_headers(get), url
        assert head.content == b"" and get.content, url


def test_head_of_a_missing_page_is_a_404_like_get(client, sample_article):
    for url in ("/articles/no-such-article/", "/stack/no-such-stack/", "/articles/no-such-article/card.png"):
        assert client.head(url).status_code == 404 == client.get(url).status_code, url


def test_other_methods_are_still_refused(client, sample_article):
    for url in ("/", sample_article.get_absolute_url(), "/search/", "/robots.txt", "/health"):
        assert client.post(url).status_code == 405, url
        assert client.delete(url).status_code == 405, url


@pytest.fixture
def many_live(sample_article, sample_text):
    """21 live articles: two pages of 20 on the home page and on the shared browse pages."""
    return [sample_article] + [variant(sample_text, number) for number in range(10, 30)]


LISTS = (
    "/",
    "/stack/python-services/",
    "/tools/fastapi/",
    "/entities/problem/creating-rollback-friendly-releases/",
    "/search/?q=rollback",
)


def page_url(url: str, page: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}page={page}"


def test_real_pages_of_every_list_are_served(client, many_live):
    for url in LISTS:
        first = client.get(url)
        assert first.status_code == 200 and first.content.decode().count('class="article-card"') == 20, url
        assert client.get(page_url(url, "1")).content == first.content, url
        second = client.get(page_url(url, "2"))
        assert second.status_code == 200, url
        assert second.content.decode().count('class="article-card"') == 1, url


@pytest.mark.parametrize("page", ["3", "0", "-1", "abc", "1.5", "", "9" * 30, "9" * 5000])
def test_a_page_number_that_is_not_a_page_is_a_404(client, many_live, page):
    for url in LISTS:
        response = client.get(page_url(url, page))
        assert response.status_code == 404, (url, page, response.status_code)
        assert 'class="article-card"' not in response.content.decode(), url


def test_an_empty_search_has_its_one_empty_page(client, sample_article):
    assert client.get("/search/?q=kubernetes").status_code == 200
    assert client.get("/search/?q=kubernetes&page=1").status_code == 200
    assert client.get("/search/?q=kubernetes&page=2").status_code == 404


@pytest.fixture
def draft_only(sample_article, sample_text, reviewer):
    draft = variant(sample_text, 3, **DRAFT_ONLY)
    assert not draft.is_live
    tag_slugs = set(Tag.objects.filter(name__startswith=SECRET).values_list("slug", flat=True))
    assert tag_slugs == {f"{SECRET}stack", f"{SECRET}tool"}
    assert Entity.objects.filter(type=f"{SECRET}type", slug=f"{SECRET}-entity").exists()
    return draft


DRAFT_ONLY_PAGES = (
    f"/stack/{SECRET}stack/",
    f"/tools/{SECRET}tool/",
    f"/entities/{SECRET}type/{SECRET}-entity/",
)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "staff"])
def test_terms_only_drafts_carry_have_no_reader_page(draft_only, reviewer, signed_in):
    client = Client()
    if signed_in:
        client.force_login(reviewer)
    for url in DRAFT_ONLY_PAGES:
        response = client.get(url)
        assert response.status_code == 404, url
        assert SECRET not in response.content.decode(), url
    # The same terms once a live article carries them: the pages exist.
    Article.objects.filter(pk=draft_only.pk).update(state="published")
    for url in DRAFT_ONLY_PAGES:
        assert client.get(url).status_code == 200, url


def test_terms_only_drafts_carry_appear_in_no_listing(client, draft_only):
    pages = ["/", "/search/?q=rollback", "/feed/", "/sitemap.xml", "/stack/python-services/"]
    pages += [
        "/api/articles/",
        "/api/articles/?fields=full&page_size=100",
        f"/api/articles/{draft_only.slug}/",
    ]
    for url in pages:
        assert SECRET not in client.get(url).content.decode(), url
    for filters in (
        {"stack": f"{SECRET}stack"},
        {"tool": f"{SECRET}tool"},
        {"entity": f"{SECRET} entity"},
        {"entity_type": f"{SECRET}type"},
    ):
        response = client.get("/api/articles/", filters)
        assert response.status_code == 200 and response.json()["count"] == 0, filters
    home = client.get("/", {"stack": f"{SECRET}stack"})
    assert home.status_code == 200 and 'class="article-card"' not in home.content.decode()


# -- lists counted up to a limit (articles.paging) -------------------------------------------------


@pytest.fixture
def counted_to_five(monkeypatch):
    """Lists count at most 5 rows, so the 21 live articles of ``many_live`` are past the limit."""
    monkeypatch.setattr(CappedPaginator, "count_limit", 5)


def test_past_the_count_limit_every_page_is_still_served(client, many_live, counted_to_five):
    for url in LISTS:
        first = client.get(url).content.decode()
        assert first.count('class="article-card"') == 20, url
        assert "<span>Page 1</span>" in first and 'rel="next"' in first, url
        second = client.get(page_url(url, "2")).content.decode()
        assert second.count('class="article-card"') == 1, url  # the 21st, past the 6 counted
        assert 'rel="prev"' in second and 'rel="next"' not in second, url
        assert client.get(page_url(url, "3")).status_code == 404, url


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "9" * 30])
def test_past_the_count_limit_a_number_that_is_not_a_page_is_a_404(client, many_live, counted_to_five, page):
    for url in LISTS:
        assert client.get(page_url(url, page)).status_code == 404, (url, page)


def test_past_the_count_limit_the_pages_say_more_than(client, many_live, counted_to_five):
    home = client.get("/").content.decode()
    assert "The latest of more than 5 articles" in home
    assert "Page 2." in client.get("/?page=2").content.decode()
    assert "More than 5 results" in client.get("/search/?q=rollback").content.decode()


def test_below_the_count_limit_the_count_is_exact(client, many_live):
    home = client.get("/").content.decode()
    assert "The latest of 21 articles" in home and "<span>Page 1 of 2</span>" in home
    assert "21 results" in client.get("/search/?q=rollback").content.decode()


def test_a_capped_list_reads_one_row_past_the_page_and_no_more(many_live, counted_to_five):
    articles = Article.objects.live().order_by("-published_at", "-id")
    paginator = CappedPaginator(articles, 4)
    assert paginator.count == 6 and paginator.capped
    everything = list(articles.values_list("pk", flat=True))
    pages, number = [], 1
    while True:
        page = paginator.page(number)
        pages.append([article.pk for article in page])
        assert page.start_index() == (number - 1) * 4 + 1
        assert page.end_index() == page.start_index() + len(page) - 1
        if not page.has_next():
            break
        number = page.next_page_number()
    assert [pk for page in pages for pk in page] == everything  # every row once, in order
    assert [len(page) for page in pages] == [4, 4, 4, 4, 4, 1]

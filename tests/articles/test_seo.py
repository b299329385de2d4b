"""What the reader pages tell crawlers and link previews: titles, canonical URLs, descriptions,
Open Graph tags and the article's JSON-LD, with the Django test client."""

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from articles import seo
from articles.models import Article
from releases import services
from releases.importing import import_document
from releases.models import Release, Revision
from tests.conftest import import_variant

pytestmark = pytest.mark.django_db

LONG_TITLE = (
    "production checklist for creating rollback friendly releases in python services: maintenance guide"
)


class Head(HTMLParser):
    """The parts of a page that describe it: title, meta and link tags, script elements."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.meta: dict[str, list[str]] = {}
        self.links: dict[str, list[str]] = {}
        self.scripts: list[tuple[dict, str]] = []
        self._in: str | None = None
        self._script: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("name") or attrs.get("property")):
            self.meta.setdefault(attrs.get("name") or attrs["property"], []).append(attrs.get("content"))
        elif tag == "link" and attrs.get("rel"):
            self.links.setdefault(attrs["rel"], []).append(attrs.get("href"))
        elif tag in ("title", "h1"):
            self._in = tag
        elif tag == "script":
            self._script = attrs
            self.scripts.append((attrs, ""))

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data
        elif self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def one(self, name: str) -> str:
        values = self.meta.get(name) or []
        assert len(values) == 1, (name, values)
        return values[0]

    def canonical(self) -> str:
        values = self.links.get("canonical") or []
        assert len(values) == 1, values
        return values[0]

    def json_ld(self) -> dict:
        blocks = [text for attrs, text in self.scripts if attrs.get("type") == "application/ld+json"]
        assert len(blocks) == 1, self.scripts
        return json.loads(blocks[0])


def head_of(client, url: str, **extra) -> Head:
    response = client.get(url, **extra)
    assert response.status_code == 200, url
    return Head(response.content.decode())


def variant(sample_text: str, number: int, title: str | None = None, **replacements) -> Article:
    title = title or f"variant {number} of the rollback checklist"
    return import_variant(number, title, series="0003", text=sample_text, **replacements)


# -- titles --------------------------------------------------------------------------------------


@given(st.text(alphabet=st.sampled_from("ab cdé:/-·\t"), max_size=150))
def test_page_titles_fit_70_characters_and_cut_on_a_word_boundary(text):
    title = seo.page_title(text)
    words = " ".join(text.split())
    assert len(title) <= seo.TITLE_MAX
    if not words:
        assert title == seo.SITE_NAME
    elif title.endswith(seo.ELLIPSIS):
        kept = title[: -len(seo.ELLIPSIS)]
        assert kept and words.startswith(kept)
        # Cut where a word ends (before a space or a separator), or, with no such place, hard.
        assert words[len(kept)] in " ,;:·-–—" or kept == words[: seo.TITLE_MAX - 1]
    else:
        assert title in (words, f"{words} · {seo.SITE_NAME}")


def test_a_short_title_keeps_the_site_name_and_a_long_one_is_cut_before_a_word():
    assert seo.page_title("Latest articles") == "Latest articles · Release knowledge base"
    assert seo.page_title(LONG_TITLE) == "production checklist for creating rollback friendly releases in…"
    assert seo.page_title("x" * 100) == "x" * 69 + "…"


def test_the_article_title_tag_stays_within_70_characters_and_the_h1_has_it_whole(client, sample_article):
    head = head_of(client, sample_article.get_absolute_url())
    assert sample_article.title == LONG_TITLE
    assert len(head.title) <= 70 and head.title.endswith("…")
    assert LONG_TITLE.startswith(head.title[:-1])
    assert head.h1 == LONG_TITLE
    assert head.one("og:title") == LONG_TITLE


# -- the article page ----------------------------------------------------------------------------


def test_the_article_page_carries_a_tech_article_as_json_ld(client, sample_article):
    head = head_of(client, sample_article.get_absolute_url())
    data = head.json_ld()
    url = f"http://testserver{sample_article.get_absolute_url()}"
    card = f"http://testserver/articles/{sample_article.slug}/card.png"
    assert data["@context"] == "https://schema.org" and data["@type"] == "TechArticle"
    assert data["headline"] == sample_article.title
    assert data["description"] == sample_article.summary
    assert data["image"] == card == head.one("og:image")
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert data["url"] == url == head.canonical() == head.one("og:url")
    assert data["author"]["name"] == data["publisher"]["name"] == "Release knowledge base"
    assert data["publisher"]["@type"] == "Organization"
    published = dt.datetime.fromisoformat(data["datePublished"])
    assert abs(published - sample_article.published_at) < dt.timedelta(seconds=1)
    assert data["datePublished"] == head.one("article:published_time")
    assert data["dateModified"] == head.one("article:modified_time")
    assert "fastapi" in data["keywords"]


def test_the_article_page_has_site_name_image_alt_and_times(client, sample_article):
    head = head_of(client, sample_article.get_absolute_url())
    assert head.one("og:site_name") == "Release knowledge base"
    assert head.one("og:type") == "article"
    assert head.one("og:image:alt").startswith(sample_article.title)
    assert head.one("twitter:card") == "summary_large_image"
    for name in ("article:published_time", "article:modified_time"):
        moment = dt.datetime.fromisoformat(head.one(name))
        assert moment.tzinfo is not None, name


def test_json_ld_text_cannot_end_the_script_element(client, sample_text):
    title = 'a </script><script>alert(1)</script> <!-- & "quoted" title'
    article = variant(sample_text, 1, title)
    body = client.get(article.get_absolute_url()).content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    assert "\\u003c/script\\u003e" in block
    assert json.loads(block)["headline"] == title
    assert "<script>alert" not in body


def _set_live_times(article: Article, moment: dt.datetime) -> None:
    """Move the article's first publication and its live revision back in time."""
    Article.objects.filter(pk=article.pk).update(published_at=moment)
    live = Release.objects.get(article=article).live_revision_id
    Revision.objects.filter(pk=live).update(created_at=moment)


def test_published_and_modified_times_follow_the_live_version_only(
    client, sample_article, sample_text, editor, reviewer
):
    then = timezone.now().replace(microsecond=0) - dt.timedelta(days=30)
    _set_live_times(sample_article, then)
    url = sample_article.get_absolute_url()
    before = head_of(client, url)
    assert before.one("article:published_time") == before.one("article:modified_time") == then.isoformat()

    # Unpublished work: an import kept as pending (same version, new text), then an editor's
    # change to it, its review and approval. Each of them changes the article's row.
    pending_import = import_document(
        sample_text.replace("this ai-style technical summary", "an imported summary").encode(),
        path="again.txt",
    )
    assert pending_import.outcome == "updated", pending_import.errors
    assert Article.objects.get(pk=sample_article.pk).updated_at > then
    content = services.pending_content(sample_article)
    services.article_edit(article=sample_article, user=editor, content={**content, "summary": "new words"})
    services.article_submit(article=sample_article, user=editor)
    services.article_approve(article=sample_article, user=reviewer)

    for url_ in (url, url + "?revision=1.5.4"):
        client.force_login(reviewer)
        staff = head_of(client, url_)
        assert staff.one("article:modified_time") == then.isoformat(), url_
        client.logout()
    after = head_of(client, url)
    assert after.one("article:published_time") == then.isoformat()
    assert after.one("article:modified_time") == then.isoformat()
    assert after.json_ld()["dateModified"] == then.isoformat()

    # Publishing makes a new live version: the modified time moves, the first publication stays.
    services.article_publish(article=Article.objects.get(pk=sample_article.pk), user=reviewer, note="go")
    live = Release.objects.select_related("live_revision").get(article=sample_article).live_revision
    published = head_of(client, url)
    assert published.one("article:published_time") == then.isoformat()
    modified = published.one("article:modified_time")
    assert modified == live.created_at.astimezone(dt.UTC).isoformat(timespec="seconds") != then.isoformat()


# -- home, browse and search ---------------------------------------------------------------------


@pytest.fixture
def many(sample_article, sample_text):
    """21 more live articles: two pages of 20 on the home page and the shared tags' pages."""
    return [variant(sample_text, number) for number in range(10, 31)]


LIST_PAGES = {
    "/": "http://testserver/",
    "/?page=1": "http://testserver/",
    "/?page=2": "http://testserver/?page=2",
    "/?difficulty=advanced&utm_source=mail&stack=": "http://testserver/?difficulty=advanced",
    "/?tool=fastapi&page=2": "http://testserver/?tool=fastapi&page=2",
    "/stack/python/": "http://testserver/stack/python/",
    "/stack/python/?page=2&ref=x": "http://testserver/stack/python/?page=2",
    "/tools/pytest/": "http://testserver/tools/pytest/",
    "/entities/area/backend/": "http://testserver/entities/area/backend/",
    "/search/": "http://testserver/search/",
    "/search/?q=rollback+checklist": "http://testserver/search/?q=rollback+checklist",
    "/search/?q=rollback+checklist&page=2": "http://testserver/search/?q=rollback+checklist&page=2",
}


def test_list_pages_have_a_self_referencing_canonical_keeping_the_meaningful_query(client, many):
    for url, canonical in LIST_PAGES.items():
        head = head_of(client, url)
        assert head.canonical() == canonical, url
        assert head.one("og:url") == canonical, url


def test_list_pages_have_their_own_description_title_and_open_graph_tags(client, many):
    descriptions, titles = {}, {}
    for url in LIST_PAGES:
        if url == "/?page=1":  # the same page as "/", by its canonical URL
            continue
        head = head_of(client, url)
        descriptions[url] = head.one("description")
        titles[url] = head.title
        assert head.one("og:type") == "website", url
        assert head.one("og:site_name") == "Release knowledge base", url
        assert head.one("og:description") == descriptions[url], url
        assert head.one("og:title") and head.title.startswith(head.one("og:title")[:20]), url
        assert 0 < len(head.title) <= 70 and 0 < len(descriptions[url]) <= 200, url
    assert len(set(descriptions.values())) == len(descriptions), descriptions
    assert len(set(titles.values())) == len(titles), titles
    assert "Page 2 of 2" in descriptions["/?page=2"]
    assert "22 articles" in descriptions["/"]
    assert "rollback checklist" in descriptions["/search/?q=rollback+checklist"]
    assert "python" in descriptions["/stack/python/"] and "pytest" in descriptions["/tools/pytest/"]


def test_search_pages_stay_out_of_indexes_and_list_pages_do_not(client, many):
    assert head_of(client, "/search/?q=rollback").one("robots") == "noindex"
    for url in ("/", "/stack/python/", "/?page=2"):
        assert "robots" not in head_of(client, url).meta, url


def test_a_search_for_hostile_text_is_escaped_in_every_tag(client, sample_article):
    query = '"><script>alert(1)</script>'
    response = client.get("/search/", {"q": query})
    body = response.content.decode()
    assert "<script>alert" not in body
    head = Head(body)
    assert head.canonical() == "http://testserver/search/?q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"
    assert query in head.one("description")


def test_query_budgets_hold_with_the_head(client, many, django_assert_max_num_queries):
    for url in ("/", "/stack/python/", "/search/?q=checklist", many[0].get_absolute_url()):
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200


def test_every_page_links_the_favicon(client, sample_article):
    for url in ("/", sample_article.get_absolute_url(), "/search/"):
        icons = head_of(client, url).links.get("icon") or []
        assert {urlsplit(href).path for href in icons} == {"/static/favicon.svg", "/static/favicon.ico"}, url
    svg = Path(finders.find("favicon.svg")).read_text()
    assert svg.startswith("<svg") and 'viewBox="0 0 32 32"' in svg


def test_favicon_ico_is_served_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age" in response["Cache-Control"]

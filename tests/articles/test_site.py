"""The reader site with the Django test client: every page, the meta box, safety, query budgets."""

import html
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from articles.models import Article
from releases import services
from releases.importing import import_document
from tests.conftest import commit_read_cache_bumps

pytestmark = pytest.mark.django_db

META = json.loads((Path(__file__).parent / "meta_example.json").read_text())
HOSTILE_TITLE = "<script>alert(1)</script> {{ 7|add:7 }} hostile"
VARIANT_2_TITLE = (
    "variant 2 checklist for creating rollback friendly releases in python services: maintenance guide"
)


def variant(sample_text, number, **replacements):
    text = sample_text.replace("anp-ref-035445-8950", f"anp-ref-{number:06d}-0000")
    text = text.replace(
        "production checklist for creating rollback", f"variant {number} checklist for creating rollback", 1
    )
    for old, new in replacements.items():
        text = text.replace(old, new)
    result = import_document(text.encode(), path=f"v{number}.txt")
    assert result.outcome == "created", result.errors
    return Article.objects.get(pk=result.article_id)


@pytest.fixture
def draft(sample_text):
    return variant(sample_text, 1, **{"needs human review: 0": "needs human review: 1"})


@pytest.fixture
def hostile(sample_text):
    return variant(
        sample_text,
        2,
        **{
            VARIANT_2_TITLE: HOSTILE_TITLE,
            "visual reference 1": 'visual reference 1 <img src=x onerror="alert(3)">',
            "checklist\n  • capture": "checklist\n  • {{ 7|add:7 }} <b>bold</b>\n  • capture",
            "notes\n  • sanitized": "notes\n  • <script>alert(2)</script>\n  • sanitized",
        },
    )


def text_of(response) -> str:
    return response.content.decode()


def test_article_page_shows_every_field_of_the_meta_box(client, sample_article):
    page = text_of(client.get(sample_article.get_absolute_url()))
    assert f"<h1>{META['title']}</h1>" in page
    for key in ("topic", "summary", "brief", "code_language", "difficulty", "reference", "hash"):
        assert str(META[key]) in page, key
    for key in ("stack", "tools", "checklist", "notes"):
        for item in META[key]:
            assert re.search(rf"<li>(<a [^>]+>)?{re.escape(item)}(</a>)?</li>", page), (key, item)
    for value in META["outline"].values():
        assert value in page
    for entity in META["entities"]:
        assert entity["name"] in page and f"({entity['type']})" in page
    for image in META["image_sources"]:
        assert image["caption"] in page
    for name, value in META["scores"].items():
        assert re.search(rf'<meter id="score-{name}"[^>]*value="{value}"', page), name
    assert "590,939" in page  # thousands separators
    assert "1.5.4" in page and "2026-06-28" in page and "reviewed" in page
    assert "needs human review: no" in page and "has images: yes" in page
    for value in META["payload"].values():
        assert str(value) in page


def test_article_body_blocks_render_in_order(client, sample_article):
    page = text_of(client.get(sample_article.get_absolute_url()))
    body = page[page.index('class="article-body"') : page.index('class="meta-box"')]
    positions = [
        body.index("a reliable python services setup"),
        body.index("<figure>"),
        body.index("<h2>production checks</h2>"),
        body.index('class="highlight"'),
        body.index("<li>capture the current behavior</li>"),
        body.index("<h2>final notes</h2>"),
    ]
    assert positions == sorted(positions)
    assert 'loading="lazy"' in body and 'referrerpolicy="no-referrer"' in body
    assert 'width="1200" height="630"' in body
    assert "image source: unsplash" in body
    assert re.search(
        r'<img [^>]*alt="creating rollback friendly releases with python services visual reference 1"', body
    )


def test_similar_posts_link_only_to_live_articles(client, sample_article, sample_text, draft):
    live = variant(sample_text, 3)
    page = text_of(client.get(sample_article.get_absolute_url()))
    similar = page[page.index('id="similar-title"') :]
    assert live.get_absolute_url() in similar
    assert draft.get_absolute_url() not in similar
    assert sample_article.get_absolute_url() not in similar


def test_hostile_text_is_shown_literally(client, hostile):
    response = client.get(hostile.get_absolute_url())
    page = text_of(response)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7|add:7 }}" in page and ">14<" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert 'onerror="alert(3)"' not in page
    for url in ("/", "/search/?q=hostile", "/feed/", "/sitemap.xml"):
        body = text_of(client.get(url))
        assert "<script>alert" not in body, url


def test_non_http_urls_are_never_rendered(client, sample_article, editor, reviewer):
    content = services.pending_content(sample_article)
    images = [dict(image) for image in content["image_sources"]]
    content = {**content, "image_sources": images}
    images[0]["url"] = "javascript:alert(1)"
    with pytest.raises(services.InvalidContent):
        services.article_edit(article=sample_article, user=editor, content=content)
    page = text_of(client.get(sample_article.get_absolute_url()))
    assert "javascript:" not in page


def test_drafts_are_404_for_readers_and_previewable_by_staff(client, draft, sample_article, editor, reviewer):
    assert client.get(draft.get_absolute_url()).status_code == 404
    client.force_login(reviewer)
    page = text_of(client.get(draft.get_absolute_url()))
    assert '<meta name="robots" content="noindex">' in page
    services.article_edit(
        article=sample_article,
        user=editor,
        content={**services.pending_content(sample_article), "summary": "NEW"},
    )
    preview = text_of(client.get(sample_article.get_absolute_url() + "?revision=1.5.4"))
    assert "Preview of version 1.5.4" in preview
    assert client.get(sample_article.get_absolute_url() + "?revision=9.9.9").status_code == 404
    client.logout()
    anonymous = text_of(client.get(sample_article.get_absolute_url() + "?revision=1.5.4"))
    assert "Preview of version" not in anonymous and "noindex" not in anonymous


def test_archived_articles_disappear_everywhere(client, sample_article, reviewer):
    services.article_archive(article=sample_article, user=reviewer, note="gone")
    assert client.get(sample_article.get_absolute_url()).status_code == 404
    for url in ("/", "/feed/", "/sitemap.xml", "/stack/python/"):
        assert sample_article.slug not in text_of(client.get(url)), url


def test_home_lists_filters_and_paginates(client, sample_article, sample_text):
    for number in range(10, 32):
        variant(sample_text, number, **{"difficultyadvanced": "difficultybeginner"} if number % 2 else {})
    first = text_of(client.get("/"))
    assert first.count('class="article-card"') == 20 and 'rel="next"' in first
    beginner = text_of(client.get("/?difficulty=beginner"))
    assert beginner.count('class="article-card"') == 11
    assert "variant 11 checklist" in beginner and "variant 10 checklist" not in beginner
    tool = text_of(client.get("/?tool=fastapi&page=2"))
    assert tool.count('class="article-card"') == 3


def test_cards_link_each_articles_tags_and_show_their_names_as_text(client, sample_article, sample_text):
    hostile = variant(sample_text, 3, **{"  • backend\n": "  • <b>back</b>end & co\n"})
    page = text_of(client.get("/"))
    cards = re.findall(r'<li class="article-card">(.*?)</ul>', page, re.S)
    assert len(cards) == 2 and hostile.get_absolute_url() in cards[0]  # newest first
    tools = ["fastapi", "pytest", "uvicorn", "ruff", "git", "logs"]  # the sample's tools
    for card, stack in zip(
        cards,
        (["python services", "<b>back</b>end & co", "python"], ["python services", "backend", "python"]),
        strict=True,
    ):
        links = re.findall(r'<li><a href="([^"]+)" class="tag tag-(\w+)">([^<]*)</a></li>', card)
        names = {
            kind: [html.unescape(name) for _, k, name in links if k == kind] for kind in ("stack", "tool")
        }
        assert names == {"stack": stack, "tool": tools}
        assert all(
            re.fullmatch(rf"/{'stack' if kind == 'stack' else 'tools'}/[-a-z0-9]+/", url)
            for url, kind, _ in links
        )
        assert ("/stack/python-services/", "stack", "python services") in links
        assert ("/tools/fastapi/", "tool", "fastapi") in links
    assert "&lt;b&gt;back&lt;/b&gt;end &amp; co" in cards[0] and "<b>back" not in page


def test_home_filters_offer_the_live_choices_and_keep_the_chosen_ones(client, sample_article, sample_text):
    variant(
        sample_text,
        4,
        **{"  • backend\n": "  • <b>back</b>end & co\n", "difficultyadvanced": "difficultybeginner"},
    )
    page = text_of(client.get("/?stack=backend&difficulty=beginner&tool=no-such-tool"))
    selects = dict(re.findall(r'<select name="(\w+)">(.*?)</select>', page, re.S))
    offered = {
        name: re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html_)
        for name, html_ in selects.items()
    }
    assert offered["stack"][0] == ("", "", "any")
    assert ("backend", " selected", "backend") in offered["stack"]
    assert [text for _, _, text in offered["stack"] if "back" in text and "&" in text] == [
        "&lt;b&gt;back&lt;/b&gt;end &amp; co"
    ]
    assert offered["difficulty"] == [
        ("", "", "any"),
        ("advanced", "", "advanced"),
        ("beginner", " selected", "beginner"),
    ]
    assert ("fastapi", "", "fastapi") in offered["tool"]
    assert not any(chosen for _, chosen, _ in offered["tool"] + offered["code_language"])
    assert "<b>back" not in page


def test_browse_pages(client, sample_article):
    for url in (
        "/stack/python-services/",
        "/tools/fastapi/",
        "/entities/problem/creating-rollback-friendly-releases/",
    ):
        page = text_of(client.get(url))
        assert sample_article.get_absolute_url() in page, url
    assert client.get("/stack/no-such-stack/").status_code == 404
    assert client.get("/entities/stack/nothing/").status_code == 404


def test_search_covers_title_topic_summary_checklist_tags_and_body(client, sample_article):
    for query in (
        "production checklist",
        "rollback friendly / python",
        "maintainable documentation",
        "safe backup",
        "uvicorn",
        "idempotent cron events",
    ):
        assert sample_article.get_absolute_url() in text_of(client.get("/search/", {"q": query})), query
    assert "No articles found" in text_of(client.get("/search/", {"q": "kubernetes"}))


def test_feed_sitemap_and_robots(client, sample_article, draft):
    feed = text_of(client.get("/feed/"))
    assert "<feed" in feed and sample_article.slug in feed and draft.slug not in feed
    sitemap = client.get("/sitemap.xml")
    body = text_of(sitemap)
    assert sample_article.slug in body and draft.slug not in body and "<lastmod>" in body
    robots = client.get("/robots.txt")
    assert robots["Content-Type"] == "text/plain" and "Sitemap:" in text_of(robots)


def test_social_card_is_a_1200x630_png_and_is_redrawn_when_the_article_changes(
    client, sample_article, media_root, editor, reviewer
):
    response = client.get(f"/articles/{sample_article.slug}/card.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (1200, 630)
    cards = list((media_root / "cards").glob("*.png"))
    assert len(cards) == 1
    services.article_edit(
        article=sample_article,
        user=editor,
        content={**services.pending_content(sample_article), "title": "new"},
    )
    services.article_submit(article=sample_article, user=editor)
    services.article_approve(article=sample_article, user=reviewer)
    services.article_publish(article=sample_article, user=reviewer, note="n")
    again = client.get(f"/articles/{Article.objects.get(pk=sample_article.pk).slug}/card.png")
    assert again.content != response.content
    assert len(list((media_root / "cards").glob("*.png"))) == 2
    page = text_of(client.get(sample_article.get_absolute_url()))
    assert f'property="og:image" content="http://testserver/articles/{sample_article.slug}/card.png"' in page
    assert 'name="twitter:card" content="summary_large_image"' in page


def test_security_headers(client, sample_article):
    response = client.get(sample_article.get_absolute_url())
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    # No script runs from the page: its one script element is the JSON-LD data block.
    assert re.findall(r"<script\b[^>]*>", text_of(response)) == ['<script type="application/ld+json">']
    assert "style=" not in text_of(response)


def test_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "Page not found" in text_of(response)


def test_friendly_500(client, settings):
    settings.ROOT_URLCONF = "tests.articles.failing_urls"
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500 and "Something went wrong" in text_of(response)


def test_query_budgets(client, sample_article, sample_text, django_assert_max_num_queries):
    for number in range(40, 65):
        variant(sample_text, number)
    commit_read_cache_bumps()  # the imports' invalidations, as their commits would run them
    with django_assert_max_num_queries(8):
        assert client.get(sample_article.get_absolute_url()).status_code == 200
    for url in ("/", "/stack/python/", "/tools/pytest/", "/search/?q=checklist", "/entities/area/backend/"):
        with django_assert_max_num_queries(8):
            response = client.get(url)
        assert response.status_code == 200
    assert text_of(client.get("/")).count('class="article-card"') == 20

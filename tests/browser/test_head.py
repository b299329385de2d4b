"""The head of the reader pages in a real Chromium, under the real Content-Security-Policy: the
JSON-LD data block, the favicon, article images from the allowed hosts only, gzip."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import ConsoleMessage, Page, expect

from articles.models import Article
from releases.importing import import_document

SAMPLE = (
    Path(__file__).resolve().parents[2] / "articles/fixtures/samples/anp-ref-035445-8950.txt"
).read_text()


def import_sample(**replacements) -> Article:
    text = SAMPLE
    for old, new in replacements.items():
        text = text.replace(old, new)
    result = import_document(text.encode(), path="sample.txt")
    assert result.outcome == "created", result.errors
    return Article.objects.get(pk=result.article_id)


def test_the_article_page_runs_under_the_csp_with_its_json_ld_images_and_icon(
    page: Page, outside_requests: list[str]
):
    """The `page` fixture fails the test on any console error, CSP violations included."""
    article = import_sample()

    response = page.goto(article.get_absolute_url())
    page.wait_for_load_state("load")

    assert response is not None and response.status == 200
    assert response.headers.get("content-encoding") == "gzip"  # Chromium accepts gzip; a reader page
    block = page.locator('script[type="application/ld+json"]')
    expect(block).to_have_count(1)
    data = json.loads(block.text_content())
    assert data["@type"] == "TechArticle" and data["headline"] == article.title
    assert data["image"] == page.locator('meta[property="og:image"]').get_attribute("content")
    # Article images load lazily: bring each into view, then every one has come from its host (a
    # stand-in answer) because the CSP let it through.
    figures = page.locator(".article-body figure img")
    expect(figures).to_have_count(4)
    for index in range(4):
        figures.nth(index).scroll_into_view_if_needed()
    page.wait_for_function("[...document.images].every(image => image.complete)")
    images = [urlsplit(url).hostname for url in outside_requests]
    assert sorted(set(images)) == sorted({"images.unsplash.com", "loremflickr.com", "dummyimage.com"})
    assert page.evaluate("[...document.images].every(image => image.complete && image.naturalWidth > 0)")
    # Both icons the page links, and the /favicon.ico browsers ask for on their own, load.
    icons = page.locator('link[rel="icon"]')
    expect(icons).to_have_count(2)
    for href in [icons.nth(index).get_attribute("href") for index in range(2)] + ["/favicon.ico"]:
        icon = page.request.get(href)
        assert icon.status == 200 and icon.headers["content-type"].startswith("image/"), href


@pytest.mark.allow_console_errors  # the refused image is reported on the console, as it should be
def test_an_image_from_a_host_not_in_image_hosts_is_refused(page: Page, outside_requests: list[str]):
    assert "images.example.net" not in settings.IMAGE_HOSTS
    article = import_sample(
        **{"https://dummyimage.com/1200x630/111827/ffffff.png": "https://images.example.net/1200x630.png"}
    )
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))

    page.goto(article.get_absolute_url())
    for image in page.locator(".article-body figure img").all():
        image.scroll_into_view_if_needed()
    page.wait_for_function("[...document.images].every(image => image.complete)")

    hosts = {urlsplit(url).hostname for url in outside_requests}
    assert "images.example.net" not in hosts and "images.unsplash.com" in hosts
    refused = [m.text for m in messages if m.type == "error" and "images.example.net" in m.text]
    assert refused and "Content Security Policy" in refused[0], [m.text for m in messages]


def test_the_browse_and_search_pages_carry_their_canonical_and_open_graph_tags(page: Page):
    import_sample()
    for path in ("/", "/stack/python/", "/search/?q=rollback"):
        page.goto(path)
        canonical = page.locator('link[rel="canonical"]')
        expect(canonical).to_have_count(1)
        assert canonical.get_attribute("href") == page.url, path
        assert page.locator('meta[property="og:url"]').get_attribute("content") == page.url, path
        assert (
            page.locator('meta[property="og:site_name"]').get_attribute("content") == "Release knowledge base"
        )
        assert len(page.title()) <= 70

"""A reader's path in a real browser: home, an article, its meta box and similar posts, a tag, search."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from articles.models import Article
from releases.importing import import_document
from tests.conftest import import_variant as shared_import_variant

SAMPLE = (
    Path(__file__).resolve().parents[2] / "articles/fixtures/samples/anp-ref-035445-8950.txt"
).read_text()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"


def import_variant(number: int, title: str, **replacements) -> Article:
    return shared_import_variant(number, title, series="0001", **replacements)


def test_reader_follows_an_article_its_meta_box_similar_posts_a_tag_and_search(page: Page):
    sample = Article.objects.get(pk=import_document(SAMPLE.encode(), path="sample.txt").article_id)
    neighbour = import_variant(1, "zero downtime rollbacks for python services")
    hidden = import_variant(
        2, "a draft nobody should see", **{"needs human review: 0": "needs human review: 1"}
    )

    page.goto("/")
    expect(page.locator("h1")).to_have_text("Latest articles")
    expect(page.locator(".article-card")).to_have_count(2)
    expect(page.get_by_role("link", name=hidden.title)).to_have_count(0)

    page.get_by_role("link", name=sample.title).click()
    expect(page).to_have_url(re.compile(re.escape(sample.get_absolute_url()) + "$"))
    expect(page.locator("h1")).to_have_text(sample.title)
    meta_box = page.locator(".meta-box")
    expect(meta_box.locator(".checklist li")).to_have_count(5)
    expect(meta_box.locator(".tags").first.locator("li")).to_have_count(3)
    expect(meta_box.locator("meter")).to_have_count(4)
    expect(meta_box).to_contain_text("590,939")
    expect(page.locator(".article-body .highlight")).to_contain_text("FastAPI")
    expect(page.locator(".article-body figure img")).to_have_count(4)
    similar = page.locator(".similar li a")
    expect(similar).to_have_count(1)
    expect(similar.first).to_have_text(neighbour.title)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sample-article.png"), full_page=True)

    page.locator(".breadcrumbs").get_by_role("link", name="fastapi").click()
    expect(page.locator("h1")).to_have_text("Tool: fastapi")
    expect(page.locator(".article-card")).to_have_count(2)

    page.locator("#site-search").fill("safe backup")
    page.locator("#site-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=safe\+backup"))
    expect(page.locator(".search-summary")).to_contain_text("2 results")


def test_filters_work_without_javascript(browser, live_server):
    import_variant(3, "an advanced article")
    import_variant(4, "a beginner article", **{"difficultyadvanced": "difficultybeginner"})
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/")
        page.locator("select[name=difficulty]").select_option("beginner")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator(".article-card")).to_have_count(1)
        expect(page.locator(".article-card h2")).to_have_text("a beginner article")
    finally:
        context.close()

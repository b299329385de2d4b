"""The API's HTML pages in a real browser, under the site's Content-Security-Policy: the browsable
API (its root, the article list, an article's detail) and the Swagger UI reference at /api/docs/.

The ``page`` fixture fails a test on any console error, uncaught page error or CSP violation, so
each test also proves that nothing on these pages needs inline script or style.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from config.security import CONTENT_SECURITY_POLICY

SAMPLE_PATH = (
    Path(__file__).resolve().parents[2] / "articles" / "fixtures" / "samples" / "anp-ref-035445-8950.txt"
)


@pytest.fixture
def article():
    from articles.models import Article
    from releases.importing import import_document

    result = import_document(SAMPLE_PATH.read_bytes(), path="sample.txt")
    assert result.outcome == "created", result.errors
    return Article.objects.get(pk=result.article_id)


def test_the_policy_allows_no_inline_code():
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY


def expect_browsable_page(page: Page, path: str, title: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.locator(".page-header h1")).to_have_text(title)
    expect(page.locator(".response-info")).to_contain_text("HTTP 200 OK")
    # DRF's stylesheets and scripts came from the app's static files and ran.
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") != "none"
    assert page.evaluate("typeof window.jQuery") == "function"


def test_anonymous_visitors_get_the_entry_points_and_a_sign_in_link(page: Page, article):
    expect_browsable_page(page, "/api/", "Api Root")
    for name in ("articles", "imports", "schema", "docs"):
        expect(page.locator(".response-info")).to_contain_text(f'"{name}"')
    sign_in = page.locator("a.api-sign-in")
    expect(sign_in).to_have_attribute("href", "/admin/login/?next=/api/")

    expect_browsable_page(page, "/api/articles/", "Article List")
    expect(page.locator(".response-info")).to_contain_text(article.slug)
    expect(page.locator("a.api-sign-in")).to_have_attribute("href", "/admin/login/?next=/api/articles/")


def test_staff_sign_in_from_the_api_and_read_an_article(page: Page, article, django_user_model):
    django_user_model.objects.create_user("desk", password="pw-desk-browser", is_staff=True)

    page.goto("/api/articles/")
    with page.expect_navigation():
        page.locator("a.api-sign-in").click()
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/api/articles/$"))
    page.locator("#id_username").fill("desk")
    page.locator("#id_password").fill("pw-desk-browser")
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/api/articles/$"))
    expect(page.locator(".navbar")).to_contain_text("desk")
    expect(page.locator(".api-sign-out button")).to_be_visible()

    expect_browsable_page(page, f"/api/articles/{article.slug}/", "Article Instance")
    expect(page.locator(".response-info")).to_contain_text(f'"reference": "{article.reference}"')
    # The similar posts action, in the menu DRF drew with an inline style before.
    expect(page.locator(".api-extra-actions")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.api-extra-actions')).float") == "right"

    with page.expect_navigation():
        page.locator(".api-sign-out button").click()
    page.goto("/api/")
    expect(page.locator("a.api-sign-in")).to_be_visible()


def test_swagger_ui_renders_every_operation(page: Page, article):
    response = page.goto("/api/docs/")
    assert response is not None and response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Release knowledge base API")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    summaries = {
        (
            block.locator(".opblock-summary-method").inner_text(),
            block.locator(".opblock-summary-path").inner_text(),
        )
        for block in operations.all()
    }
    assert ("GET", "/api/articles/") in summaries
    assert ("PATCH", "/api/articles/{slug}/") in summaries
    assert ("POST", "/api/articles/{slug}/rollback/") in summaries
    assert ("POST", "/api/imports/") in summaries
    assert len(summaries) == 12
    # The page's own rules came from its stylesheet, not an inline one.
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"

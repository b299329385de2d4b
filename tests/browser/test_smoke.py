"""Smoke tests in a real browser: the admin sign-in, the health probe and a reader's article page."""

import json
import re
from pathlib import Path

import pytest
from django.contrib import admin
from playwright.sync_api import Page, expect

SAMPLE_PATH = (
    Path(__file__).resolve().parents[2] / "articles" / "fixtures" / "samples" / "anp-ref-035445-8950.txt"
)


def test_admin_login_page_renders_and_a_superuser_signs_in(page: Page, admin_login, django_user_model):
    django_user_model.objects.create_superuser(username="root", password="pw-root-browser")

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator("#id_password")).to_be_visible()
    # The admin's stylesheet comes through the live server's static files handler.
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).display") != "none"
    assert page.evaluate("[...document.styleSheets].some(s => s.href && s.href.includes('/static/admin/'))")

    admin_login("root", "pw-root-browser")

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("h1")).to_have_text(str(admin.site.index_title))
    expect(page.locator("#user-tools")).to_contain_text("root")
    expect(page.locator("#logout-form")).to_be_attached()
    expect(page.locator("#content-main")).to_be_visible()


def test_admin_login_rejects_a_wrong_password(page: Page, django_user_model):
    django_user_model.objects.create_superuser(username="root", password="pw-root-browser")

    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill("root")
    page.locator("#id_password").fill("not-the-password")
    page.locator("#login-form [type=submit]").click()

    expect(page.locator(".errornote")).to_contain_text("correct username and password")
    expect(page).to_have_url(re.compile(r"/admin/login/"))


def test_health_answers_json_ok(page: Page):
    response = page.goto("/health")

    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(page.locator("body").inner_text()) == {"ok": True, "database": "ok"}


def test_article_page_shows_the_imported_article(page: Page):
    from articles.models import Article
    from releases.importing import import_document

    result = import_document(SAMPLE_PATH.read_bytes(), path="sample.txt")
    assert result.outcome == "created", result.errors
    article = Article.objects.get()

    response = page.goto(f"/articles/{article.slug}/")

    assert response is not None and response.status == 200
    expect(page.locator("article h1")).to_have_text(article.title)
    expect(page.locator("article h1")).to_be_visible()
    # The title is the article's, shortened to 70 characters on a word boundary; the h1 has it whole.
    title = page.title()
    assert len(title) <= 70 and title.endswith("…") and article.title.startswith(title[:-1])
    expect(page.locator("article").first).to_contain_text("repeatable habits")
    # The site stylesheet loaded (served by the live server's static files handler).
    assert page.evaluate(
        "[...document.styleSheets].some(s => s.href && s.href.endsWith('/static/css/site.css'))"
    )


@pytest.mark.allow_console_errors  # Chromium logs the 404 response as a console error.
def test_unknown_article_is_a_404(page: Page):
    response = page.goto("/articles/no-such-article/")

    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text(re.compile("not found", re.IGNORECASE))

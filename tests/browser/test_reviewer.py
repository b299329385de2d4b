"""A reviewer's path in a real browser: queue, compare, approve, publish, see it live, roll back."""

import re
from pathlib import Path

from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from articles.models import Article
from releases import services
from releases.importing import import_document

SAMPLE = (
    Path(__file__).resolve().parents[2] / "articles/fixtures/samples/anp-ref-035445-8950.txt"
).read_bytes()


def test_reviewer_approves_publishes_and_rolls_back(page: Page, admin_login, django_user_model):
    editor = django_user_model.objects.create_user(username="edith", password="pw-edith", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    reviewer = django_user_model.objects.create_user(
        username="rita", password="pw-rita-browser", is_staff=True
    )
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    article = Article.objects.get(pk=import_document(SAMPLE, path="sample.txt").article_id)
    content = services.pending_content(article)
    services.article_edit(
        article=article, user=editor, content={**content, "summary": "a clearer summary for readers"}
    )
    services.article_submit(article=article, user=editor, note="please review")

    admin_login("rita", "pw-rita-browser")
    expect(page.locator("#review-queue-summary")).to_contain_text("1 article waiting for you")
    page.locator("#review-queue-summary .desk-waiting a").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("In review")
    page.get_by_role("link", name=article.title).click()

    page.get_by_role("link", name="Compare live ↔ pending").click()
    expect(page.locator("table.compare")).to_contain_text("Summary")
    expect(page.locator("table.compare ins")).to_have_text(["a clearer", "for readers"])
    expect(page.locator("table.compare del").first).to_contain_text("this ai-style")
    page.go_back()

    page.locator(".workflow-actions").get_by_role("link", name="Approve").click()
    page.locator("#id_note").fill("reads well")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".messagelist")).to_contain_text("approved.")
    expect(page.locator(".review-state")).to_have_text("Approved")

    page.locator(".workflow-actions").get_by_role("link", name="Publish").click()
    page.locator("#id_note").fill("clearer summary")
    page.locator("#id_bump").select_option("minor")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".messagelist")).to_contain_text("published as version 1.6.0")
    expect(page.locator("#workflow-status")).to_contain_text("Version 1.6.0")

    page.goto(article.get_absolute_url())
    expect(page.locator(".meta-box")).to_contain_text("a clearer summary for readers")
    expect(page.locator(".meta-box")).to_contain_text("1.6.0")

    page.go_back()
    first = page.locator("#revision-history tr", has_text="1.5.4").filter(has_text="Import")
    first.get_by_role("link", name="Roll back to this version").click()
    page.locator("#id_note").fill("readers preferred the original")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".messagelist")).to_contain_text("live as version 1.6.1")
    expect(page.locator("#workflow-status")).to_contain_text("Version 1.6.1")

    page.goto(article.get_absolute_url())
    expect(page.locator(".meta-box")).to_contain_text("this ai-style technical summary")
    expect(page.locator(".meta-box")).not_to_contain_text("a clearer summary")
    expect(page).to_have_url(re.compile(re.escape(article.get_absolute_url())))

"""The editor's desk in a real browser, at a desktop width and a phone width: an editor and a reviewer
take one article from an edit through review, changes requested, approval, a scheduled publish and a
rollback. Each page offers only the actions that apply to the person looking and says why the others
are not offered; no page is wider than the window; axe-core finds no serious or critical violation.

Screenshots of each step go to test-output/desk/<width>/<step>.png (git ignores test-output/).
"""

import datetime as dt
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from articles.models import Article
from releases import services
from releases.importing import import_document
from releases.models import Revision, Schedule, ScheduleState
from tests.browser.layout import assert_no_sideways_scroll
from tests.browser.test_accessibility import assert_accessible

BASE_DIR = Path(__file__).resolve().parents[2]
SAMPLE = (BASE_DIR / "articles/fixtures/samples/anp-ref-035445-8950.txt").read_text()
OUTPUT = BASE_DIR / "test-output" / "desk"
# Width and height of the window: a desktop, and a phone held upright.
VIEWPORTS = {1280: 900, 390: 844}

EDITOR = ("edith", "pw-edith-desk")
REVIEWER = ("rita", "pw-rita-desk")
ORIGINAL_SUMMARY = "this ai-style technical summary"
FIRST_SUMMARY = "a clearer summary for readers"
SECOND_SUMMARY = "a clearer summary for readers of the 2.x release line"
COMMENT = "Say which release line this applies to."


@pytest.fixture(params=list(VIEWPORTS), ids=lambda width: f"{width}px")
def width(request) -> int:
    return request.param


@pytest.fixture
def browser_context_options(width: int) -> dict:
    return {"viewport": {"width": width, "height": VIEWPORTS[width]}}


@pytest.fixture
def people(django_user_model):
    editor = django_user_model.objects.create_user(username=EDITOR[0], password=EDITOR[1], is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    reviewer = django_user_model.objects.create_user(
        username=REVIEWER[0], password=REVIEWER[1], is_staff=True
    )
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    return editor, reviewer


def import_sample(number: int = 35445, title: str = "") -> Article:
    text = SAMPLE.replace("anp-ref-035445-8950", f"anp-ref-{number:06d}-8950")
    if title:
        text = "\n".join([title, *text.split("\n")[1:]])
    result = import_document(text.encode(), path=f"{number}.txt")
    assert result.outcome == "created", result.errors
    return Article.objects.get(pk=result.article_id)


def screenshot(page: Page, width: int, step: str) -> None:
    path = OUTPUT / str(width) / f"{step}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)


def assert_fits(page: Page, width: int, what: str) -> None:
    """At the phone width the page itself never scrolls sideways."""
    if width <= 600:
        assert_no_sideways_scroll(page, what)


def offered(page: Page):
    return page.locator(".workflow-actions a")


def sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.locator("#logout-form button").click()
    expect(page.locator("h1")).to_contain_text("Logged out")


def save_with_note(page: Page, summary: str, note: str) -> None:
    page.locator("#id_summary").fill(summary)
    page.locator("#id_change_note").fill(note)
    with page.expect_navigation():
        page.locator("input[name=_save]").first.click()


def confirm(page: Page, note: str) -> None:
    page.locator("#id_note").fill(note)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()


def test_an_article_goes_from_edit_through_review_to_a_scheduled_publish_and_back(
    page: Page, admin_login, people, width: int
):
    article = import_sample()
    change = f"/admin/articles/article/{article.pk}/change/"
    first = Revision.objects.filter(article=article).latest("number").number
    messages = page.locator(".messagelist")
    unavailable = page.locator(".workflow-unavailable")

    # 1. The editor edits the summary with a change note: a draft revision, pending, with its note.
    admin_login(*EDITOR)
    page.goto(change)
    expect(page.locator(".live-status")).to_contain_text("Version 1.5.4, published")
    expect(page.locator(".pending-status")).to_have_text("No pending changes")
    expect(offered(page)).to_have_count(0)
    expect(unavailable).to_contain_text(
        "Submit for review is not offered: Nothing is pending: edit the article to make a draft first."
    )
    # What the role may never do is one line, not a refusal per action.
    expect(unavailable.locator(".not-for-role")).to_have_text(
        "Your role does not approve, request changes, resolve the conflict, send back to review, publish, "
        "roll back, archive."
    )
    assert_fits(page, width, "the change page")
    save_with_note(page, FIRST_SUMMARY, "clearer summary")
    expect(messages).to_contain_text(
        f"Saved as draft revision {first + 1}. Readers see the live version until it is published."
    )
    expect(page.locator(".pending-status")).to_contain_text(
        re.compile(rf"Revision {first + 1} \(edit by edith, \d+\sminutes? ago: “clearer summary”\) — Draft")
    )
    expect(offered(page)).to_have_text(["Submit for review"])
    screenshot(page, width, "1-editor-saved-a-draft")

    # 2. ... and submits it for review, with a note; then nothing is left for the editor to do.
    offered(page).get_by_text("Submit for review").click()
    expect(page.locator(".action-explanation")).to_contain_text(
        f"Revision {first + 1} goes to the review queue"
    )
    assert_fits(page, width, "the submit page")
    screenshot(page, width, "2-editor-submits")
    confirm(page, "please review")
    expect(messages).to_contain_text(f"“{article.title}”: submitted for review.")
    expect(page.locator(".review-state")).to_have_text("In review")
    expect(offered(page)).to_have_count(0)
    expect(unavailable).to_contain_text(
        "Submit for review is not offered: Only a draft can be submitted for review; "
        "this article is in review."
    )
    sign_out(page)

    # 3. The reviewer finds it on the desk and in the inbox, and comments on the summary.
    admin_login(*REVIEWER)
    desk = page.locator("#review-queue-summary")
    expect(desk.locator(".desk-waiting")).to_have_text("1 article waiting for you")
    expect(desk.locator(".desk-counts li").filter(has_text="In review")).to_have_text("In review: 1")
    expect(desk.locator(".desk-counts li").filter(has_text="Approved")).to_contain_text(": 0")
    screenshot(page, width, "3-reviewer-desk")
    desk.locator(".desk-waiting a").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("In review")
    expect(rows).to_contain_text(f"1.5.4 → r{first + 1}")
    expect(rows).to_contain_text("edith: please review")
    assert_fits(page, width, "the inbox")
    if width > 600:
        assert page.evaluate(
            "() => { const t = document.querySelector('#result_list');"
            " return t.getBoundingClientRect().width <= t.parentElement.clientWidth; }"
        ), "the inbox table is wider than its container"
    screenshot(page, width, "3-reviewer-inbox")
    rows.get_by_role("link", name=article.title).click()
    expect(offered(page)).to_have_text(["Approve", "Request changes", "Archive"])
    expect(unavailable).to_contain_text("Publish is not offered: Only approved changes can be published")
    add = page.locator("#add-comment")
    expect(add.locator("h2")).to_have_text("Add a review comment")
    add.get_by_label("On").select_option(label="Summary")
    add.get_by_label("Comment").fill(COMMENT)
    with page.expect_navigation():
        add.get_by_role("button", name="Add comment").click()
    expect(messages).to_contain_text("Comment added.")
    comments = page.locator("#review-comments")
    expect(comments.locator("h2")).to_have_text("Review comments (1 open)")
    expect(comments.locator(".comment")).to_contain_text("rita on Summary, ")
    expect(comments.locator(".comment-body")).to_have_text(COMMENT)
    assert_fits(page, width, "the change page with a comment")
    screenshot(page, width, "3-reviewer-commented")

    # 4. The reviewer requests changes; the page lists the open comment the note will carry.
    offered(page).get_by_text("Request changes").click()
    expect(page.locator(".open-comments li")).to_have_text(f"rita on Summary: {COMMENT}")
    expect(page.get_by_label("Note (required)")).to_be_visible()
    assert_fits(page, width, "the request-changes page")
    screenshot(page, width, "4-reviewer-requests-changes")
    confirm(page, "Name the release line, see the comment.")
    expect(messages).to_contain_text(f"“{article.title}”: sent back to the editors (changes requested).")
    expect(page.locator(".review-state")).to_have_text("Changes requested")
    # Reviewers may edit and submit too (their group has the editors' permissions).
    expect(offered(page)).to_have_text(["Submit for review", "Archive"])
    expect(unavailable).to_contain_text("Approve is not offered: Approval is only for an article in review;")
    sign_out(page)

    # 5. The editor reads the decision at the top, edits, resolves the comment and submits again.
    admin_login(*EDITOR)
    page.goto(change)
    expect(page.locator(".last-review")).to_contain_text(
        re.compile(r"^Changes requested by rita, \d+\sminutes? ago: Name the release line")
    )
    expect(page.locator(".last-review .note")).to_contain_text("Name the release line, see the comment.")
    expect(page.locator("#review-comments .comment-body")).to_have_text(COMMENT)
    expect(offered(page)).to_have_text(["Submit for review"])
    screenshot(page, width, "5-editor-reads-the-review")
    save_with_note(page, SECOND_SUMMARY, "named the release line")
    expect(messages).to_contain_text(f"Saved as draft revision {first + 2}.")
    expect(page.locator(".pending-status")).to_contain_text("“named the release line”) — Draft")
    with page.expect_navigation():
        page.locator("#review-comments .comment").get_by_role("button", name="Resolve").click()
    expect(messages).to_contain_text("Comment resolved.")
    expect(page.locator("#review-comments")).to_contain_text("No open comments.")
    offered(page).get_by_text("Submit for review").click()
    confirm(page, "named the release line")
    expect(messages).to_contain_text(f"“{article.title}”: submitted for review.")
    expect(offered(page)).to_have_count(0)
    sign_out(page)

    # 6. The reviewer approves and schedules the publish; when it is due, the command publishes.
    admin_login(*REVIEWER)
    page.goto(change)
    expect(page.locator(".review-state")).to_have_text("In review")
    offered(page).get_by_text("Approve").click()
    confirm(page, "reads well")
    expect(messages).to_contain_text(f"“{article.title}”: approved.")
    expect(page.locator(".review-state")).to_have_text("Approved")
    expect(offered(page)).to_have_text(["Publish", "Archive"])
    expect(unavailable).to_contain_text("Approve is not offered: Approval is only for an article in review")
    offered(page).get_by_text("Publish").click()
    expect(page.locator(".action-explanation")).to_contain_text("Publish 1.5.5 (patch; minor 1.6.0")
    later = timezone.localtime(timezone.now() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    page.locator("#id_bump").select_option("minor")
    page.locator("#id_due_at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    assert_fits(page, width, "the publish page")
    screenshot(page, width, "6-reviewer-schedules-the-publish")
    confirm(page, "ship it on the release day")
    expect(messages).to_have_text(f"“{article.title}”: publish scheduled for {later:%Y-%m-%d %H:%M %Z}.")
    scheduled = page.locator(".scheduled")
    expect(scheduled).to_contain_text(f"Publish of revision {first + 3} at")
    expect(scheduled).to_contain_text("(rita: “ship it on the release day”)")
    expect(page.locator(".live-status")).to_contain_text("Version 1.5.4")
    assert_fits(page, width, "the change page with a schedule")
    screenshot(page, width, "6-reviewer-scheduled")
    page.goto("/admin/releases/reviewqueueitem/?show=scheduled")
    expect(page.locator("#result_list .badge.scheduled")).to_contain_text("publishes")
    assert_fits(page, width, "the inbox with a scheduled publish")

    assert Schedule.objects.update(due_at=timezone.now() - dt.timedelta(minutes=1)) == 1
    out = StringIO()
    call_command("publish_scheduled", stdout=out)
    assert "Published version 1.6.0" in out.getvalue()
    assert Schedule.objects.get().state == ScheduleState.DONE
    page.goto(article.get_absolute_url())
    meta = page.locator(".meta-box")
    expect(meta).to_contain_text(SECOND_SUMMARY)
    expect(meta).to_contain_text("1.6.0")
    screenshot(page, width, "6-reader-sees-the-new-version")

    # 7. The reviewer rolls back to the imported version, and compare shows what changed.
    page.goto(change)
    expect(page.locator(".live-status")).to_contain_text("Version 1.6.0, published")
    expect(page.locator(".pending-status")).to_have_text("No pending changes")
    expect(page.locator(".scheduled")).to_have_count(0)
    imported = page.locator("#revision-history tr", has_text="1.5.4").filter(has_text="Import")
    imported.get_by_role("link", name="Roll back to this version").click()
    expect(page.locator(".action-explanation")).to_contain_text("goes live again as version 1.6.1")
    assert_fits(page, width, "the rollback page")
    screenshot(page, width, "7-reviewer-rolls-back")
    confirm(page, "readers preferred the original")
    expect(messages).to_contain_text(f"revision {first} restored, live as version 1.6.1.")
    expect(page.locator(".live-status")).to_contain_text("Version 1.6.1, published")
    expect(offered(page)).to_have_text(["Send back to review", "Archive"])
    expect(unavailable).to_contain_text("Publish is not offered: Nothing is approved to publish")
    page.get_by_role("link", name="Compare revisions").click()
    expect(page.locator(".compare-sides")).to_contain_text("version 1.6.0")
    expect(page.locator(".compare-sides")).to_contain_text("version 1.6.1")
    summary = page.locator("table.compare tr", has_text="Summary")
    expect(summary.locator("del")).not_to_have_count(0)
    expect(summary).to_contain_text(ORIGINAL_SUMMARY)
    assert_fits(page, width, "compare")
    screenshot(page, width, "7-reviewer-compares")
    page.goto(article.get_absolute_url())
    expect(page.locator(".meta-box")).to_contain_text(ORIGINAL_SUMMARY)
    expect(page.locator(".meta-box")).not_to_contain_text(FIRST_SUMMARY)
    expect(page.locator(".meta-box")).to_contain_text("1.6.1")


class TestAccessibility:
    """axe-core on the desk's pages with everything on them: the inbox with badges, a change page
    with pending work, open comments and a schedule, compare, and the action pages."""

    @pytest.fixture
    def browser_context_options(self, width: int) -> dict:
        # axe-core is injected as a script the site did not serve: this test bypasses the CSP.
        return {"viewport": {"width": width, "height": VIEWPORTS[width]}, "bypass_csp": True}

    def test_the_desk_pages_have_no_serious_violations(self, page: Page, admin_login, people, width: int):
        editor, reviewer = people
        in_review = import_sample(1, "an article in review with comments")
        scheduled = import_sample(2, "an approved article with a scheduled publish")
        for article in (in_review, scheduled):
            content = {**services.pending_content(article), "summary": "a clearer summary"}
            services.article_edit(article=article, user=editor, content=content, note="clearer summary")
            services.article_submit(article=article, user=editor, note="please review")
            services.comment_add(article=article, user=reviewer, body=COMMENT, field="summary")
            services.comment_add(article=article, user=reviewer, body="Add a rollback step.")
        services.article_approve(article=scheduled, user=reviewer, note="reads well")
        services.article_schedule(
            article=scheduled, user=reviewer, action="publish", note="release day", bump="minor",
            due_at=timezone.now() + dt.timedelta(days=1),
        )  # fmt: skip

        admin_login(*REVIEWER)
        page.goto(f"/admin/articles/article/{scheduled.pk}/change/")
        expect(page.locator(".scheduled")).to_contain_text("release day")
        expect(page.locator("#review-comments h2")).to_have_text("Review comments (2 open)")
        screenshot(page, width, "axe-change-page")
        assert_accessible(
            page,
            [
                "/admin/",
                "/admin/releases/reviewqueueitem/",
                "/admin/releases/reviewqueueitem/?show=all",
                f"/admin/articles/article/{scheduled.pk}/change/",
                f"/admin/articles/article/{scheduled.pk}/compare/",
                f"/admin/articles/article/{scheduled.pk}/publish/",
                f"/admin/articles/article/{in_review.pk}/change/",
                f"/admin/articles/article/{in_review.pk}/workflow/request_changes/",
                f"/admin/articles/article/{in_review.pk}/history/",
            ],
        )

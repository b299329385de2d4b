"""The editors' and reviewers' admin, through the Django test client."""

import re

import pytest
from django.urls import reverse

from articles.models import Article
from releases import services
from releases.importing import import_document
from releases.models import AuditEvent, Release, Revision
from tests.conftest import admin_form_data
from tests.page_tree import hostile_markup, parse


def pending_state(article) -> str:
    """The review state of the article's pending work ("" when none)."""
    return Release.objects.get(article_id=article.pk).review_state


pytestmark = pytest.mark.django_db


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def form_data(client, article):
    return admin_form_data(client, change_url(article))


@pytest.fixture
def logged_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize("role", ["editor", "reviewer", "superuser"])
def test_every_admin_view_renders(request, logged_in, sample_article, role):
    client = logged_in(request.getfixturevalue(role))
    services.article_edit(
        article=sample_article, user=request.getfixturevalue("editor"),
        content={**services.pending_content(sample_article), "summary": "x"},
    )  # fmt: skip
    pages = [
        reverse("admin:index"),
        reverse("admin:articles_article_changelist"),
        change_url(sample_article),
        reverse("admin:articles_article_compare", args=[sample_article.pk]) + "?a=1&b=2",
        reverse("admin:releases_reviewqueueitem_changelist"),
        reverse("admin:releases_revision_changelist"),
        reverse("admin:releases_auditevent_changelist"),
        reverse("admin:articles_article_workflow", args=[sample_article.pk, "submit"]),
        reverse("admin:articles_article_publish", args=[sample_article.pk]),
        reverse("admin:articles_article_rollback", args=[sample_article.pk, 1]),
        reverse("admin:articles_tag_changelist"),
        reverse("admin:articles_entity_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url


def test_index_counts_what_waits_by_state(logged_in, reviewer, editor, sample_text):
    """A draft nobody submitted does not wait for a reviewer; once submitted, it does."""
    result = import_document(sample_text.replace("needs human review: 0", "needs human review: 1").encode())
    client = logged_in(reviewer)
    page = client.get(reverse("admin:index")).content.decode()
    assert re.search(r"<strong>0</strong> articles waiting for you", page)
    assert re.search(r"Drafts: <strong>1</strong>", page)
    assert re.search(r"In review: <strong>0</strong>", page)
    services.article_submit(article=Article.objects.get(pk=result.article_id), user=editor)
    page = client.get(reverse("admin:index")).content.decode()
    assert re.search(r"<strong>1</strong> article waiting for you", page)
    assert re.search(r"Drafts: <strong>0</strong>", page)
    assert re.search(r"In review: <strong>1</strong>", page)


def test_saving_the_form_makes_a_draft_revision_and_keeps_the_live_row(logged_in, editor, sample_article):
    client = logged_in(editor)
    data = form_data(client, sample_article)
    data["summary"] = "rewritten by an editor"
    data["checklist"] = "first step\nsecond step"
    response = client.post(change_url(sample_article), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    latest = Revision.objects.filter(article=sample_article).order_by("-number").first()
    assert latest.kind == "edit" and latest.author == editor
    assert latest.content["summary"] == "rewritten by an editor"
    assert latest.content["checklist"] == ["first step", "second step"]
    assert latest.content["body"] == Revision.objects.get(number=1).content["body"]
    article = Article.objects.get(pk=sample_article.pk)
    assert article.summary.startswith("this ai-style") and pending_state(article) == "draft"


def test_second_editor_saving_a_stale_form_is_refused(logged_in, editor, reviewer, sample_article, client):
    stale = form_data(logged_in(editor), sample_article)
    services.article_edit(
        article=sample_article,
        user=reviewer,
        content={**services.pending_content(sample_article), "summary": "first"},
    )
    client.force_login(editor)
    stale["summary"] = "second"
    response = client.post(change_url(sample_article), stale)
    assert response.status_code == 200
    assert "saved revision 2 after you opened this page" in response.content.decode()
    latest = Revision.objects.filter(article=sample_article).order_by("-number").first()
    assert latest.content["summary"] == "first"


@pytest.mark.parametrize(
    ("field", "value", "error_key"),
    [
        ("image_list", "unsplash | javascript:alert(1) | caption", "__all__"),
        ("quality", "150", "quality"),
        ("entity_list", "no separator here", "entity_list"),
        ("payload", "[not json", "payload"),
    ],
)
def test_bad_input_gets_form_errors(logged_in, editor, sample_article, field, value, error_key):
    client = logged_in(editor)
    data = form_data(client, sample_article)
    data[field] = value
    response = client.post(change_url(sample_article), data)
    assert response.status_code == 200
    assert error_key in response.context["adminform"].form.errors
    assert Revision.objects.filter(article=sample_article).count() == 1


def test_reviewer_path_publish_and_roll_back(logged_in, editor, reviewer, sample_article):
    services.article_edit(
        article=sample_article,
        user=editor,
        content={**services.pending_content(sample_article), "summary": "v2"},
    )
    client = logged_in(reviewer)
    submit = reverse("admin:articles_article_workflow", args=[sample_article.pk, "submit"])
    assert client.post(submit, {"note": ""}).status_code == 302
    approve = reverse("admin:articles_article_workflow", args=[sample_article.pk, "approve"])
    assert client.post(approve, {"note": "ok"}).status_code == 302
    publish = reverse("admin:articles_article_publish", args=[sample_article.pk])
    assert client.post(publish, {"note": "", "bump": "minor"}).status_code == 200  # note required
    assert client.post(publish, {"note": "release", "bump": "minor"}).status_code == 302
    assert Article.objects.get(pk=sample_article.pk).version == "1.6.0"
    rollback = reverse("admin:articles_article_rollback", args=[sample_article.pk, 1])
    assert client.post(rollback, {"note": "back"}).status_code == 302
    article = Article.objects.get(pk=sample_article.pk)
    assert article.version == "1.6.1" and article.summary.startswith("this ai-style")
    page = client.get(change_url(article)).content.decode()
    assert "Roll back to this version" in page and "(live)" in page


def test_editor_cannot_publish_from_the_admin(logged_in, editor, sample_article):
    client = logged_in(editor)
    response = client.post(
        reverse("admin:articles_article_publish", args=[sample_article.pk]),
        {"note": "n", "bump": "patch"},
        follow=True,
    )
    assert "You are not allowed to publish articles." in response.content.decode()
    assert Article.objects.get(pk=sample_article.pk).version == "1.5.4"


def test_bulk_actions_report_each_article(logged_in, reviewer, sample_text):
    ids = []
    for number in range(3):
        text = sample_text.replace("anp-ref-035445-8950", f"anp-ref-00000{number}-0000")
        if number < 2:
            text = text.replace("needs human review: 0", "needs human review: 1")
        ids.append(import_document(text.encode()).article_id)
    client = logged_in(reviewer)
    url = reverse("admin:articles_article_changelist")
    response = client.post(
        url, {"action": "bulk_submit", "_selected_action": ids, "apply": "1", "note": ""}, follow=True
    )
    text = response.content.decode()
    messages = re.findall(r'<li class="(\w+)">(.*?)</li>', text[text.index('class="messagelist"') :])
    titles = list(Article.objects.filter(pk__in=ids).order_by("pk").values_list("title", flat=True))
    assert ("success", f"“{titles[0]}”, “{titles[1]}”: submitted for review.") in messages
    refusal = "Nothing is pending: edit the article to make a draft first."
    assert ("error", f"“{titles[2]}”: {refusal}") in messages
    assert ("warning", "Submit for review: 2 of 3 articles; the others were refused.") in messages
    assert AuditEvent.objects.filter(action="submit").count() == 2


def test_bulk_publish_asks_for_a_note_and_a_bump(logged_in, reviewer, sample_text):
    article_id = import_document(
        sample_text.replace("needs human review: 0", "needs human review: 1").encode()
    ).article_id
    article = Article.objects.get(pk=article_id)
    services.article_submit(article=article, user=reviewer)
    services.article_approve(article=article, user=reviewer)
    client = logged_in(reviewer)
    url = reverse("admin:releases_reviewqueueitem_changelist")
    form = client.post(url, {"action": "bulk_publish", "_selected_action": [article_id]})
    assert form.status_code == 200 and 'name="bump"' in form.content.decode()
    done = client.post(url, {"action": "bulk_publish", "_selected_action": [article_id], "apply": "1",
                             "note": "first release", "bump": "major"}, follow=True)  # fmt: skip
    assert f"“{article.title}”: published as version 2.0.0." in done.content.decode()
    assert Article.objects.get(pk=article_id).version == "2.0.0"


def test_nothing_can_be_deleted(logged_in, superuser, sample_article):
    client = logged_in(superuser)
    assert client.get(reverse("admin:articles_article_delete", args=[sample_article.pk])).status_code == 403
    changelist = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "delete_selected" not in changelist


def test_compare_shows_field_changes_and_keeps_hostile_text_inert(
    logged_in, editor, reviewer, sample_article
):
    hostile = "<script>alert(1)</script>"
    content = services.pending_content(sample_article)
    services.article_edit(
        article=sample_article, user=editor,
        content={**content, "summary": f"new words {hostile}", "tools": [*content["tools"][:-1], "mypy"],
                 "scores": {**content["scores"], "quality": 95}},
    )  # fmt: skip
    page = (
        logged_in(reviewer)
        .get(reverse("admin:articles_article_compare", args=[sample_article.pk]) + "?a=1&b=2")
        .content.decode()
    )
    rows = [
        row for row in parse(page).find_all("tr") if [th.text for th in row.find_all("th")] == ["Summary"]
    ]
    assert len(rows) == 1, "one row shows the summary's change"
    inserted = [ins.text for ins in rows[0].find_all("ins")]
    assert inserted == [f"new words {hostile}"]  # shown as text, in its row
    assert "<ins>new words &lt;script&gt;alert(1)&lt;/script&gt;</ins>" in page  # the escaped source
    assert hostile not in page and hostile_markup(parse(page)) == []
    assert "<ins>+ mypy</ins>" in page and "<del>− logs</del>" in page
    assert "quality: <del>80</del> → <ins>95</ins>" in page


def test_audit_trail_is_filterable(logged_in, reviewer, sample_article):
    services.article_archive(article=sample_article, user=reviewer, note="outdated")
    client = logged_in(reviewer)
    url = reverse("admin:releases_auditevent_changelist")
    archived = client.get(url, {"action__exact": "archive"}).content.decode()
    assert "outdated" in archived
    imports = client.get(url, {"action__exact": "import"}).content.decode()
    assert "outdated" not in imports


def test_a_reviewer_resolves_an_import_conflict_field_by_field(logged_in, sample_article, sample_text, editor,
                                                                reviewer):  # fmt: skip
    content = services.pending_content(sample_article)
    services.article_edit(
        article=sample_article, user=editor, content={**content, "summary": "the editors' one"}
    )
    services.article_submit(article=sample_article, user=editor)
    text = sample_text.replace("version: 1.5.4", "version: 1.6.0").replace(
        "difficultyadvanced", "difficultyintermediate"
    )
    assert import_document(text.encode(), path="newer.txt").outcome == "updated"
    release = Release.objects.get(article_id=sample_article.pk)
    assert (
        release.conflict_revision is not None
        and release.pending_revision.content["summary"] == "the editors' one"
    )
    with pytest.raises(services.InvalidTransition, match="resolve the conflict"):
        services.article_publish(article=sample_article, user=reviewer, note="too early")

    client = logged_in(reviewer)
    assert "Resolve the conflict" in client.get(change_url(sample_article)).content.decode()
    url = reverse("admin:articles_article_resolve", args=[sample_article.pk])
    page = client.get(url)
    assert page.status_code == 200
    fields = {row["field"].name for row in page.context["rows"]}
    assert {"field_summary", "field_difficulty"} <= fields
    choices = {name: "pending" for name in fields} | {"field_difficulty": "import"}
    response = client.post(url, {**choices, "note": "take the import's difficulty"})
    assert response.status_code == 302

    release.refresh_from_db()
    merged = release.pending_revision
    assert release.conflict_revision is None and release.review_state == "in_review"
    assert merged.kind == "resolve" and merged.merged_number is not None and merged.base_number is not None
    assert merged.content["difficulty"] == "intermediate" and merged.content["summary"] == "the editors' one"
    event = AuditEvent.objects.filter(article=sample_article).order_by("-id").first()
    assert event.action == "resolve" and event.note == "take the import's difficulty"
    services.article_approve(article=sample_article, user=reviewer)
    services.article_publish(article=sample_article, user=reviewer, note="both sides")
    article = Article.objects.get(pk=sample_article.pk)
    assert article.summary == "the editors' one" and article.difficulty == "intermediate"

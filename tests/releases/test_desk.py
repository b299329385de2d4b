"""The editor's desk: review comments, scheduled publishing, review due, the inbox, the history,
honest messages and query budgets, through the action layer and the admin pages."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from releases import services
from releases.importing import Source, import_documents
from releases.models import AuditEvent, Release, ReviewComment, Revision, Schedule
from releases.selectors import review_due

pytestmark = pytest.mark.django_db


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def fresh(article):
    return Article.objects.get(pk=article.pk)


def edit(article, user, summary="an edited summary", note=""):
    content = {**services.pending_content(article), "summary": summary}
    return services.article_edit(article=fresh(article), user=user, content=content, note=note)


def messages_of(response) -> list[tuple[str, str]]:
    text = response.content.decode()
    if 'class="messagelist"' not in text:
        return []
    return re.findall(r'<li class="(\w+)">(.*?)</li>', text[text.index('class="messagelist"') :])


@pytest.fixture
def viewer(django_user_model):
    """Staff who may look at articles but take no workflow action."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("vera", password="pw-vera", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_article"))
    return user


@pytest.fixture
def in_review(sample_article, editor):
    edit(sample_article, editor)
    services.article_submit(article=fresh(sample_article), user=editor)
    return fresh(sample_article)


# -- comments ---------------------------------------------------------------------------------------


def test_a_comment_belongs_to_the_pending_revision_and_stays_open_until_resolved(in_review, reviewer, editor):
    pending = Release.objects.get(article_id=in_review.pk).pending_revision
    comment = services.comment_add(article=in_review, user=reviewer, body="Cite the source.", field="summary")
    assert (comment.revision_id, comment.field, comment.is_open) == (pending.pk, "summary", True)
    assert AuditEvent.objects.filter(article=in_review, action="comment").count() == 1
    # The editor makes a new revision: the comment stays open on the article.
    edit(in_review, editor, summary="with a source")
    assert [c.pk for c in services.open_comments(in_review)] == [comment.pk]
    services.comment_resolve(comment=comment, user=editor)
    assert services.open_comments(in_review) == []
    assert ReviewComment.objects.get(pk=comment.pk).resolved_by_name == editor.username
    with pytest.raises(services.InvalidTransition, match="resolved this comment already"):
        services.comment_resolve(comment=comment, user=reviewer)


def test_comments_need_pending_work_a_body_a_known_field_and_a_role(
    sample_article, in_review, reviewer, viewer
):
    with pytest.raises(services.NoteRequired):
        services.comment_add(article=in_review, user=reviewer, body="   ")
    with pytest.raises(services.InvalidContent, match="No field"):
        services.comment_add(article=in_review, user=reviewer, body="x", field="no_such_field")
    with pytest.raises(services.ActionForbidden):
        services.comment_add(article=in_review, user=viewer, body="x")
    services.article_approve(article=in_review, user=reviewer)
    services.article_publish(article=fresh(in_review), user=reviewer, note="ship")
    with pytest.raises(services.InvalidTransition, match="nothing is pending"):
        services.comment_add(article=fresh(in_review), user=reviewer, body="too late")
    assert not ReviewComment.objects.exists()


def test_requesting_changes_lists_the_open_comments_in_the_note(in_review, reviewer, client):
    services.comment_add(article=in_review, user=reviewer, body="Shorter title.", field="title")
    services.comment_add(article=in_review, user=reviewer, body="Add a rollback step.")
    client.force_login(reviewer)
    url = reverse("admin:articles_article_workflow", args=[in_review.pk, "request_changes"])
    page = client.get(url).content.decode()
    assert "Shorter title." in page and "Add a rollback step." in page
    client.post(url, {"note": "Two things, see the comments."})
    event = AuditEvent.objects.filter(article=in_review, action="request_changes").get()
    assert event.note.startswith("Two things, see the comments.\n\nOpen comments:\n")
    assert "on Title, revision" in event.note and "Add a rollback step." in event.note


def test_the_change_page_shows_open_comments_and_resolves_them(in_review, reviewer, editor, client):
    client.force_login(reviewer)
    client.post(
        reverse("admin:articles_article_comment", args=[in_review.pk]),
        {"comment-field": "summary", "comment-body": "Too vague."},
    )
    comment = ReviewComment.objects.get()
    client.force_login(editor)
    page = client.get(change_url(in_review)).content.decode()
    assert "Too vague." in page and "Review comments (1 open)" in page
    response = client.post(
        reverse("admin:articles_article_comment_resolve", args=[in_review.pk, comment.pk]), follow=True
    )
    assert ("success", "Comment resolved.") in messages_of(response)
    page = client.get(change_url(in_review)).content.decode()
    comments = page[
        page.index('id="review-comments"') : page.index("</div>", page.index('id="review-comments"'))
    ]
    assert "Too vague." not in comments and "No open comments." in comments


# -- scheduled publishing -------------------------------------------------------------------------


@pytest.fixture
def approved(in_review, reviewer):
    services.article_approve(article=in_review, user=reviewer)
    return fresh(in_review)


def test_a_scheduled_publish_runs_once_when_due_as_its_reviewer(approved, reviewer):
    due = timezone.now() + dt.timedelta(hours=2)
    schedule = services.article_schedule(
        article=approved, user=reviewer, action="publish", due_at=due, note="Monday release", bump="minor"
    )
    assert services.run_due_schedules(now=timezone.now()) == []
    assert fresh(approved).version == "1.5.4"
    finished = services.run_due_schedules(now=due + dt.timedelta(seconds=1))
    assert [s.pk for s in finished] == [schedule.pk]
    schedule.refresh_from_db()
    assert schedule.state == "done" and "1.6.0" in schedule.outcome
    article = fresh(approved)
    assert article.version == "1.6.0"
    publish = AuditEvent.objects.get(article=article, action="publish")
    assert publish.user_id == reviewer.pk and publish.note == "Monday release"
    assert services.run_due_schedules(now=due + dt.timedelta(hours=1)) == []  # done at most once


def test_a_scheduled_publish_fails_when_the_approved_work_changed(approved, reviewer, editor):
    due = timezone.now() + dt.timedelta(minutes=5)
    services.article_schedule(article=approved, user=reviewer, action="publish", due_at=due, note="later")
    edit(approved, editor, summary="changed after approval")
    (schedule,) = services.run_due_schedules(now=due)
    assert schedule.state == "failed" and "no longer the pending one" in schedule.outcome
    assert fresh(approved).version == "1.5.4"


def test_scheduling_follows_the_actions_rules(sample_article, in_review, editor, reviewer):
    later = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(services.InvalidTransition, match="Only approved changes"):
        services.article_schedule(article=in_review, user=reviewer, action="publish", due_at=later, note="x")
    with pytest.raises(services.ActionForbidden):
        services.article_schedule(article=in_review, user=editor, action="archive", due_at=later, note="x")
    with pytest.raises(services.NoteRequired):
        services.article_schedule(article=in_review, user=reviewer, action="archive", due_at=later, note="")
    assert not Schedule.objects.exists()


def test_a_new_schedule_replaces_the_waiting_one_and_can_be_cancelled(sample_article, reviewer):
    first = services.article_schedule(
        article=sample_article, user=reviewer, action="archive", due_at=timezone.now() + dt.timedelta(days=1),
        note="outdated soon",
    )  # fmt: skip
    second = services.article_schedule(
        article=sample_article, user=reviewer, action="archive", due_at=timezone.now() + dt.timedelta(days=2),
        note="outdated later",
    )  # fmt: skip
    first.refresh_from_db()
    assert first.state == "cancelled" and [s.pk for s in services.waiting_schedules(sample_article)] == [
        second.pk
    ]
    services.schedule_cancel(schedule=second, user=reviewer)
    assert services.waiting_schedules(sample_article) == []
    assert services.run_due_schedules(now=timezone.now() + dt.timedelta(days=3)) == []
    assert fresh(sample_article).state == "published"


def test_publish_scheduled_command_archives_when_due_and_reports(sample_article, reviewer):
    soon = timezone.now() + dt.timedelta(seconds=1)
    schedule = services.article_schedule(
        article=sample_article, user=reviewer, action="archive", due_at=soon, note="retired"
    )
    Schedule.objects.filter(pk=schedule.pk).update(due_at=timezone.now() - dt.timedelta(seconds=1))
    out = StringIO()
    call_command("publish_scheduled", stdout=out)
    assert "Archived." in out.getvalue()
    assert fresh(sample_article).state == "archived"
    out = StringIO()
    call_command("publish_scheduled", stdout=out)
    assert out.getvalue().strip() == "Nothing is due."


def test_the_publish_page_schedules_with_a_time_and_the_change_page_shows_it(approved, reviewer, client):
    client.force_login(reviewer)
    url = reverse("admin:articles_article_publish", args=[approved.pk])
    page = client.get(url).content.decode()
    assert "Publish 1.5.5 (patch; minor 1.6.0, major 2.0.0)" in page
    assert "replaces live 1.5.4 for readers" in page
    when = timezone.localtime(timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"note": "tomorrow", "bump": "minor", "due_at": when}, follow=True)
    assert any("publish scheduled for" in text for _, text in messages_of(response))
    assert fresh(approved).version == "1.5.4"
    page = client.get(change_url(approved)).content.decode()
    assert 'class="scheduled"' in page and "tomorrow" in page
    past = timezone.localtime(timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(url, {"note": "yesterday", "bump": "minor", "due_at": past}).content.decode()
    assert "Choose a time in the future" in page


# -- review due ---------------------------------------------------------------------------------------


def test_review_due_by_age_and_freshness(sample_article, settings):
    reviewed = fresh(sample_article).last_reviewed
    assert reviewed is not None
    today = reviewed + dt.timedelta(days=10)
    settings.REVIEW_MIN_FRESHNESS = 0
    settings.REVIEW_MAX_AGE_DAYS = 30
    assert not review_due(today).filter(pk=sample_article.pk).exists()
    settings.REVIEW_MAX_AGE_DAYS = 5
    assert review_due(today).filter(pk=sample_article.pk).exists()
    settings.REVIEW_MAX_AGE_DAYS = 30
    settings.REVIEW_MIN_FRESHNESS = (fresh(sample_article).freshness or 0) + 1
    assert review_due(today).filter(pk=sample_article.pk).exists()


def test_sending_back_to_review_puts_the_live_content_in_the_queue(
    sample_article, reviewer, settings, client
):
    settings.REVIEW_MAX_AGE_DAYS = 0
    settings.REVIEW_MIN_FRESHNESS = 0
    today = timezone.localdate() + dt.timedelta(days=1)
    assert review_due(today).filter(pk=sample_article.pk).exists()
    client.force_login(reviewer)
    listing = client.get(reverse("admin:articles_article_changelist") + "?review_due=1").content.decode()
    assert sample_article.title in listing
    url = reverse("admin:articles_article_workflow", args=[sample_article.pk, "request_review"])
    response = client.post(url, {"note": "yearly check"}, follow=True)
    assert ("success", f"“{sample_article.title}”: sent back to review.") in messages_of(response)
    release = Release.objects.get(article_id=sample_article.pk)
    assert release.review_state == "in_review" and release.pending_revision.kind == "reopen"
    assert release.pending_revision.content == release.live_revision.content
    assert not review_due(today).filter(pk=sample_article.pk).exists()  # it is in the queue now
    services.article_approve(article=fresh(sample_article), user=reviewer)
    services.article_publish(article=fresh(sample_article), user=reviewer, note="checked")
    assert fresh(sample_article).last_reviewed == timezone.localdate()


# -- edits, history, messages ---------------------------------------------------------------------


def test_an_edit_keeps_its_change_note(sample_article, editor, client):
    from tests.conftest import admin_form_data

    client.force_login(editor)
    data = admin_form_data(client, change_url(sample_article))
    data.update({"summary": "tighter summary", "change_note": "cut the filler"})
    client.post(change_url(sample_article), data)
    pending = Release.objects.get(article_id=sample_article.pk).pending_revision
    assert (pending.note, pending.content["summary"]) == ("cut the filler", "tighter summary")


def test_history_and_recent_actions_show_the_audit_trail(in_review, reviewer, client):
    services.article_request_changes(article=in_review, user=reviewer, note="needs a source")
    client.force_login(reviewer)
    history = client.get(reverse("admin:articles_article_history", args=[in_review.pk])).content.decode()
    assert "doesn’t have a change history" not in history and "have a change history" not in history
    assert "Request changes" in history and "In review → Changes requested" in history
    assert "needs a source" in history and "in_review" not in history
    index = client.get(reverse("admin:index")).content.decode()
    recent = index[index.index('id="recent-actions-module"') :]
    assert "Request changes by rita" in recent and in_review.title[:40] in recent


def test_a_bulk_action_refused_for_every_article_is_an_error(sample_article, reviewer, client):
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "bulk_approve", "_selected_action": [sample_article.pk], "apply": "1", "note": ""},
        follow=True,
    )
    levels = dict((text, level) for level, text in messages_of(response))
    assert levels.get("Approve: none of the 1 articles (each was refused).") == "error"
    assert not any(level == "success" for level, _ in messages_of(response))


def test_bulk_actions_offered_follow_the_role(sample_article, editor, reviewer, client):
    client.force_login(editor)
    page = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "bulk_submit" in page and "bulk_approve" not in page and "bulk_publish" not in page
    client.force_login(reviewer)
    page = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "bulk_approve" in page and "bulk_publish" in page


def test_an_action_page_says_why_it_cannot_run(sample_article, reviewer, client):
    client.force_login(reviewer)
    page = client.get(reverse("admin:articles_article_publish", args=[sample_article.pk])).content.decode()
    assert "Nothing is approved to publish" in page and 'value="Confirm"' not in page
    page = client.get(
        reverse("admin:articles_article_workflow", args=[sample_article.pk, "approve"])
    ).content.decode()
    assert "Approval is only for an article in review; this article is published." in page


def test_compare_defaults_to_live_against_pending_and_collapses_unchanged_fields(in_review, reviewer, client):
    client.force_login(reviewer)
    page = client.get(reverse("admin:articles_article_compare", args=[in_review.pk])).content.decode()
    release = Release.objects.get(article_id=in_review.pk)
    assert f"<strong>Live</strong>: revision {release.live_revision.number}" in page
    assert f"<strong>pending</strong>: revision {release.pending_revision.number}" in page
    assert re.search(r"<summary>\d+ unchanged fields</summary>", page)


def test_compare_with_nothing_pending_shows_what_the_last_publish_changed_for_readers(
    in_review, reviewer, client
):
    services.article_approve(article=in_review, user=reviewer)
    services.article_publish(article=fresh(in_review), user=reviewer, note="ship")
    release = Release.objects.get(article_id=in_review.pk)
    assert release.pending_revision is None
    client.force_login(reviewer)
    page = client.get(reverse("admin:articles_article_compare", args=[in_review.pk])).content.decode()
    # What readers saw before (the import) against what they see now.
    before = Revision.objects.get(article=in_review, kind="import").number
    assert f"Compare revisions {before} and {release.live_revision.number}" in page
    assert "The two revisions have the same content." not in page
    assert '<th scope="row">Summary</th>' in page and "edited" in page


# -- the inbox ------------------------------------------------------------------------------------------


def _queue_rows(client, query=""):
    page = client.get(reverse("admin:releases_reviewqueueitem_changelist") + query).content.decode()
    return re.findall(r'<a class="one-line" href="[^"]+" title="([^"]*)"', page), page


def test_the_inbox_shows_what_waits_for_each_role(sample_text, editor, reviewer, client, django_user_model):
    texts = {
        name: sample_text.replace("anp-ref-035445-8950", f"anp-ref-{n:06d}-0000").replace(
            "production checklist", f"{name} checklist", 1
        )
        for n, name in enumerate(["draft", "review", "approved", "changes"])
    }
    articles = {}
    for name, text in texts.items():
        result = import_documents([Source(f"{name}.txt", text.encode())])
        articles[name] = Article.objects.get(reference=f"anp-ref-{list(texts).index(name):06d}-0000")
        assert result.counts
        edit(articles[name], editor, summary=f"{name} summary")
    for name in ("review", "approved", "changes"):
        services.article_submit(article=fresh(articles[name]), user=editor)
    services.article_approve(article=fresh(articles["approved"]), user=reviewer)
    services.article_request_changes(article=fresh(articles["changes"]), user=reviewer, note="redo")
    from django.contrib.auth.models import Group, Permission

    editors_only = Group.objects.get(name="Editors")
    assert not editors_only.permissions.filter(codename="publish_article").exists()
    editor.user_permissions.add(Permission.objects.get(codename="review_article"))

    client.force_login(reviewer)
    titles, page = _queue_rows(client)
    assert sorted(titles) == sorted([articles["review"].title, articles["approved"].title])
    assert "Waiting for me" in page and "in_review" not in re.sub(
        r"\?show=in_review|class=\"[^\"]*\"", "", page
    )
    client.force_login(editor)  # may review, may not publish: approved work does not wait for them
    titles, _ = _queue_rows(client)
    assert titles == [articles["review"].title]
    client.force_login(reviewer)
    titles, _ = _queue_rows(client, "?show=all")
    assert len(titles) == 4
    titles, _ = _queue_rows(client, "?show=changes_requested")
    assert titles == [articles["changes"].title]
    _, page = _queue_rows(client, "?show=all")
    assert 'class="badge conflict"' not in page  # no conflict, no badge
    assert "redo" in page  # the last note


def test_the_inbox_and_change_page_query_counts_do_not_grow_with_rows(
    sample_text, editor, reviewer, client, django_assert_max_num_queries
):
    sources = [
        Source(f"q{n}.txt", sample_text.replace("anp-ref-035445-8950", f"anp-ref-{n:06d}-1111").encode())
        for n in range(100)
    ]
    import_documents(sources)
    for article in Article.objects.all():
        edit(article, editor, summary=f"edited {article.pk}")
        services.article_submit(article=fresh(article), user=editor)
        services.comment_add(article=fresh(article), user=reviewer, body="check")
    client.force_login(reviewer)
    url = reverse("admin:releases_reviewqueueitem_changelist")
    with django_assert_max_num_queries(14):
        titles, _ = _queue_rows(client, "?show=all")
    assert len(titles) == 50  # one page
    article = Article.objects.order_by("pk").first()
    for _ in range(5):
        edit(article, editor, summary=f"again {_}")
    with django_assert_max_num_queries(40):
        response = client.get(change_url(article))
    assert response.status_code == 200 and url
    assert Revision.objects.filter(article=article).count() > 5


def test_the_index_count_waiting_for_you_is_the_inbox(sample_article, editor, sample_text, reviewer, client):
    """One definition of 'waiting for me' (work in review, approved work, conflicts) serves the
    index's count and the inbox it links to: an import conflicting with a draft waits too."""
    edit(sample_article, editor)
    newer = sample_text.replace("version: 1.5.4", "version: 1.6.0").replace(
        "difficultyadvanced", "difficultyintermediate"
    )
    assert import_documents([Source("newer.txt", newer.encode())]).counts["updated"] == 1
    assert Release.objects.get(article_id=sample_article.pk).conflict_revision_id is not None
    other = sample_text.replace("anp-ref-035445-8950", "anp-ref-000777-0000").replace(
        "production checklist", "conflict-free checklist", 1
    )
    import_documents([Source("other.txt", other.encode())])
    client.force_login(reviewer)
    index = client.get(reverse("admin:index")).content.decode()
    count = int(re.search(r"<strong>(\d+)</strong> articles? waiting for you", index).group(1))
    titles, _ = _queue_rows(client)
    assert count == len(titles) == 1

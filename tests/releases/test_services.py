"""The review workflow: transitions, roles, versions, rollback, history and conflicts."""

import datetime as dt

import pytest

from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleState
from releases import services
from releases.importing import import_document
from releases.models import AuditEvent, Release, Revision


def pending_state(article) -> str:
    """The review state of the article's pending work ("" when none)."""
    return Release.objects.get(article_id=article.pk).review_state


pytestmark = pytest.mark.django_db


def fresh(article):
    return content_prefetch(Article.objects.filter(pk=article.pk)).get()


def live_content(article):
    return content_from_article(fresh(article))


def edited(article, **changes):
    content = live_content(article)
    content.update(changes)
    return content


def to_review(article, editor, **changes):
    services.article_edit(article=article, user=editor, content=edited(article, **changes))
    services.article_submit(article=article, user=editor)


def test_edit_then_publish_keeps_readers_on_the_live_text_until_publish(sample_article, editor, reviewer):
    revision = services.article_edit(
        article=sample_article, user=editor, content=edited(sample_article, summary="a better summary")
    )
    assert revision.kind == "edit" and revision.state == "draft" and revision.number == 2
    article = fresh(sample_article)
    assert article.state == ArticleState.PUBLISHED and pending_state(article) == ArticleState.DRAFT
    assert Article.objects.live().filter(pk=article.pk).exists()
    assert article.summary.startswith("this ai-style technical summary")

    services.article_submit(article=article, user=editor)
    services.article_approve(article=article, user=reviewer, note="fine")
    assert fresh(article).summary.startswith("this ai-style")  # still the live text
    published = services.article_publish(article=article, user=reviewer, note="ship it", bump="minor")
    article = fresh(article)
    assert article.summary == "a better summary"
    assert article.version == "1.6.0" == published.version
    assert article.state == ArticleState.PUBLISHED and pending_state(article) == ""
    assert article.last_reviewed == dt.date.today() and article.needs_human_review is False


@pytest.mark.parametrize(("bump", "expected"), [("patch", "1.5.5"), ("minor", "1.6.0"), ("major", "2.0.0")])
def test_publish_bumps_the_live_version(sample_article, editor, reviewer, bump, expected):
    to_review(sample_article, editor, summary="changed")
    services.article_approve(article=sample_article, user=reviewer)
    services.article_publish(article=sample_article, user=reviewer, note="n", bump=bump)
    assert fresh(sample_article).version == expected


def test_versions_bump_numerically():
    assert services.bump_version("1.9.9", "patch") == "1.9.10"
    assert services.bump_version("1.9.0", "minor") == "1.10.0"
    assert services.bump_version(None, "patch") == "1.0.0"
    with pytest.raises(services.InvalidTransition):
        services.bump_version("1.0.0", "huge")


def test_editor_can_never_publish_approve_or_roll_back(sample_article, editor):
    to_review(sample_article, editor, summary="x")
    for action, kwargs in [
        (services.article_approve, {}),
        (services.article_request_changes, {"note": "no"}),
        (services.article_publish, {"note": "n"}),
        (services.article_rollback, {"note": "n", "version": "1.5.4"}),
        (services.article_archive, {"note": "n"}),
    ]:
        with pytest.raises(services.ActionForbidden):
            action(article=sample_article, user=editor, **kwargs)
    assert pending_state(fresh(sample_article)) == ArticleState.IN_REVIEW


def test_anonymous_and_plain_users_can_do_nothing(sample_article, django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody", password="x")
    for user in (None, nobody):
        with pytest.raises(services.ActionForbidden):
            services.article_edit(article=sample_article, user=user, content=live_content(sample_article))
        with pytest.raises(services.ActionForbidden):
            services.article_submit(article=sample_article, user=user)


TRANSITIONS = [
    # (state reached first, action, allowed)
    ("published", "submit", False),
    ("published", "approve", False),
    ("published", "request_changes", False),
    ("published", "publish", False),
    ("published", "archive", True),
    ("draft", "submit", True),
    ("draft", "approve", False),
    ("draft", "publish", False),
    ("in_review", "submit", False),
    ("in_review", "approve", True),
    ("in_review", "request_changes", True),
    ("in_review", "publish", False),
    ("changes_requested", "submit", True),
    ("changes_requested", "approve", False),
    ("reviewed", "publish", True),
    ("reviewed", "approve", False),
    ("reviewed", "submit", False),
    ("archived", "publish", True),
    ("archived", "archive", False),
]


def reach(state, article, editor, reviewer):
    if state == "published":
        return
    if state == "archived":
        services.article_archive(article=article, user=reviewer, note="down")
        return
    services.article_edit(article=article, user=editor, content=edited(article, summary="s"))
    if state == "draft":
        return
    services.article_submit(article=article, user=editor)
    if state == "in_review":
        return
    if state == "changes_requested":
        services.article_request_changes(article=article, user=reviewer, note="more")
        return
    services.article_approve(article=article, user=reviewer)


def act(action, article, user):
    calls = {
        "submit": lambda: services.article_submit(article=article, user=user),
        "approve": lambda: services.article_approve(article=article, user=user),
        "request_changes": lambda: services.article_request_changes(article=article, user=user, note="why"),
        "publish": lambda: services.article_publish(article=article, user=user, note="go"),
        "archive": lambda: services.article_archive(article=article, user=user, note="down"),
    }
    return calls[action]()


@pytest.mark.parametrize(("state", "action", "allowed"), TRANSITIONS)
def test_state_machine(sample_article, editor, reviewer, state, action, allowed):
    reach(state, sample_article, editor, reviewer)
    assert services.review_state(fresh(sample_article)) == state
    events_before = AuditEvent.objects.count()
    if allowed:
        act(action, sample_article, reviewer)
        assert AuditEvent.objects.count() == events_before + 1
    else:
        with pytest.raises(services.InvalidTransition) as refused:
            act(action, sample_article, reviewer)
        assert refused.value.message
        assert services.review_state(fresh(sample_article)) == state
        assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("action", ["request_changes", "publish", "archive"])
def test_notes_are_required(sample_article, editor, reviewer, action):
    reach("in_review" if action == "request_changes" else "reviewed", sample_article, editor, reviewer)
    if action == "archive":
        sample_article = fresh(sample_article)
    kwargs = {"article": sample_article, "user": reviewer, "note": "  "}
    function = {
        "request_changes": services.article_request_changes,
        "publish": services.article_publish,
        "archive": services.article_archive,
    }[action]
    with pytest.raises(services.NoteRequired):
        function(**kwargs)


def test_rollback_restores_the_earlier_content_as_a_new_version(sample_article, editor, reviewer):
    original = live_content(sample_article)
    to_review(sample_article, editor, summary="second text", checklist=["only one step"])
    services.article_approve(article=sample_article, user=reviewer)
    services.article_publish(article=sample_article, user=reviewer, note="v2", bump="minor")
    assert fresh(sample_article).version == "1.6.0"

    revision = services.article_rollback(
        article=sample_article, user=reviewer, version="1.5.4", note="the new text confused readers"
    )
    restored = live_content(sample_article)
    assert restored["revision"]["version"] == "1.6.1" == revision.version
    assert {k: v for k, v in restored.items() if k != "revision"} == {
        k: v for k, v in original.items() if k != "revision"
    }
    assert revision.kind == "rollback" and revision.note == "the new text confused readers"
    assert [r.number for r in Revision.objects.filter(article=sample_article)] == [5, 4, 3, 2, 1]


def test_rollback_needs_a_published_version_that_is_not_live(sample_article, reviewer):
    with pytest.raises(services.InvalidTransition):
        services.article_rollback(article=sample_article, user=reviewer, version="1.5.4", note="n")
    with pytest.raises(services.InvalidTransition):
        services.article_rollback(article=sample_article, user=reviewer, version="9.9.9", note="n")


def test_history_is_complete_after_every_path(sample_article, editor, reviewer):
    to_review(sample_article, editor, summary="x")
    services.article_request_changes(article=sample_article, user=reviewer, note="say more")
    services.article_edit(article=sample_article, user=editor, content=edited(sample_article, summary="xy"))
    services.article_submit(article=sample_article, user=editor)
    services.article_approve(article=sample_article, user=reviewer)
    services.article_publish(article=sample_article, user=reviewer, note="ok")
    services.article_archive(article=sample_article, user=reviewer, note="down")
    services.article_publish(article=sample_article, user=reviewer, note="back")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "to_state", "user__username"))
    assert actions == [
        ("import", "published", None),
        ("edit", "draft", "edith"),
        ("submit", "in_review", "edith"),
        ("request_changes", "changes_requested", "rita"),
        ("edit", "draft", "edith"),
        ("submit", "in_review", "edith"),
        ("approve", "reviewed", "rita"),
        ("publish", "published", "rita"),
        ("archive", "archived", "rita"),
        ("publish", "published", "rita"),
    ]
    kinds = list(
        Revision.objects.filter(article=sample_article).order_by("number").values_list("kind", flat=True)
    )
    assert kinds == ["import", "edit", "edit", "review", "publish", "publish"]
    assert fresh(sample_article).version == "1.5.6"


def test_archive_hides_the_article_and_publishing_brings_it_back(sample_article, reviewer):
    services.article_archive(article=sample_article, user=reviewer, note="outdated")
    assert not Article.objects.live().exists()
    services.article_publish(article=sample_article, user=reviewer, note="back again")
    assert Article.objects.live().get().version == "1.5.5"


def test_second_save_from_a_stale_revision_is_a_conflict(sample_article, editor, reviewer):
    start = Revision.objects.get(article=sample_article).number
    services.article_edit(
        article=sample_article, user=editor, content=edited(sample_article, summary="mine"), base_number=start
    )
    with pytest.raises(services.EditConflict) as conflict:
        services.article_edit(
            article=sample_article,
            user=reviewer,
            content=edited(sample_article, summary="theirs"),
            base_number=start,
        )
    assert "edith" in conflict.value.message
    latest = Revision.objects.filter(article=sample_article).order_by("-number").first()
    assert latest.content["summary"] == "mine"


def test_reference_cannot_change_and_bad_content_is_refused(sample_article, editor):
    with pytest.raises(services.InvalidContent):
        services.article_edit(
            article=sample_article, user=editor, content=edited(sample_article, reference="x")
        )
    with pytest.raises(services.InvalidContent) as bad:
        services.article_edit(
            article=sample_article, user=editor, content=edited(sample_article, title="t" * 600)
        )
    assert bad.value.problems[0]["field"] == "title"
    assert Revision.objects.filter(article=sample_article).count() == 1


def test_import_on_top_of_editor_changes_is_a_flagged_draft_that_overwrites_nothing(
    sample_article, sample_text, editor
):
    services.article_edit(
        article=sample_article, user=editor, content=edited(sample_article, summary="editor")
    )
    changed = sample_text.replace("version: 1.5.4", "version: 1.5.9").replace(
        "difficultyadvanced", "difficultyeasy"
    )
    result = import_document(changed.encode(), path="new.txt")
    assert result.outcome == "updated"
    assert "conflict" in result.warnings[-1]["message"]
    article = fresh(sample_article)
    assert article.difficulty == "advanced" and pending_state(article) == ArticleState.DRAFT
    latest = Revision.objects.filter(article=article).order_by("-number").first()
    assert latest.kind == "import" and latest.conflict and latest.content["difficulty"] == "easy"
    editor_draft = Revision.objects.get(article=article, kind="edit")
    assert editor_draft.content["summary"] == "editor"


def test_imported_draft_for_a_never_published_article_goes_through_review(sample_text, editor, reviewer):
    result = import_document(sample_text.replace("needs human review: 0", "needs human review: 1").encode())
    article = Article.objects.get(pk=result.article_id)
    assert article.state == ArticleState.DRAFT and not Article.objects.live().exists()
    services.article_submit(article=article, user=editor)
    services.article_approve(article=article, user=reviewer)
    assert fresh(article).needs_human_review is False
    services.article_publish(article=article, user=reviewer, note="first release")
    article = fresh(article)
    assert article.state == ArticleState.PUBLISHED and article.published_at is not None
    assert article.version == "1.5.5"


def test_an_entity_rename_is_a_new_revision_of_every_article_naming_it(sample_article, superuser, editor):
    from articles.models import Entity

    entity = Entity.objects.filter(articles=sample_article).first()
    before = Revision.objects.filter(article=sample_article).count()
    with pytest.raises(services.ActionForbidden):
        services.entity_rename(entity=entity, user=editor, name="renamed by an editor")
    assert Revision.objects.filter(article=sample_article).count() == before

    assert services.entity_rename(entity=entity, user=superuser, name="a clearer name") == 1
    live = live_content(sample_article)
    names = [item["name"] for item in live["entities"] if item["type"] == entity.type]
    assert "a clearer name" in names and entity.name not in names
    release = Release.objects.get(article_id=sample_article.pk)
    assert release.live_revision.kind == "rename" and release.live_revision.content == live
    assert release.live_revision.version == "1.5.5"
    event = AuditEvent.objects.filter(article=sample_article).order_by("-id").first()
    assert event.action == "rename_entity" and event.revision_id == release.live_revision_id

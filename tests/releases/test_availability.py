"""Which workflow action applies, for every state an article can be in and every role.

``services.action_availability`` is what pages offer; the actions themselves decide what runs.
Both read the same rules (``services.RULES``), and this table checks that they agree: an action
is offered exactly when running it succeeds, and when it is not offered, running it fails with the
reason the page shows. The change page offers exactly the available actions, and says why the
others are not offered.
"""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from articles.models import Article
from releases import services
from releases.importing import import_document
from releases.models import Release
from tests.conftest import import_variant

pytestmark = pytest.mark.django_db

ROLES = ("editor", "reviewer", "superuser", "viewer")


def _edited(article, editor, summary="an edited summary"):
    services.article_edit(
        article=article, user=editor, content={**services.pending_content(article), "summary": summary}
    )


def _draft(article, editor, reviewer, superuser, sample_text):
    _edited(article, editor)


def _in_review(article, editor, reviewer, superuser, sample_text):
    _edited(article, editor)
    services.article_submit(article=article, user=editor)


def _changes_requested(article, editor, reviewer, superuser, sample_text):
    _in_review(article, editor, reviewer, superuser, sample_text)
    services.article_request_changes(article=article, user=reviewer, note="shorter please")


def _approved(article, editor, reviewer, superuser, sample_text):
    _in_review(article, editor, reviewer, superuser, sample_text)
    services.article_approve(article=article, user=reviewer)


def _published_twice(article, editor, reviewer, superuser, sample_text):
    _approved(article, editor, reviewer, superuser, sample_text)
    services.article_publish(article=article, user=superuser, note="second version")


def _archived(article, editor, reviewer, superuser, sample_text):
    services.article_archive(article=article, user=superuser, note="outdated")


def _conflict(article, editor, reviewer, superuser, sample_text):
    _in_review(article, editor, reviewer, superuser, sample_text)
    newer = sample_text.replace("version: 1.5.4", "version: 1.6.0").replace(
        "difficultyadvanced", "difficultyintermediate"
    )
    assert import_document(newer.encode(), path="newer.txt").outcome == "updated"
    assert Release.objects.get(article_id=article.pk).conflict_revision_id is not None


STATES = {
    "live, nothing pending": lambda *args: None,
    "draft": _draft,
    "in review": _in_review,
    "changes requested": _changes_requested,
    "approved": _approved,
    "published twice": _published_twice,
    "archived": _archived,
    "conflict": _conflict,
}


@pytest.fixture
def viewer(django_user_model):
    """Staff with no workflow permission at all."""
    return django_user_model.objects.create_user("vera", password="pw-vera", is_staff=True)


def _run(action, article, user):
    """Run ``action`` as ``user`` with what it needs (a note, a rollback target, a resolution)."""
    if action == "rollback":
        live = Release.objects.get(article_id=article.pk).live_revision_id
        earlier = (
            article.revisions.filter(state="published").exclude(pk=live).order_by("-number").first()
            if article.state == "published"
            else article.revisions.filter(state="published").order_by("-number").first()
        )
        number = earlier.number if earlier is not None else 1
        return services.article_rollback(article=article, user=user, note="back", revision=number)
    if action == "resolve":
        return services.conflict_resolve(article=article, user=user, choices={}, note="kept ours")
    if action == "comment":
        return services.comment_add(article=article, user=user, body="a comment")
    function = getattr(services, f"article_{action}")
    return function(article=article, user=user, note="a note")


@pytest.mark.parametrize("state", STATES)
def test_an_action_is_offered_exactly_when_it_runs(
    request, state, sample_article, sample_text, editor, reviewer, superuser, viewer
):
    STATES[state](sample_article, editor, reviewer, superuser, sample_text)
    table = {}
    for role in ROLES:
        user = request.getfixturevalue(role)
        for item in services.action_availability(Article.objects.get(pk=sample_article.pk), user):
            assert item.allowed == (item.reason == ""), item
            try:
                with transaction.atomic():
                    _run(item.action, Article.objects.get(pk=sample_article.pk), user)
                    transaction.set_rollback(True)
            except services.WorkflowError as error:
                assert not item.allowed, f"{role} could {item.action} ({state}) though it was not offered"
                assert error.message == item.reason, (role, item.action, state)
            else:
                assert item.allowed, f"{role} was refused {item.action} ({state}): {item.reason}"
            table[role, item.action] = item.allowed
    # The table is not trivially all-yes or all-no: each state offers something to someone, and
    # a staff user without workflow permissions is offered nothing.
    assert any(table.values()) and not any(
        allowed for (role, _), allowed in table.items() if role == "viewer"
    )


def test_the_table_differs_by_state(sample_article, sample_text, editor, reviewer, superuser):
    """Each state's set of actions a superuser may take differs from the live article's."""
    live = {item.action for item in services.action_availability(sample_article, superuser) if item.allowed}
    assert live == {"archive", "request_review"}
    _in_review(sample_article, editor, reviewer, superuser, sample_text)
    in_review = {
        item.action for item in services.action_availability(sample_article, superuser) if item.allowed
    }
    assert in_review == {"approve", "request_changes", "archive", "comment"}


@pytest.mark.parametrize("role", ["editor", "reviewer", "superuser"])
@pytest.mark.parametrize("state", ["draft", "in review", "approved", "conflict", "archived"])
def test_the_change_page_offers_exactly_the_available_actions(
    request, client, role, state, sample_article, sample_text, editor, reviewer, superuser
):
    STATES[state](sample_article, editor, reviewer, superuser, sample_text)
    user = request.getfixturevalue(role)
    client.force_login(user)
    page = client.get(reverse("admin:articles_article_change", args=[sample_article.pk])).content.decode()
    block = page[
        page.index('class="workflow-actions"') : page.index("</p>", page.index('class="workflow-actions"'))
    ]
    for item in services.action_availability(Article.objects.get(pk=sample_article.pk), user):
        if item.action in ("rollback", "resolve", "comment"):
            continue
        assert (f">{item.label}</a>" in block) == item.allowed, (role, state, item)
        if not item.allowed and item.role_allows:
            assert item.reason in page.replace("&#x27;", "'"), (role, state, item)
        elif not item.allowed:
            assert re.search(r"Your role does not [^<]*" + item.label.lower(), page), (role, state, item)


NOT_IN_REVIEW = "{} only for an article in review; this article is {}."
NOTHING_PENDING = "Nothing is pending: edit the article to make a draft first."
NO_CONFLICT = "This article has no import conflict to resolve."
NO_EARLIER = "No earlier published version to restore."
ALREADY_PENDING = "It has pending changes already: they are in the review queue."
# What a superuser is told, state by state: "" where the action applies. The words are the
# pages' and the API's, so a changed rule or message fails here even when the page and the
# action still agree with each other.
REASONS = {
    "live, nothing pending": {
        "submit": NOTHING_PENDING,
        "approve": NOT_IN_REVIEW.format("Approval is", "published"),
        "request_changes": NOT_IN_REVIEW.format("Changes can be requested", "published"),
        "resolve": NO_CONFLICT,
        "request_review": "",
        "comment": "Comments are on pending changes, and nothing is pending.",
        "publish": "Nothing is approved to publish: there are no pending changes.",
        "rollback": NO_EARLIER,
        "archive": "",
    },
    "draft": {
        "submit": "",
        "approve": NOT_IN_REVIEW.format("Approval is", "draft"),
        "request_changes": NOT_IN_REVIEW.format("Changes can be requested", "draft"),
        "resolve": NO_CONFLICT,
        "request_review": ALREADY_PENDING,
        "comment": "",
        "publish": "Only approved changes can be published; this article is draft.",
        "rollback": NO_EARLIER,
        "archive": "",
    },
    "approved": {
        "submit": "Only a draft can be submitted for review; this article is approved.",
        "approve": NOT_IN_REVIEW.format("Approval is", "approved"),
        "request_changes": NOT_IN_REVIEW.format("Changes can be requested", "approved"),
        "resolve": NO_CONFLICT,
        "request_review": ALREADY_PENDING,
        "comment": "",
        "publish": "",
        "rollback": NO_EARLIER,
        "archive": "",
    },
    "archived": {
        "submit": NOTHING_PENDING,
        "approve": NOT_IN_REVIEW.format("Approval is", "archived"),
        "request_changes": NOT_IN_REVIEW.format("Changes can be requested", "archived"),
        "resolve": NO_CONFLICT,
        "request_review": "Only a live article can be sent back to review; this article is archived.",
        "comment": "Comments are on pending changes, and nothing is pending.",
        "publish": "",
        "rollback": "",
        "archive": "Only a published article can be archived; this article is archived.",
    },
}


@pytest.mark.parametrize("state", REASONS)
def test_each_state_gives_its_reasons_in_words(
    state, sample_article, sample_text, editor, reviewer, superuser
):
    # Another live article with versions of its own: only this article's versions count for it.
    import_variant(1, "Another live article", series="av")
    STATES[state](sample_article, editor, reviewer, superuser, sample_text)
    items = services.action_availability(Article.objects.get(pk=sample_article.pk), superuser)
    assert {item.action: item.reason for item in items} == REASONS[state]
    assert all(item.role_allows for item in items)


def test_a_conflict_names_the_import_that_blocks_publishing(
    sample_article, sample_text, editor, reviewer, superuser
):
    _conflict(sample_article, editor, reviewer, superuser, sample_text)
    release = Release.objects.select_related("conflict_revision").get(article_id=sample_article.pk)
    assert release.conflict_revision.number == sample_article.revisions.order_by("-number").first().number
    reasons = {item.action: item.reason for item in services.action_availability(sample_article, superuser)}
    assert reasons["publish"] == (
        f"An import (revision {release.conflict_revision.number}) conflicts with the pending changes: "
        "resolve the conflict before publishing."
    )
    assert reasons["resolve"] == ""


def test_what_a_role_may_not_do_is_said_and_marked(sample_article, editor, superuser, viewer):
    items = {item.action: item for item in services.action_availability(sample_article, editor)}
    assert items["publish"].role_allows is False
    assert items["publish"].reason == "You are not allowed to publish articles."
    assert items["submit"].role_allows is True
    assert (services.may(editor, "publish"), services.may(editor, "submit")) == (False, True)
    assert (services.may(superuser, "publish"), services.may(viewer, "comment")) == (True, False)


def test_a_missing_note_is_refused_with_the_action_named(sample_article, superuser):
    for note in (None, "", "   "):
        with pytest.raises(services.NoteRequired) as refused:
            services.article_archive(article=sample_article, user=superuser, note=note)
        assert refused.value.message == "A note is required to archive."


def test_editing_without_the_permission_names_what_is_refused(sample_article, viewer):
    with pytest.raises(services.ActionForbidden) as refused:
        services.article_edit(
            article=sample_article, user=viewer, content=services.pending_content(sample_article)
        )
    assert refused.value.message == "You are not allowed to edit articles."

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

"""Reviewers acting on the same article at the same moment, on PostgreSQL.

Each action runs in a thread of its own, with its own database connection. The test holds the
article's row lock while the threads start, so that every action is waiting at the same point
(the lock each service takes first); releasing it lets them race for real.
"""

import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from articles.models import Article
from releases import services
from releases.importing import import_document
from releases.models import AuditEvent, Release, Revision
from tests.conftest import _user_in_group
from tests.faults.conftest import wait_for


def pending_state(article) -> str:
    """The review state of the article's pending work ("" when none)."""
    return Release.objects.get(article_id=article.pk).review_state


pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def waiting(pids: list) -> bool:
    """Whether every one of these backends is waiting for a lock."""
    if None in pids:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND pid = ANY(%s)", [pids])
        return len(cursor.fetchall()) == len(pids)


def race(article: Article, *calls) -> list:
    """Run the calls at once, each in its own thread; returns each one's result or exception."""
    results: list = [None] * len(calls)
    pids: list = [None] * len(calls)

    def run(index, call):
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids[index] = cursor.fetchone()[0]
            results[index] = call()
        except Exception as exc:  # the refused action's error is a result here
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    with transaction.atomic():
        Article.objects.select_for_update().get(pk=article.pk)
        for thread in threads:
            thread.start()
        wait_for(lambda: waiting(pids), 30, what=f"every action to wait for the row lock: {results}")
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return results


@pytest.fixture
def second_reviewer(db, django_user_model):
    return _user_in_group(django_user_model, "rosa", "Reviewers", is_staff=True)


@pytest.fixture
def approved(sample_article, editor, reviewer):
    """The sample article (live at 1.5.4) with approved changes waiting to be published."""
    content = {**services.pending_content(sample_article), "summary": "approved changes"}
    services.article_edit(article=sample_article, user=editor, content=content)
    services.article_submit(article=sample_article, user=reviewer)
    services.article_approve(article=sample_article, user=reviewer)
    article = Article.objects.get(pk=sample_article.pk)
    assert services.review_state(article) == "reviewed"
    return article


def assert_history_consistent(article: Article) -> None:
    """Revision numbers run 1..n without gaps or repeats, and each revision has one audit event."""
    numbers = list(
        Revision.objects.filter(article=article).order_by("number").values_list("number", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))
    per_revision = Counter(
        AuditEvent.objects.filter(article=article, revision__isnull=False).values_list(
            "revision_id", flat=True
        )
    )
    assert set(per_revision.values()) == {1}
    assert len(per_revision) == len(numbers)


def test_two_reviewers_publishing_at_once_one_wins_the_other_gets_a_conflict(
    approved, reviewer, second_reviewer
):
    before = Revision.objects.filter(article=approved).count()
    results = race(
        approved,
        lambda: services.article_publish(article=approved, user=reviewer, note="ship it", bump="minor"),
        lambda: services.article_publish(article=approved, user=second_reviewer, note="me too", bump="major"),
    )
    (won,) = [r for r in results if isinstance(r, Revision)]
    (lost,) = [r for r in results if isinstance(r, Exception)]
    assert isinstance(lost, services.InvalidTransition), repr(lost)
    assert "Nothing is approved to publish: there are no pending changes." in lost.message

    article = Article.objects.get(pk=approved.pk)
    assert article.state == "published" and pending_state(article) == ""
    assert article.version == won.version and won.version in ("1.6.0", "2.0.0")
    assert article.summary == "approved changes"
    assert Revision.objects.filter(article=article).count() == before + 1
    assert Revision.objects.filter(article=article, kind="publish").get() == won
    assert AuditEvent.objects.filter(article=article, action="publish").count() == 1
    assert_history_consistent(article)


def test_two_reviewers_approving_at_once_make_one_review_revision(
    approved, reviewer, second_reviewer, editor
):
    content = {**services.pending_content(approved), "summary": "more changes"}
    services.article_edit(article=approved, user=editor, content=content)
    services.article_submit(article=approved, user=editor)
    results = race(
        approved,
        lambda: services.article_approve(article=approved, user=reviewer),
        lambda: services.article_approve(article=approved, user=second_reviewer),
    )
    assert sum(isinstance(r, Article) for r in results) == 1
    (lost,) = [r for r in results if isinstance(r, Exception)]
    assert isinstance(lost, services.InvalidTransition), repr(lost)
    assert AuditEvent.objects.filter(article=approved, action="approve").count() == 2  # one per round
    assert Revision.objects.filter(article=approved, kind="review").count() == 2
    assert_history_consistent(approved)


def test_two_editors_saving_from_the_same_revision_at_once_one_gets_an_edit_conflict(
    sample_article, editor, django_user_model
):
    other = _user_in_group(django_user_model, "emil", "Editors", is_staff=True)
    base = services.latest_revision(sample_article).number
    content = services.pending_content(sample_article)
    results = race(
        sample_article,
        lambda: services.article_edit(
            article=sample_article, user=editor, content={**content, "summary": "by edith"}, base_number=base
        ),
        lambda: services.article_edit(
            article=sample_article, user=other, content={**content, "summary": "by emil"}, base_number=base
        ),
    )
    (won,) = [r for r in results if isinstance(r, Revision)]
    (lost,) = [r for r in results if isinstance(r, Exception)]
    assert isinstance(lost, services.EditConflict), repr(lost)
    assert won.number == base + 1
    assert services.pending_content(sample_article)["summary"] == won.content["summary"]
    assert Revision.objects.filter(article=sample_article).count() == base + 1
    assert_history_consistent(sample_article)


def test_publishing_while_an_import_updates_the_article_keeps_the_history_consistent(
    approved, reviewer, sample_text
):
    newer = sample_text.replace("version: 1.5.4", "version: 1.9.0").replace(
        "difficultyadvanced", "difficultyintermediate"
    )
    published, imported = race(
        approved,
        lambda: services.article_publish(article=approved, user=reviewer, note="ship it"),
        lambda: import_document(newer.encode(), path="newer.txt"),
    )
    # Whichever took the lock first, the other saw its result: an import after the publish
    # updates the live article; an import before it is kept beside the approved work as a
    # conflict (editors' work is never overwritten), and the publish is refused until a reviewer
    # resolves it.
    assert imported.outcome == "updated", imported
    article = Article.objects.get(pk=approved.pk)
    if isinstance(published, Exception):
        assert isinstance(published, services.InvalidTransition), repr(published)
        release = Release.objects.get(article_id=article.pk)
        assert release.review_state == "reviewed" and release.conflict_revision_id is not None
        assert article.version == "1.5.4"
    else:
        assert article.version == "1.9.0"
    publishes = 0 if isinstance(published, Exception) else 1
    assert Revision.objects.filter(article=article, kind="publish").count() == publishes
    assert Revision.objects.filter(article=article, kind="import").count() == 2
    assert article.version == services.live_revision(article).version
    assert_history_consistent(article)

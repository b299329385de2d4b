"""An editor's publish while a long similar-posts refresh (an import's) holds the lists, on
PostgreSQL: the editor's answer does not wait for it, and the refresh holding the lists takes
the published article along once it is done, so no change is lost.

The import's refresh runs in a thread of its own, with its own connection; it holds the lists'
lock until the editor has had an answer (or 30 seconds, the server's timeout, have passed).
"""

import threading

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from articles import similarity
from articles.bulk import lock_for_rewrite
from articles.models import Article, SimilarArticle, SimilarPending
from articles.similarity import incremental
from releases import services
from tests.articles.test_similarity import GROUPS, document, import_all, stored_lists
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SERVER_TIMEOUT = 30  # seconds: gunicorn's worker timeout in production


@pytest.fixture
def corpus_with_approved_drafts(reviewer):
    """Live articles with similar posts, and three drafts approved and waiting to be published."""
    import_all(*((f"{group}-{n}", document(group, n)) for group in GROUPS for n in range(4)))
    import_all(*((f"bundles-{n}", document("bundles", n, review=1)) for n in range(10, 13)))
    drafts = list(
        Article.objects.filter(reference__in=["bundles-10", "bundles-11", "bundles-12"]).order_by("pk")
    )
    assert len(drafts) == 3 and all(article.state == "draft" for article in drafts)
    for article in drafts:
        services.article_submit(article=article, user=reviewer)
        services.article_approve(article=article, user=reviewer)
    return drafts


class LongRefresh:
    """A refresh in another thread that keeps the lists' lock until ``answered`` is set; records
    which articles each refresh scored, and in which thread."""

    def __init__(self, monkeypatch):
        self.holding = threading.Event()
        self.answered = threading.Event()
        self.released_by_answer: bool | None = None
        self.runs: list[tuple[str, set[int]]] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._refresh, name="import-refresh")
        original = incremental._Refresh.run

        def run(refresh):
            self.runs.append((threading.current_thread().name, set(refresh.touched)))
            if threading.current_thread() is self.thread and not self.holding.is_set():
                self.holding.set()
                self.released_by_answer = self.answered.wait(SERVER_TIMEOUT)
            original(refresh)

        monkeypatch.setattr(incremental._Refresh, "run", run)

    def start(self, article_ids: list[int]) -> None:
        self.article_ids = article_ids
        self.thread.start()
        wait_for(self.holding.is_set, 30, what="the import's refresh to hold the lists")

    def _refresh(self) -> None:
        try:
            similarity.refresh(self.article_ids)  # as an import's: it waits for the lock
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
        finally:
            connections.close_all()

    def finish(self) -> None:
        self.answered.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        assert self.error is None


def test_a_publish_answers_while_an_imports_refresh_holds_the_lists(
    client, reviewer, corpus_with_approved_drafts, monkeypatch
):
    draft = corpus_with_approved_drafts[0]
    live = Article.objects.live().order_by("pk")[0]
    refresh = LongRefresh(monkeypatch)
    refresh.start([live.pk])
    client.force_login(reviewer)
    publish = reverse("admin:articles_article_publish", args=[draft.pk])
    response = client.post(publish, {"note": "release", "bump": "minor"})
    answered_while_held = refresh.released_by_answer is None
    refresh.finish()

    assert response.status_code == 302
    assert Article.objects.get(pk=draft.pk).state == "published"
    # The editor had the answer while the lists were still held, and never refreshed itself.
    assert answered_while_held and refresh.released_by_answer is True
    assert refresh.runs == [("import-refresh", {live.pk}), ("import-refresh", {draft.pk})]
    # The holder took the published article along: the lists are the ones a rebuild gives.
    assert not SimilarPending.objects.exists()
    assert SimilarArticle.objects.filter(article=draft).exists()
    refreshed = stored_lists()
    similarity.rebuild_all(keep_weights=True)
    assert stored_lists() == refreshed


def test_a_bulk_publish_answers_while_an_imports_refresh_holds_the_lists(
    client, reviewer, corpus_with_approved_drafts, monkeypatch
):
    drafts = corpus_with_approved_drafts
    live = Article.objects.live().order_by("pk")[0]
    refresh = LongRefresh(monkeypatch)
    refresh.start([live.pk])
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:releases_reviewqueueitem_changelist"),
        {"action": "bulk_publish", "_selected_action": [a.pk for a in drafts], "apply": "1",
         "note": "together", "bump": "minor"},
    )  # fmt: skip
    answered_while_held = refresh.released_by_answer is None
    refresh.finish()

    assert response.status_code == 302
    assert Article.objects.filter(pk__in=[a.pk for a in drafts], state="published").count() == 3
    assert answered_while_held and refresh.released_by_answer is True
    assert refresh.runs == [("import-refresh", {live.pk}), ("import-refresh", {a.pk for a in drafts})]
    assert not SimilarPending.objects.exists()
    refreshed = stored_lists()
    similarity.rebuild_all(keep_weights=True)
    assert stored_lists() == refreshed


def test_an_api_import_answers_while_an_imports_refresh_holds_the_lists(
    reviewer, corpus_with_approved_drafts, monkeypatch
):
    live = Article.objects.live().order_by("pk")[0]
    refresh = LongRefresh(monkeypatch)
    refresh.start([live.pk])
    client = APIClient()
    client.force_authenticate(reviewer)
    response = client.post("/api/imports/", data=document("rollbacks", 20), content_type="text/plain")
    answered_while_held = refresh.released_by_answer is None
    refresh.finish()

    assert response.status_code == 201, response.content
    new = Article.objects.get(reference="rollbacks-20")
    assert answered_while_held and refresh.released_by_answer is True
    assert refresh.runs == [("import-refresh", {live.pk}), ("import-refresh", {new.pk})]
    assert not SimilarPending.objects.exists()
    assert SimilarArticle.objects.filter(neighbour=new).exists()
    refreshed = stored_lists()
    similarity.rebuild_all(keep_weights=True)
    assert stored_lists() == refreshed


def test_a_lock_not_had_in_time_leaves_the_transaction_usable():
    """lock_for_rewrite with a wait gives up quietly: the caller's transaction goes on."""
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {SimilarArticle._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        with transaction.atomic():
            assert lock_for_rewrite(SimilarArticle, wait=0.05) is False
            assert Article.objects.count() == 0  # still usable
            with connection.cursor() as cursor:
                cursor.execute("SHOW lock_timeout")
                assert cursor.fetchone()[0] == "0"  # the wait applied to that lock only
        other.rollback()
        with transaction.atomic():
            assert lock_for_rewrite(SimilarArticle, wait=0.05) is True
    finally:
        other.close()

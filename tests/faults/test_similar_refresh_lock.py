"""An editor's publish while a long similar-posts refresh (an import's) holds the lists, on
PostgreSQL: the editor's answer does not wait for it, and the refresh holding the lists takes
the published article along once it is done, so no change is lost.

The import's refresh runs in a thread of its own, with its own connection; it holds the lists'
lock until the editor has had an answer (or 30 seconds, the server's timeout, have passed).
"""

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from articles import similarity
from articles.bulk import lock_for_rewrite
from articles.models import Article, SimilarArticle, SimilarPending
from articles.similarity import incremental
from releases import services
from tests.articles.test_similarity import (
    GROUPS,
    assert_lists_are_a_rebuilds,
    bulk_publish,
    document,
    import_all,
)
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


def publish(reviewer, drafts) -> set[int]:
    """An editor publishes one approved draft from its admin page."""
    client = Client()
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:articles_article_publish", args=[drafts[0].pk]), {"note": "release", "bump": "minor"}
    )
    assert response.status_code == 302, response.content
    return {drafts[0].pk}


def api_import(reviewer, drafts) -> set[int]:
    """A client imports a new live document through the API."""
    client = APIClient()
    client.force_authenticate(reviewer)
    response = client.post("/api/imports/", data=document("rollbacks", 20), content_type="text/plain")
    assert response.status_code == 201, response.content
    return {Article.objects.get(reference="rollbacks-20").pk}


@pytest.mark.parametrize("write", [publish, bulk_publish, api_import], ids=lambda write: write.__name__)
def test_a_request_answers_while_an_imports_refresh_holds_the_lists(
    write, reviewer, corpus_with_approved_drafts, monkeypatch
):
    live = Article.objects.live().order_by("pk")[0]
    refresh = LongRefresh(monkeypatch)
    refresh.start([live.pk])
    changed = write(reviewer, corpus_with_approved_drafts)  # each checks its own answer
    answered_while_held = refresh.released_by_answer is None
    refresh.finish()

    assert Article.objects.filter(pk__in=changed, state="published").count() == len(changed)
    # The answer came while the lists were still held, and the request refreshed nothing itself.
    assert answered_while_held and refresh.released_by_answer is True
    assert refresh.runs == [("import-refresh", {live.pk}), ("import-refresh", changed)]
    # The holder took the changed articles along: the lists are the ones a rebuild gives.
    assert not SimilarPending.objects.exists()
    assert SimilarArticle.objects.filter(neighbour__in=changed).exists()
    assert_lists_are_a_rebuilds()


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

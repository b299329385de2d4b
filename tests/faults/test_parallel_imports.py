"""Two imports at once on PostgreSQL: neither waits for the other on a shared counter.

The read cache's invalidation used to be a single row that a trigger updated on every write to
an article, so a second import waited for the first one's transaction to end. Now it is cache
keys deleted after commit. Import A writes a batch and keeps its transaction open; import B, with
a short lock_timeout so that any wait fails it instead of hanging, must write and commit
meanwhile. The documents and their references, titles and slugs are disjoint, and their tags and
entities exist already: those are the real conflicts (the same reference, the same new tag
name, the same slug) that rightly make one import wait for the other.
"""

import threading

import pytest
from django.db import connections, transaction
from django.test import Client

from articles import read_cache
from articles.models import Article
from releases.importing import Source, import_documents

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def variant(sample_text: str, number: int) -> Source:
    text = sample_text.replace("anp-ref-035445-8950", f"anp-ref-{number:06d}-par")
    lines = text.split("\n")
    lines[0] = f"Parallel import number {number}"
    return Source(f"{number}.txt", "\n".join(lines).encode())


def test_a_second_import_commits_while_the_first_holds_its_transaction(sample_article, sample_text):
    reader = Client()
    assert reader.get("/api/articles/").json()["count"] == 1  # the list is cached
    a_wrote, b_done = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def import_a():
        def hold(result):
            outcomes.setdefault("a", result.outcome)
            a_wrote.set()
            b_done.wait(timeout=60)  # the batch is written, its transaction still open

        try:
            with transaction.atomic():
                import_documents([variant(sample_text, 1)], on_result=hold)
        except Exception as exc:
            outcomes["a"] = exc
            a_wrote.set()
        finally:
            connections.close_all()

    def import_b():
        try:
            assert a_wrote.wait(timeout=60)
            with connections["default"].cursor() as cursor:
                cursor.execute("SET lock_timeout = '3s'")
            report = import_documents([variant(sample_text, 2)])
            outcomes["b"] = report.counts
            outcomes["b_errors"] = report.errors
            outcomes["b_committed_while_a_open"] = not b_done.is_set()
        except Exception as exc:
            outcomes["b"] = exc
        finally:
            b_done.set()
            connections.close_all()

    threads = [threading.Thread(target=import_a), threading.Thread(target=import_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()

    assert outcomes["a"] == "created", outcomes
    assert isinstance(outcomes["b"], dict) and outcomes["b"]["created"] == 1, outcomes
    assert outcomes["b"]["failed"] == 0, outcomes
    assert outcomes["b_committed_while_a_open"]
    assert set(Article.objects.filter(reference__endswith="-par").values_list("reference", flat=True)) == {
        "anp-ref-000001-par",
        "anp-ref-000002-par",
    }
    # Each commit invalidated the lists: the reader sees both at once.
    listed = reader.get("/api/articles/")
    assert listed[read_cache.HEADER] == "miss"
    assert listed.json()["count"] == 3

"""A run that writes batches concurrently (PostgreSQL, parse workers) ends exactly as a run that
writes one batch at a time: same outcomes in the same order, slugs, rows and revisions."""

import threading
from pathlib import Path

import pytest
from django.db import connection

from articles import importing
from articles.importing import Importer, iter_sources
from articles.models import Article, ArticleEntity, ArticleTag, ImageSource
from articles.synthesis import write_corpus
from releases.models import AuditEvent, Revision

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def bump(text: str, version: str, marker: str) -> str:
    """The same document in a later version with another summary."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith("• version:"):
            lines[number] = line.split("•")[0] + f"• version: {version}"
    return "\n".join(lines).replace("\nsummary", f"\nsummary{marker} ", 1) + "\n"


@pytest.fixture
def corpus(tmp_path) -> Path:
    """60 documents; next to some of them (so often in the batch before or after), a newer
    version, an older version, or a copy under another reference with the same title; and a
    bad file."""
    folder = tmp_path / "corpus"
    write_corpus(folder, 60, seed=5)
    (folder / "clusters.json").unlink()
    files = sorted(folder.rglob("*.txt"))
    for number, source in enumerate(files[:36:3]):
        text = source.read_text(encoding="utf-8")
        # "x-a.txt" sorts before "x.txt" and "x.txt" before "x0.txt".
        if number % 3 == 0:
            newer = bump(text, "9.0.0", " newer")
            (source.parent / f"{source.stem}0.txt").write_text(newer, encoding="utf-8")
        elif number % 3 == 1:
            older = bump(text, "0.0.1", " older")
            (source.parent / f"{source.stem}-a.txt").write_text(older, encoding="utf-8")
        else:
            reference = next(line for line in text.splitlines() if line.startswith("reference"))
            twin = text.replace(reference, f"referencetwin-{number}")
            (source.parent / f"{source.stem}-a.txt").write_text(twin, encoding="utf-8")
    (folder / "zz-bad.txt").write_text("no post meta here\n", encoding="utf-8")
    return folder


def run(corpus: Path, workers: int) -> tuple[list, dict]:
    importer = Importer(batch_size=3, workers=workers)
    results = []
    importer.run(iter_sources([str(corpus)]), on_result=lambda r: results.append(r.as_dict()))
    return importer.writers, (results, snapshot())


def snapshot() -> dict:
    articles = {
        a.reference: (a.slug, a.title, a.summary, a.state, a.source_digest, a.version)
        for a in Article.objects.all()
    }
    by_id = dict(Article.objects.values_list("pk", "reference"))

    def parts(model, *fields):
        return sorted((by_id[row[0]], *row[1:]) for row in model.objects.values_list("article_id", *fields))

    return {
        "articles": articles,
        "tags": parts(ArticleTag, "tag__name", "position"),
        "entities": parts(ArticleEntity, "entity__name", "position"),
        "images": parts(ImageSource, "url", "position"),
        "revisions": parts(Revision, "number", "kind", "state", "version"),
        "events": parts(AuditEvent, "action", "to_state"),
    }


def wipe() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE articles_article, articles_tag, articles_entity, articles_similararticle, "
            "articles_similarityindex, releases_revision, releases_auditevent CASCADE"
        )


def test_concurrent_writers_end_as_one_writer_does(corpus, monkeypatch):
    calls = []
    write_batch = Importer._write_batch
    monkeypatch.setattr(Importer, "_write_batch", lambda self, b: calls.append(1) or write_batch(self, b))

    writers, concurrent = run(corpus, workers=1)
    assert writers == importing.WRITERS > 1
    assert len(calls) > 10  # many batches, so several were in flight at once
    wipe()
    writers, sequential = run(corpus, workers=0)
    assert writers == 1

    assert concurrent[0] == sequential[0]  # every outcome, warning and error, in order
    assert concurrent[1] == sequential[1]
    outcomes = [result["outcome"] for result in sequential[0]]
    # Each newer and each older version updates (the older one comes first), each twin creates.
    assert (outcomes.count("created"), outcomes.count("updated"), outcomes.count("failed")) == (64, 8, 1)
    slugs = [slug for slug, *_ in sequential[1]["articles"].values()]
    assert len(slugs) == len(set(slugs)) == 64
    assert sum(slug.endswith(reference) for reference, (slug, *_) in sequential[1]["articles"].items()) >= 4


def test_writer_threads_leave_no_connection_open(corpus):
    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    before = backends()
    writers, _ = run(corpus, workers=1)
    assert writers > 1
    assert backends() == before


def test_a_batch_waits_for_one_in_flight_that_writes_the_same_article(tmp_path, monkeypatch):
    """Versions 90 and 91 of an article in consecutive batches, the first one slow to write:
    version 91 must still be written last, as one writer would."""
    write_corpus(tmp_path / "one", 1, seed=9)
    (original,) = sorted((tmp_path / "one").rglob("*.txt"))
    text = original.read_text(encoding="utf-8")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "a.txt").write_text(bump(text, "90.0.0", " two"), encoding="utf-8")
    (folder / "b.txt").write_text(bump(text, "91.0.0", " three"), encoding="utf-8")
    Importer().run(iter_sources([str(original)]))

    write_group = Importer._write_group
    second_started = threading.Event()

    def slow_for_the_first(self, items, attempt=0):
        # The first batch waits until the second one starts writing (which it must not do while
        # the first is in flight), or gives up after a while.
        if any(item.content["revision"]["version"] == "90.0.0" for item in items):
            second_started.wait(timeout=3)
        else:
            second_started.set()
        return write_group(self, items, attempt)

    monkeypatch.setattr(Importer, "_write_group", slow_for_the_first)
    importer = Importer(batch_size=1, workers=1)
    results = []
    importer.run(iter_sources([str(folder)]), on_result=lambda r: results.append(r.outcome))

    assert importer.writers > 1
    assert results == ["updated", "updated"]
    assert Article.objects.get().version == "91.0.0"

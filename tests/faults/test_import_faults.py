"""The importer against a failing or busy PostgreSQL: lost connections, a killed process,
two imports at once. Each runs `manage.py import_articles` in child processes against the test
database, so that what they commit is what the next run and the assertions see.

To stop an importer at an exact point, the test holds a SHARE lock on the revisions table: an
importer then blocks on its COPY into it, inside a batch transaction that has already written
the batch's articles, tags, entities and image sources.
"""

import json
import shutil
import signal
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Count
from django.test import Client

from articles.derived import LIST_ORDER
from articles.models import Article, ArticleEntity, ArticleTag, Entity, ImageSource, SimilarArticle, Tag
from corpus.generator import write_corpus
from releases.importing import parse_document
from releases.models import AuditEvent, Revision
from tests.conftest import run_python
from tests.faults.conftest import SAME_HASH_SEED, database_url, start_python, stop_group, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MODELS = (Article, Tag, Entity, ArticleTag, ArticleEntity, ImageSource, Revision, AuditEvent)
BATCH = 20


def import_args(*paths: Path, workers: int = 1) -> list[str]:
    return ["manage.py", "import_articles", *map(str, paths), "--format", "json",
            "--batch-size", str(BATCH), "--workers", str(workers)]  # fmt: skip


def app_url(name: str, **kwargs) -> str:
    """The test database's URL, naming the connection so that pg_stat_activity shows whose it is."""
    return f"{database_url(**kwargs)}?application_name={name}"


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def corpus_contents(*folders: Path) -> dict[str, dict]:
    """The content of every document, by reference, as the importer parses it."""
    contents = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.txt")):
            content, errors, _, _ = parse_document((str(path), path.read_text(encoding="utf-8")))
            assert not errors, errors
            contents[content["reference"]] = content
    return contents


def _tag_keys(content: dict) -> set:
    return {("stack", name) for name in content["stack"]} | {("tool", name) for name in content["tools"]}


def _entity_keys(content: dict) -> set:
    return {(entity["type"], entity["name"]) for entity in content["entities"]}


def clean_run_counts(*folders: Path) -> dict[str, int]:
    """The row counts one uninterrupted import of these documents leaves in an empty database."""
    contents = corpus_contents(*folders).values()
    return {
        "Article": len(contents),
        "Tag": len(set().union(*map(_tag_keys, contents))),
        "Entity": len(set().union(*map(_entity_keys, contents))),
        "ArticleTag": sum(len(_tag_keys(c)) for c in contents),
        "ArticleEntity": sum(len(_entity_keys(c)) for c in contents),
        "ImageSource": sum(len(c["image_sources"]) for c in contents),
        "Revision": len(contents),
        "AuditEvent": len(contents),
    }


def assert_no_partial_article(folder: Path) -> None:
    """Every article in the database has all of its parts: nothing was left half-written."""
    contents = corpus_contents(folder)
    articles = Article.objects.annotate(
        n_tags=Count("article_tags", distinct=True),
        n_entities=Count("article_entities", distinct=True),
        n_images=Count("image_sources", distinct=True),
    )
    for article in articles:
        content = contents[article.reference]
        expected = (len(_tag_keys(content)), len(_entity_keys(content)), len(content["image_sources"]))
        assert (article.n_tags, article.n_entities, article.n_images) == expected, article.reference
    assert_one_import_each()


def assert_one_import_each() -> None:
    """Every article has exactly one import revision and one import audit event."""
    revisions = Counter(Revision.objects.values_list("article_id", flat=True))
    events = Counter(AuditEvent.objects.values_list("article_id", flat=True))
    assert set(revisions.values()) == {1} and set(events.values()) == {1}
    assert set(Revision.objects.values_list("kind", flat=True)) == {"import"}


@contextmanager
def revisions_table_locked():
    """Hold a SHARE lock on the revisions table until the block ends (see the module doc)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE releases_revision IN SHARE MODE")
        yield


def blocked(application_name: str) -> list[tuple[int, str]]:
    """Backends of this application waiting for a lock: (pid, the table or the kind of lock)."""
    with connection.cursor() as cursor:
        # Inside a transaction, PostgreSQL keeps showing the activity it saw first: look again.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT a.pid, coalesce(l.relation::regclass::text, l.locktype) FROM pg_stat_activity a "
            "JOIN pg_locks l ON l.pid = a.pid WHERE a.datname = current_database() "
            "AND a.application_name = %s AND NOT l.granted",
            [application_name],
        )
        return cursor.fetchall()


def activity() -> list[tuple]:
    """What every other backend of the test database is doing (for failure messages)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT application_name, state, wait_event_type, wait_event, left(query, 120) "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def exited(process) -> bool:
    return process.poll() is not None


def corpus(tmp_path: Path, count: int, seed: int = 11) -> Path:
    folder = tmp_path / "corpus"
    write_corpus(folder, count, seed=seed)
    (folder / "clusters.json").unlink()
    return folder


def run_import(*paths: Path, url: str | None = None):
    result = run_python(
        import_args(*paths), env={"DATABASE_URL": url or database_url(), **SAME_HASH_SEED}, timeout=300
    )
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result, report


@contextmanager
def importer_held_mid_batch(folder: Path, name: str):
    """Start an import of `folder`; once a batch is committed, hold it inside the next batch's
    transaction. Yields (process, backend pid, articles committed); the lock is released after, and
    the caller waits for the process."""
    process = start_python(import_args(folder), {"DATABASE_URL": app_url(name)})
    try:
        wait_for(
            lambda: Article.objects.count() >= BATCH or process.poll() is not None, 120, what="one batch"
        )
        assert process.poll() is None, f"the import ended before it could be stopped: {process.communicate()}"
        with revisions_table_locked():
            held = wait_for(
                lambda: blocked(name) or exited(process), 60, what="the importer to block inside a batch"
            )
            assert process.poll() is None, f"the import ended: {process.communicate()}"
            (pid, waits_for), *_ = held
            assert waits_for == "releases_revision"
            committed = Article.objects.count()
            yield process, pid, committed
    except BaseException:
        stop_group(process, signal.SIGKILL)
        raise


# -- the database goes away -----------------------------------------------------------------------


def test_connection_terminated_mid_batch_then_rerun_converges(tmp_path):
    """The importer's backend is terminated while a batch transaction is open: that batch is
    rolled back whole, and a second run completes the import with nothing duplicated."""
    folder = corpus(tmp_path, 120)
    with importer_held_mid_batch(folder, "kb_import_terminated") as (process, pid, committed):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert committed < 120
    process.wait(timeout=120)
    assert_no_partial_article(folder)

    result, report = run_import(folder)
    assert result.returncode == 0, result.stderr[-2000:]
    assert report["failed"] == 0 and report["created"] + report["unchanged"] == 120
    assert counts() == clean_run_counts(folder)
    assert_one_import_each()


def test_connection_terminated_during_a_copy_is_reported_without_a_traceback(tmp_path):
    """Either the importer carries on over a new connection, or it says what happened; never a
    traceback."""
    folder = corpus(tmp_path, 80)
    with importer_held_mid_batch(folder, "kb_import_copy") as (process, pid, _):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    out, err = process.communicate(timeout=120)
    assert "Traceback" not in err, err[-3000:]
    if process.returncode == 0:
        report = json.loads(out)
        assert report["failed"] == 0 and report["created"] + report["unchanged"] == 80
    else:
        assert "terminating connection" in out + err, (process.returncode, out[-2000:], err[-2000:])


def test_database_gone_mid_import_then_rerun_converges(tmp_path, pg_proxy):
    """The database becomes unreachable (the proxy in front of it stops): the import stops with a
    non-zero status, having committed whole batches only; once it is back, a rerun completes."""
    folder = corpus(tmp_path, 120)
    process = start_python(import_args(folder), {"DATABASE_URL": database_url(port=pg_proxy.port)})
    try:
        wait_for(lambda: Article.objects.count() >= BATCH or process.poll() is not None, 120, what="a batch")
        pg_proxy.stop()
        process.wait(timeout=120)
    finally:
        stop_group(process)
    assert process.returncode not in (0, None)
    assert Article.objects.count() < 120
    assert_no_partial_article(folder)

    result, report = run_import(folder)
    assert result.returncode == 0, result.stderr[-2000:]
    assert report["failed"] == 0
    assert counts() == clean_run_counts(folder)
    assert_one_import_each()


def test_database_gone_mid_import_is_one_clear_error(tmp_path, pg_proxy):
    folder = corpus(tmp_path, 80)
    process = start_python(import_args(folder), {"DATABASE_URL": database_url(port=pg_proxy.port)})
    try:
        wait_for(lambda: Article.objects.count() >= BATCH or process.poll() is not None, 120, what="a batch")
        pg_proxy.stop()
        out, err = process.communicate(timeout=120)
    finally:
        stop_group(process)
    assert process.returncode != 0
    assert "Traceback" not in err, err[-3000:]
    assert "database" in err.lower() and ("connection" in err.lower() or "refused" in err.lower()), err


# -- killed -------------------------------------------------------------------------------------------


def snapshot() -> dict:
    """Everything an import decides, keyed by reference (ids and timestamps differ between runs):
    the staff API's meta JSON of every article, revisions and audit events per article, and the
    similar-posts table."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="snapshot", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    metas, page = {}, 1
    while True:
        response = client.get("/api/articles/", {"fields": "full", "page_size": 100, "page": page})
        assert response.status_code == 200
        data = response.json()
        metas.update({item["reference"]: item for item in data["results"]})
        if not data["next"]:
            break
        page += 1
    references = dict(Article.objects.values_list("id", "reference"))
    revisions: dict[str, list] = {}
    for article_id, number, kind, state, version in Revision.objects.order_by(
        "article_id", "number"
    ).values_list("article_id", "number", "kind", "state", "version"):
        revisions.setdefault(references[article_id], []).append((number, kind, state, version))
    events = Counter(
        (references[a], action, state) for a, action, state in AuditEvent.objects.values_list(
            "article_id", "action", "to_state"
        )
    )  # fmt: skip
    similar: dict[str, list] = {}
    for article_id, neighbour_id, score in SimilarArticle.objects.order_by(*LIST_ORDER).values_list(
        "article_id", "neighbour_id", "score"
    ):
        similar.setdefault(references[article_id], []).append((references[neighbour_id], round(score, 5)))
    return {"meta": metas, "revisions": revisions, "events": events, "similar": similar, "counts": counts()}


def assert_same_state(got: dict, want: dict) -> None:
    assert got["counts"] == want["counts"]
    assert got["revisions"] == want["revisions"]
    assert got["events"] == want["events"]
    assert got["similar"] == want["similar"]
    assert got["meta"].keys() == want["meta"].keys()
    for reference, meta in want["meta"].items():
        assert got["meta"][reference] == meta, reference


def clean_run_snapshot(folder: Path) -> dict:
    """Empty the tables and import `folder` in one uninterrupted run."""
    call_command("flush", interactive=False, verbosity=0)
    result, report = run_import(folder)
    assert result.returncode == 0 and report["created"] > 0, result.stderr[-2000:]
    return snapshot()


def test_import_killed_inside_a_batch_converges_on_rerun(tmp_path):
    """SIGKILL while a batch transaction is open; the rerun's state equals an uninterrupted run's."""
    folder = corpus(tmp_path, 120)
    with importer_held_mid_batch(folder, "kb_import_killed") as (process, _, committed):
        stop_group(process, signal.SIGKILL)
        assert 0 < committed < 120
    assert process.returncode == -signal.SIGKILL
    assert Article.objects.count() == committed
    assert_no_partial_article(folder)

    result, report = run_import(folder)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (report["created"], report["unchanged"], report["failed"]) == (120 - committed, committed, 0)
    resumed = snapshot()
    assert_same_state(resumed, clean_run_snapshot(folder))


KILL_AT_REFRESH = (
    "import os, signal, sys, django; django.setup();"
    "from articles import similarity;"
    "similarity.refresh = lambda ids, **options: os.kill(os.getpid(), signal.SIGKILL);"
    "from django.core.management import call_command;"
    "call_command('import_articles', *sys.argv[1:])"
)


def test_import_killed_before_refreshing_similar_posts_converges_on_rerun(tmp_path):
    folder = corpus(tmp_path, 60)
    killed = run_python(
        ["-c", KILL_AT_REFRESH, *import_args(folder)[2:]],
        env={"DATABASE_URL": database_url(), **SAME_HASH_SEED},
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert Article.objects.count() == 60
    result, report = run_import(folder)
    assert result.returncode == 0 and report["unchanged"] == 60, result.stderr[-2000:]
    resumed = snapshot()
    assert_same_state(resumed, clean_run_snapshot(folder))


# -- two imports at once -----------------------------------------------------------------------------


def split_overlapping(folder: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two batches of files sharing the middle third; each lists the shared documents first, so
    both importers write the same documents in their first batches."""
    files = sorted(folder.rglob("*.txt"))
    third = len(files) // 3
    shared, only_a, only_b = files[third : 2 * third], files[:third], files[2 * third :]
    folders = []
    for name, own in (("a", only_a), ("b", only_b)):
        for sub, group in (("0-shared", shared), ("1-own", own)):
            target = tmp_path / name / sub
            target.mkdir(parents=True)
            for path in group:
                shutil.copy(path, target / path.name)
        folders.append(tmp_path / name)
    return folders[0], folders[1]


def import_both_at_once(first: Path, second: Path) -> list[tuple[int, str, str]]:
    """Start two imports, hold both inside their first batch (on the same documents, before either
    commits), then let them go; returns each one's (exit status, stdout, stderr)."""
    processes = []
    try:
        with revisions_table_locked():
            for name, path in (("kb_import_a", first), ("kb_import_b", second)):
                processes.append(start_python(import_args(path), {"DATABASE_URL": app_url(name)}))
            wait_for(
                lambda: (blocked("kb_import_a") and blocked("kb_import_b")) or any(map(exited, processes)),
                120,
                what="both importers to block",
                diagnose=activity,
            )
            for process in processes:
                assert process.poll() is None, f"an import ended: {process.communicate()}"
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            stop_group(process)
    return [(process.returncode, out, err) for process, (out, err) in zip(processes, outputs, strict=True)]


def test_two_overlapping_imports_at_once_leave_no_duplicates(tmp_path):
    """Whatever each of two simultaneous imports ends with, no article, tag or entity exists twice,
    every article has one import revision, and importing everything again converges."""
    folder = corpus(tmp_path, 120)
    first, second = split_overlapping(folder, tmp_path)
    import_both_at_once(first, second)
    expected = clean_run_counts(folder)
    assert Article.objects.count() <= expected["Article"]
    assert_no_partial_article(folder)
    assert len(set(Article.objects.values_list("reference", flat=True))) == Article.objects.count()
    assert len(set(Tag.objects.values_list("kind", "name"))) == Tag.objects.count()
    assert len(set(Entity.objects.values_list("type", "name"))) == Entity.objects.count()

    result, report = run_import(folder)
    assert result.returncode == 0 and report["failed"] == 0, result.stderr[-2000:]
    assert counts() == expected
    assert_one_import_each()


def test_two_overlapping_imports_at_once_both_succeed(tmp_path):
    folder = corpus(tmp_path, 120)
    first, second = split_overlapping(folder, tmp_path)
    results = import_both_at_once(first, second)
    for status, out, err in results:
        assert status == 0 and "Traceback" not in err, err[-3000:]
        assert json.loads(out)["failed"] == 0
    assert sum(json.loads(out)["created"] for _, out, _ in results) == 120
    assert counts() == clean_run_counts(folder)
    assert_one_import_each()


def test_two_imports_refreshing_similar_posts_at_once_both_succeed(tmp_path):
    from articles import similarity

    result, _ = run_import(corpus(tmp_path, 40))
    assert result.returncode == 0, result.stderr[-2000:]
    ids = list(Article.objects.values_list("id", flat=True))
    errors: list[Exception] = []

    def refresh():
        try:
            similarity.refresh(ids)  # what each import does last, for the articles it wrote
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    # Both compute their lists, then wait to replace the table's rows until the test lets them.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE articles_similararticle IN SHARE MODE")
        for thread in threads:
            thread.start()

        def both_waiting():
            cursor.execute(
                "SELECT count(*) FROM pg_locks "
                "WHERE NOT granted AND relation = 'articles_similararticle'::regclass"
            )
            return cursor.fetchone()[0] == 2 or not all(thread.is_alive() for thread in threads)

        wait_for(both_waiting, 60, what="both refreshes to wait")
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert SimilarArticle.objects.count() > 0

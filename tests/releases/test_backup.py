"""Backup and restore: export_articles writes JSON lines, import_articles restores them."""

import datetime as dt
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from articles import similarity
from articles.content import content_from_article, content_prefetch
from articles.models import (
    Article,
    ArticleEntity,
    ArticleState,
    ArticleTag,
    Entity,
    ImageSource,
    SimilarArticle,
    SimilarityIndex,
    Tag,
)
from corpus.generator import write_corpus
from releases import backup, services
from releases.backup import merge
from releases.importing import Source, import_document, import_documents
from releases.models import AuditEvent, Release, Revision

pytestmark = pytest.mark.django_db

REFERENCE = "anp-ref-035445-8950"
CONTENT_MODELS = (
    Article, ArticleTag, ArticleEntity, ImageSource, Tag, Entity, Revision, AuditEvent, Release,
    SimilarArticle,
)  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    """Throttling counts requests in the cache; each test starts with a clean count."""
    cache.clear()
    yield
    cache.clear()


# -- building a knowledge base with every kind of history ------------------------------------------


def fresh(article):
    return content_prefetch(Article.objects.filter(pk=article.pk)).get()


def edited(article, **changes):
    return {**content_from_article(fresh(article)), **changes}


def bumped(text: str, version: str, new: str) -> str:
    assert f"version: {version}" in text
    return text.replace(f"version: {version}", f"version: {new}")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    write_corpus(folder, 10, seed=11)
    return {path.read_text(): path for path in sorted(folder.rglob("*.txt"))}


@pytest.fixture
def knowledge_base(sample_text, corpus, editor, reviewer):
    """The sample and ten synthesized articles, taken through every workflow path."""
    assert import_document(sample_text.encode(), path="sample.txt").outcome == "created"
    report = import_documents([Source(str(path), text.encode()) for text, path in corpus.items()])
    assert report.counts["created"] == 10, report.errors
    sample = Article.objects.get(reference=REFERENCE)

    # A release with an uploaded image, a rollback, pending edits and an import on top of them.
    content = edited(sample, summary="a clearer summary")
    content["image_sources"][0] = {
        **content["image_sources"][0],
        "upload": "articles/diagram.png",
        "width": 640,
        "height": 480,
    }
    services.article_edit(article=sample, user=editor, content=content, note="clearer")
    services.article_submit(article=sample, user=editor)
    services.article_approve(article=sample, user=reviewer, note="fine")
    services.article_publish(article=sample, user=reviewer, note="release", bump="minor")
    services.article_rollback(article=sample, user=reviewer, version="1.5.4", note="back to the old text")
    # Forward again: the rollback restores the release's content, its uploaded image included.
    services.article_rollback(article=sample, user=reviewer, version="1.6.0", note="forward again")
    services.article_edit(article=sample, user=editor, content=edited(sample, topic="a pending topic"))
    conflict = import_document(bumped(sample_text, "1.5.4", "1.6.9").encode(), path="sample-v2.txt")
    assert conflict.outcome == "updated" and "conflict" in conflict.warnings[-1]["message"]

    others = Article.objects.exclude(pk=sample.pk).order_by("pk")
    live = [article for article in others if article.state == ArticleState.PUBLISHED]
    drafts = [article for article in others if article.state == ArticleState.DRAFT]
    assert len(live) >= 5 and len(drafts) >= 3

    services.article_archive(article=live[0], user=reviewer, note="outdated")
    for article in (live[1], live[2], drafts[0], drafts[1]):
        services.article_edit(article=article, user=editor, content=edited(article, difficulty="expert"))
        services.article_submit(article=article, user=editor, note="please look")
    services.article_request_changes(article=live[1], user=reviewer, note="more detail")
    services.article_approve(article=drafts[0], user=reviewer)
    services.article_publish(article=drafts[0], user=reviewer, note="first release", bump="major")
    services.article_approve(article=drafts[1], user=reviewer)
    # A plain re-import of a changed document.
    text = next(text for text in corpus if live[3].reference in text)
    changed = bumped(text, live[3].version, "9.0.0")
    assert import_document(changed.encode(), path="changed.txt").outcome == "updated"

    states = set(Release.objects.values_list("article__state", "review_state"))
    assert {("published", ""), ("published", "draft"), ("published", "changes_requested")} <= states
    assert {
        ("published", "in_review"),
        ("archived", ""),
        ("reviewed", "reviewed"),
        ("draft", "draft"),
    } <= states
    assert ImageSource.objects.exclude(image="").count() == 1
    assert Revision.objects.filter(conflict=True).count() == 1
    similarity.rebuild_all()
    return sample


@pytest.fixture
def auditor(db, django_user_model):
    """A staff account that reads the API; no article's history names it."""
    return django_user_model.objects.create_user(username="auditor", password="pw", is_staff=True)


def empty_the_database():
    """Remove every article, its history and parts, and every account."""
    for model in (Release, AuditEvent, Revision, SimilarArticle, SimilarityIndex, Article, Tag, Entity):
        model.objects.all().delete()
    get_user_model().objects.all().delete()
    assert all(not model.objects.exists() for model in CONTENT_MODELS)


# -- what must be equal before and after ---------------------------------------------------------------


def api_answers(staff) -> dict:
    """Every answer of the meta API, for staff and for anonymous clients."""
    staff_client = APIClient()
    staff_client.force_authenticate(staff)
    clients = {"staff": staff_client, "anonymous": APIClient()}
    answers = {}
    for who, client in clients.items():
        page, more = 1, True
        while more:
            response = client.get("/api/articles/", {"fields": "full", "page_size": 3, "page": page})
            assert response.status_code == 200
            answers[who, "list", page] = response.json()
            more, page = response.json()["next"] is not None, page + 1
        answers[who, "summaries"] = client.get("/api/articles/", {"page_size": 100}).json()
    slugs = [item["slug"] for item in answers["staff", "summaries"]["results"]]
    assert len(slugs) == Article.objects.count()
    for slug in slugs:
        for who, client in clients.items():
            detail = client.get(f"/api/articles/{slug}/", {"include": "body"})
            answers[who, slug] = (
                detail.status_code,
                detail.json(),
                detail.get("ETag"),
                detail.get("Last-Modified"),
            )
            similar = client.get(f"/api/articles/{slug}/similar/")
            answers[who, slug, "similar"] = (similar.status_code, similar.json())
        revisions = staff_client.get(f"/api/articles/{slug}/revisions/")
        assert revisions.status_code == 200
        answers[slug, "revisions"] = revisions.json()
    return answers


REVISION_FIELDS = (
    "number", "kind", "state", "version", "content", "base_number", "merged_number", "conflict",
    "author_name", "note", "created_at",
)  # fmt: skip
AUDIT_FIELDS = ("action", "from_state", "to_state", "user_name", "note", "created_at", "revision__number")


def pointers(article) -> dict:
    """The article's Release as revision numbers (the ids differ between databases)."""
    release = Release.objects.select_related("live_revision", "pending_revision", "conflict_revision").get(
        article=article
    )
    numbers = {name: getattr(release, name) for name in backup.POINTERS}
    return {
        **{name: revision.number if revision else None for name, revision in numbers.items()},
        "review_state": release.review_state,
        "edited_at": release.edited_at,
    }


def stored_state() -> dict:
    """Every article's row, parts, pointers, revisions and audit trail, by reference, in primary-key
    order."""
    state = {}
    username = get_user_model().USERNAME_FIELD
    for article in content_prefetch(Article.objects.order_by("pk")):
        state[article.reference] = {
            "row": {
                field.attname: getattr(article, field.attname)
                for field in Article._meta.concrete_fields
                if field.attname != "id"
            },
            "content": content_from_article(article),
            "release": pointers(article),
            "revisions": list(
                Revision.objects.filter(article=article)
                .order_by("number")
                .values(*REVISION_FIELDS, f"author__{username}")
            ),
            "audit": list(
                AuditEvent.objects.filter(article=article)
                .order_by("created_at", "id")
                .values(*AUDIT_FIELDS, f"user__{username}")
            ),
        }
    return state


def export(path, *args) -> None:
    call_command("export_articles", str(path), *args, stdout=io.StringIO(), stderr=io.StringIO())


def restore(*args) -> tuple[int, dict]:
    """Run import_articles with a JSON report: (exit status, report)."""
    out = io.StringIO()
    try:
        call_command("import_articles", *args, "--format", "json", stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return exc.code, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


def counts(report: dict) -> dict:
    return {outcome: report[outcome] for outcome in ("created", "updated", "unchanged", "stale", "failed")}


def row_counts() -> dict:
    return {model.__name__: model.objects.count() for model in (*CONTENT_MODELS, get_user_model())}


def lines_of(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# -- the round trip ------------------------------------------------------------------------------


def test_restore_into_an_empty_database_gives_every_api_answer_back(
    tmp_path, knowledge_base, auditor, sample_text
):
    before_answers, before_state = api_answers(auditor), stored_state()
    before_pointers = {article.reference: pointers(article) for article in Article.objects.all()}
    revisions, events = Revision.objects.count(), AuditEvent.objects.count()
    history = {name: user.is_active for name, user in _history_users().items()}
    assert set(history) == {"edith", "rita"}
    export(tmp_path / "kb.jsonl")

    empty_the_database()
    auditor = get_user_model().objects.create_user(username="auditor", password="pw", is_staff=True)
    status, report = restore(str(tmp_path / "kb.jsonl"))

    assert status == 0, report["errors"]
    assert counts(report) == {"created": 11, "updated": 0, "unchanged": 0, "stale": 0, "failed": 0}
    assert report["errors"] == []
    # Similar posts were refreshed by the restore itself: every answer is the same, ETags included.
    assert api_answers(auditor) == before_answers
    assert stored_state() == before_state
    assert {article.reference: pointers(article) for article in Article.objects.all()} == before_pointers
    assert before_pointers[REFERENCE] == {
        "live_revision": 6,
        "pending_revision": 7,
        "conflict_revision": 8,
        "review_state": "draft",
        "edited_at": before_pointers[REFERENCE]["edited_at"],
    }
    assert before_pointers[REFERENCE]["edited_at"] is not None
    assert Release.objects.count() == Article.objects.count()
    # The restore added no revision and no audit event of its own.
    assert (Revision.objects.count(), AuditEvent.objects.count()) == (revisions, events)
    restored_users = _history_users()
    assert set(restored_users) == set(history)
    assert all(not user.is_active and not user.has_usable_password() for user in restored_users.values())
    assert {w["message"] for w in report["warnings"]} == {
        "edith did not exist here: created inactive, without a password",
        "rita did not exist here: created inactive, without a password",
    }
    # The import bookkeeping came back too: the last imported document is recognised as such.
    again = import_document(bumped(sample_text, "1.5.4", "1.6.9").encode(), path="sample-v2.txt")
    assert again.outcome == "unchanged"


def _history_users() -> dict:
    ids = set(Revision.objects.exclude(author=None).values_list("author_id", flat=True))
    ids |= set(AuditEvent.objects.exclude(user=None).values_list("user_id", flat=True))
    return {user.get_username(): user for user in get_user_model().objects.filter(pk__in=ids)}


def test_backup_is_one_json_object_per_line_with_header_and_closing_line(tmp_path, knowledge_base):
    export(tmp_path / "kb.jsonl")
    lines = [json.loads(line) for line in lines_of(tmp_path / "kb.jsonl")]
    header, articles, closing = lines[0], lines[1:-1], lines[-1]
    assert header["format"] == "kb-backup" and header["version"] == 2 and header["exported_at"]
    assert closing == {"end": "kb-backup", "articles": 11}
    assert [line["content"]["reference"] for line in articles] == list(
        Article.objects.order_by("pk").values_list("reference", flat=True)
    )
    sample = next(line for line in articles if line["content"]["reference"] == REFERENCE)
    assert sample["article"]["state"] == "published"
    assert "pending_state" not in sample["article"] and "edited_at" not in sample["article"]
    release = Release.objects.get(article=knowledge_base)
    assert sample["release"] == {
        "live_revision": 6,
        "pending_revision": 7,
        "conflict_revision": 8,
        "review_state": "draft",
        "edited_at": release.edited_at.isoformat(),
    }
    archived = next(line for line in articles if line["article"]["state"] == "archived")
    assert archived["release"] == {
        "live_revision": 1,
        "pending_revision": None,
        "conflict_revision": None,
        "review_state": "",
        "edited_at": None,
    }
    assert sample["content"]["image_sources"][0]["upload"] == "articles/diagram.png"
    assert [r["kind"] for r in sample["revisions"]] == [
        "import", "edit", "review", "publish", "rollback", "rollback", "edit", "import",
    ]  # fmt: skip
    assert sample["revisions"][-1]["conflict"] is True and sample["revisions"][1]["author"] == "edith"
    assert [(r["author"], r["author_name"]) for r in sample["revisions"]][:2] == [
        (None, ""),
        ("edith", "edith"),
    ]
    assert [r["base_number"] for r in sample["revisions"]] == [None, 1, 2, 3, 1, 4, 6, None]
    assert all(r["merged_number"] is None for r in sample["revisions"])
    assert [(e["action"], e["user"], e["user_name"]) for e in sample["audit"]][:3] == [
        ("import", None, ""), ("edit", "edith", "edith"), ("submit", "edith", "edith"),
    ]  # fmt: skip
    assert sample["audit"][1]["revision"] == 2 and sample["audit"][2]["revision"] is None


def test_export_to_standard_output(knowledge_base):
    out = io.StringIO()
    call_command("export_articles", "-", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert backup.is_backup_header(lines[0]) and len(lines) == 13


def test_export_streams_chunk_by_chunk_in_a_fixed_number_of_queries(tmp_path, knowledge_base):
    """Lines are written as each chunk is read, and each chunk costs the same few queries."""

    class Recorder(io.StringIO):
        def __init__(self, queries):
            super().__init__()
            self.queries, self.seen = queries, []

        def write(self, text):
            self.seen.append(len(self.queries.captured_queries))
            return super().write(text)

    def article_reads(queries):
        # The chunk's articles, joined to their pointers.
        chunk = r'SELECT .* FROM "articles_article" .*WHERE "articles_article"."id" >'
        return [q for q in queries if re.match(chunk, q["sql"])]

    with CaptureQueriesContext(connection) as queries:
        out = Recorder(queries)
        assert backup.export_backup(out, chunk_size=4) == 11
    chunk_reads = article_reads(queries.captured_queries)
    assert len(chunk_reads) == 4  # three chunks of 4, 4 and 3, and the empty read that ends it
    assert len(queries.captured_queries) <= 4 * 6
    # The first article line is out before the second chunk is read: nothing waits for the end.
    second_chunk_at = queries.captured_queries.index(chunk_reads[1])
    assert out.seen[1] <= second_chunk_at
    with CaptureQueriesContext(connection) as small:
        backup.export_backup(io.StringIO(), chunk_size=100)
    assert len(small.captured_queries) <= 2 * 6  # one chunk and the empty read


# -- merging ---------------------------------------------------------------------------------------


def test_restoring_twice_adds_nothing(tmp_path, knowledge_base, auditor):
    export(tmp_path / "kb.jsonl")
    empty_the_database()
    auditor = get_user_model().objects.create_user(username="auditor", password="pw", is_staff=True)
    assert restore(str(tmp_path / "kb.jsonl"))[0] == 0
    answers, state, rows = api_answers(auditor), stored_state(), row_counts()

    status, report = restore(str(tmp_path / "kb.jsonl"))
    assert status == 0
    assert counts(report) == {"created": 0, "updated": 0, "unchanged": 11, "stale": 0, "failed": 0}
    assert report["warnings"] == []
    assert row_counts() == rows and stored_state() == state and api_answers(auditor) == answers


def test_an_older_backup_then_a_newer_one_merge_into_the_newer_state(
    tmp_path, knowledge_base, auditor, reviewer
):
    """The row follows whichever side changed last; history is the union, without duplicates."""
    export(tmp_path / "old.jsonl")
    old_answers, old_state = api_answers(auditor), stored_state()
    sample = knowledge_base
    # The conflict resolved by taking the import's topic: a revision with two parents.
    assert "topic" in services.conflict_fields(sample)
    resolved = services.conflict_resolve(article=sample, user=reviewer, choices={"topic": "import"})
    assert (resolved.number, resolved.base_number, resolved.merged_number) == (9, 7, 8)
    services.article_approve(article=sample, user=reviewer)
    services.article_publish(article=sample, user=reviewer, note="second release")
    archived = Article.objects.get(state=ArticleState.ARCHIVED)
    services.article_publish(article=archived, user=reviewer, note="back online")
    similarity.rebuild_all()
    export(tmp_path / "new.jsonl")
    new_answers, new_state = api_answers(auditor), stored_state()
    assert new_state[REFERENCE]["revisions"][8]["merged_number"] == 8
    assert new_state[REFERENCE]["release"]["live_revision"] == 11

    empty_the_database()
    auditor = get_user_model().objects.create_user(username="auditor", password="pw", is_staff=True)
    assert restore(str(tmp_path / "old.jsonl"))[0] == 0
    assert api_answers(auditor) == old_answers and stored_state() == old_state

    status, report = restore(str(tmp_path / "new.jsonl"))
    assert status == 0 and counts(report)["updated"] == 2 and counts(report)["unchanged"] == 9
    assert api_answers(auditor) == new_answers and stored_state() == new_state

    # The older backup again: everything in it is here already and the rows are newer.
    status, report = restore(str(tmp_path / "old.jsonl"))
    assert status == 0 and counts(report)["unchanged"] == 11
    assert api_answers(auditor) == new_answers and stored_state() == new_state


def test_restore_into_a_database_holding_some_articles_merges_without_duplicates(
    tmp_path, knowledge_base, sample_text, corpus
):
    export(tmp_path / "kb.jsonl")
    backed_up = stored_state()
    empty_the_database()
    # This database imported the sample on its own (its own revision 1), and one other article
    # came from a partial restore.
    assert import_document(sample_text.encode(), path="sample.txt").outcome == "created"
    header, *articles, _closing = lines_of(tmp_path / "kb.jsonl")
    other = articles[3]
    (tmp_path / "part.jsonl").write_text(f'{header}\n{other}\n{{"end":"kb-backup","articles":1}}\n')
    assert restore(str(tmp_path / "part.jsonl"))[0] == 0
    local_sample = Article.objects.get(reference=REFERENCE)
    local_row = {name: getattr(local_sample, name) for name in ("state", "version")}
    local_pointers = pointers(local_sample)
    assert local_pointers["live_revision"] == 1 and local_pointers["pending_revision"] is None

    status, report = restore(str(tmp_path / "kb.jsonl"))

    assert status == 0, report["errors"]
    assert counts(report) == {"created": 9, "updated": 1, "unchanged": 1, "stale": 0, "failed": 0}
    state = stored_state()
    assert set(state) == set(backed_up)
    for reference, article in state.items():
        if reference != REFERENCE:
            assert article == backed_up[reference]
    # The sample keeps its own revision 1 and row (its last change here is newer than the
    # backup's); the backup's eight revisions follow it, each once.
    sample = state[REFERENCE]
    assert [r["number"] for r in sample["revisions"]] == list(range(1, 10))
    assert [r["created_at"] for r in sample["revisions"][1:]] == [
        r["created_at"] for r in backed_up[REFERENCE]["revisions"]
    ]
    assert [r["base_number"] for r in sample["revisions"]][1:] == [None, 2, 3, 4, 2, 5, 7, None]
    assert len(sample["audit"]) == 1 + len(backed_up[REFERENCE]["audit"])
    edit_event = next(e for e in sample["audit"] if e["action"] == "edit")
    assert edit_event["revision__number"] == 3
    assert {name: sample["row"][name] for name in local_row} == local_row
    # ... and its own pointers: the backup's changes are history here, not its live or pending work.
    assert sample["release"] == local_pointers
    renumbered = [w for w in report["warnings"] if w["field"].startswith("revisions[")]
    assert len(renumbered) == 8 and "added as revision 2" in renumbered[0]["message"]

    rows = row_counts()
    status, report = restore(str(tmp_path / "kb.jsonl"))
    assert counts(report)["unchanged"] == 11 and row_counts() == rows


def test_reference_of_another_site_is_refused(tmp_path, knowledge_base):
    export(tmp_path / "kb.jsonl")
    Article.objects.filter(reference=REFERENCE).update(site="elsewhere.example")
    rows = row_counts()
    status, report = restore(str(tmp_path / "kb.jsonl"))
    assert status == 1 and counts(report)["failed"] == 1 and counts(report)["unchanged"] == 10
    (error,) = report["errors"]
    assert error["line"] == 2 and error["field"] == "content.site" and "elsewhere.example" in error["message"]
    assert row_counts() == rows


def test_a_slug_taken_by_another_article_gets_a_new_one_with_a_warning(tmp_path, knowledge_base):
    export(tmp_path / "kb.jsonl")
    slug = knowledge_base.slug
    empty_the_database()
    Article.objects.create(reference="other-ref", site="x", slug=slug, title="same title")
    status, report = restore(str(tmp_path / "kb.jsonl"))
    assert status == 0 and counts(report)["created"] == 11
    restored = Article.objects.get(reference=REFERENCE)
    assert restored.slug != slug and restored.slug.startswith(slug[:100])
    (warning,) = [w for w in report["warnings"] if w["field"] == "article.slug"]
    assert warning["line"] == 2 and restored.slug in warning["message"]


# -- failures --------------------------------------------------------------------------------------


def test_malformed_lines_name_file_line_and_field_and_write_nothing_of_their_article(
    tmp_path, knowledge_base
):
    export(tmp_path / "kb.jsonl")
    header, *articles, closing = lines_of(tmp_path / "kb.jsonl")
    broken = json.loads(articles[2])
    broken["revisions"][0]["created_at"] = "yesterday"
    articles[2] = json.dumps(broken)
    articles[4] = articles[4][: len(articles[4]) // 2]  # cut in the middle of the line
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join([header, *articles, closing]) + "\n")
    lost = {broken["content"]["reference"], _reference_of(articles[4])}
    assert len(lost) == 2
    empty_the_database()

    status, report = restore(str(path))

    assert status == 1
    assert counts(report) == {"created": 9, "updated": 0, "unchanged": 0, "stale": 0, "failed": 2}
    by_line = {error["line"]: error for error in report["errors"]}
    assert set(by_line) == {4, 6}
    assert by_line[4]["path"] == str(path) and by_line[4]["field"] == "revisions[0].created_at"
    assert "'yesterday' is not an ISO 8601 time" in by_line[4]["message"]
    assert by_line[6]["path"] == str(path) and by_line[6]["field"] == "line"
    assert by_line[6]["message"].startswith("is not valid JSON")
    assert not Article.objects.filter(reference__in=lost).exists()
    assert not Revision.objects.filter(article__reference__in=lost).exists()
    assert Article.objects.count() == 9

    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_articles", str(path), stdout=out, stderr=io.StringIO())
    assert f"error: {path}:4: revisions[0].created_at: " in out.getvalue()
    assert "0 created, 0 updated, 9 unchanged, 0 stale, 2 failed." in out.getvalue()


def _reference_of(line: str) -> str:
    return re.search(r'"reference":"([^"]+)"', line).group(1)


def test_a_database_error_midway_leaves_nothing_of_that_article(tmp_path, knowledge_base, monkeypatch):
    export(tmp_path / "kb.jsonl")
    empty_the_database()
    real = merge._merge_audit

    def refuse_for_the_sample(article, *args):
        if article.reference == REFERENCE:
            raise DatabaseError("disk full")
        return real(article, *args)

    monkeypatch.setattr(merge, "_merge_audit", refuse_for_the_sample)  # where the restore reads it
    status, report = restore(str(tmp_path / "kb.jsonl"))

    assert status == 1 and counts(report)["failed"] == 1 and counts(report)["created"] == 10
    (error,) = report["errors"]
    assert error["line"] == 2 and "the database refused it: disk full" in error["message"]
    # Its row, parts and revisions were written before the failure, and are all gone.
    assert not Article.objects.filter(reference=REFERENCE).exists()
    assert not Revision.objects.filter(content__reference=REFERENCE).exists()


def test_a_backup_cut_short_or_of_another_version_is_reported(tmp_path, knowledge_base):
    export(tmp_path / "kb.jsonl")
    header, *articles, _closing = lines_of(tmp_path / "kb.jsonl")
    (tmp_path / "short.jsonl").write_text("\n".join([header, *articles[:5]]) + "\n")
    newer = json.dumps({**json.loads(header), "version": 3})
    (tmp_path / "newer.jsonl").write_text("\n".join([newer, *articles]) + "\n")
    empty_the_database()

    status, report = restore(str(tmp_path / "short.jsonl"))
    assert status == 1 and counts(report)["created"] == 5 and counts(report)["failed"] == 1
    assert report["errors"][0]["line"] == 7 and "cut short" in report["errors"][0]["message"]

    rows = row_counts()
    status, report = restore(str(tmp_path / "newer.jsonl"))
    assert status == 1 and counts(report)["failed"] == 1 and counts(report)["created"] == 0
    assert report["errors"][0]["line"] == 1 and report["errors"][0]["field"] == "version"
    assert row_counts() == rows


def test_dry_run_reports_what_a_restore_would_do_and_writes_nothing(tmp_path, knowledge_base):
    export(tmp_path / "kb.jsonl")
    empty_the_database()
    status, report = restore(str(tmp_path / "kb.jsonl"), "--dry-run")
    assert status == 0 and counts(report)["created"] == 11
    assert row_counts() == {name: 0 for name in row_counts()}


def test_a_backup_on_standard_input_and_beside_documents(tmp_path, knowledge_base, monkeypatch, corpus):
    export(tmp_path / "kb.jsonl")
    empty_the_database()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "kb.jsonl").read_bytes())))
    status, report = restore("-")
    assert status == 0 and counts(report)["created"] == 11

    # A backup and page-text documents in one run: each is recognised for what it is.
    document = tmp_path / "new.txt"
    text = next(iter(corpus))
    document.write_text(text.replace(_reference_in(text), "anp-ref-424242-4242"))
    status, report = restore(str(tmp_path / "kb.jsonl"), str(document))
    assert status == 0 and counts(report)["unchanged"] == 11 and counts(report)["created"] == 1
    assert Article.objects.filter(reference="anp-ref-424242-4242").exists()


def _reference_in(text: str) -> str:
    return re.search(r"[a-z]{3}-ref-\d{6}-\d{4}", text).group(0)


def test_page_text_is_never_taken_for_a_backup(sample_text, corpus):
    assert not backup.is_backup_header(sample_text.splitlines()[0])
    assert not any(backup.is_backup_header(text.splitlines()[0]) for text in corpus)
    assert backup.is_backup_header('{"format":"kb-backup","version":1}\n')
    assert not backup.is_backup_header('{"format":"other"}')


# -- the revision pointers ----------------------------------------------------------------------------


def without_uploads(content: dict) -> dict:
    """Content with its image sources' uploaded files left out."""
    images = [
        {key: value for key, value in image.items() if key not in ("upload", "width", "height")}
        for image in content.get("image_sources") or []
    ]
    return {**content, "image_sources": images}


def test_after_a_restore_every_row_is_the_projection_of_its_live_revision(tmp_path, knowledge_base):
    """The pointers are the truth: the row shows the live revision (the pending one for an article
    never published), even when the backup's copy of the row says otherwise."""
    export(tmp_path / "kb.jsonl")
    header, *articles, closing = lines_of(tmp_path / "kb.jsonl")
    tampered = json.loads(articles[1])
    tampered["content"]["summary"] = "a summary no revision holds"
    articles[1] = json.dumps(tampered)
    (tmp_path / "tampered.jsonl").write_text("\n".join([header, *articles, closing]) + "\n")
    empty_the_database()

    status, report = restore(str(tmp_path / "tampered.jsonl"))

    assert status == 0, report["errors"]
    assert Release.objects.count() == Article.objects.count() == 11
    restored = content_prefetch(
        Article.objects.select_related("release__live_revision", "release__pending_revision")
    )
    for article in restored:
        release = article.release
        shown = release.live_revision or release.pending_revision
        # An uploaded file stays with its image source when a rollback brings back content
        # without it (PartsWriter.replace): the sample's row has one its live revision lacks.
        assert without_uploads(content_from_article(article)) == without_uploads(shown.content)
        if release.live_revision is None:
            assert article.state == release.review_state
        else:
            assert article.state in (ArticleState.PUBLISHED, ArticleState.ARCHIVED)
    tampered_article = Article.objects.get(reference=tampered["content"]["reference"])
    assert tampered_article.summary != "a summary no revision holds"
    sample = fresh(Article.objects.get(reference=REFERENCE))
    assert content_from_article(sample)["image_sources"][0]["upload"] == "articles/diagram.png"


def v1_header() -> str:
    return json.dumps({"format": "kb-backup", "version": 1, "exported_at": "2026-06-28T10:00:00+00:00"})


def v1_revision(number, kind, state, content, *, author=None, base=None, conflict=False, at) -> dict:
    return {
        "number": number,
        "kind": kind,
        "state": state,
        "version": (content.get("revision") or {}).get("version") or "",
        "base_number": base,
        "conflict": conflict,
        "author": author,
        "created_at": at,
        "note": "",
        "content": content,
    }


def v1_event(action, from_state, to_state, *, user=None, revision=None, at) -> dict:
    return {
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "user": user,
        "created_at": at,
        "note": "",
        "revision": revision,
    }


def v1_line(content, state, pending_state, edited_at, revisions, audit) -> str:
    row = {
        "slug": content["reference"],
        "state": state,
        "pending_state": pending_state,
        "edited_at": edited_at,
        "published_at": "2026-06-01T09:00:00+00:00" if state in ("published", "archived") else None,
        "source_digest": "",
        "source_version": "",
        "created_at": "2026-06-01T09:00:00+00:00",
        "updated_at": "2026-06-03T09:00:00+00:00",
    }
    return json.dumps({"article": row, "content": content, "revisions": revisions, "audit": audit})


def test_a_version_1_backup_restores_with_pointers_derived_from_its_states(tmp_path, sample_text):
    """A backup written before the pointers: live is the latest published revision, pending the
    latest one that is not a conflict (when there was a pending state, or never a release),
    conflict the latest revision when flagged so, as migration releases 0007 derives them."""
    assert import_document(sample_text.encode(), path="sample.txt").outcome == "created"
    live = content_from_article(fresh(Article.objects.get(reference=REFERENCE)))
    empty_the_database()
    draft = {**live, "topic": "a pending topic"}
    incoming = {
        **live,
        "summary": "an imported summary",
        "revision": {**live["revision"], "version": "1.6.0"},
    }
    other = {**live, "reference": "anp-ref-000001-0001", "title": "never published"}
    other_edit = {**other, "topic": "edited before any release"}
    archived = {**live, "reference": "anp-ref-000002-0002", "title": "taken down"}
    t = "2026-06-0{}T09:00:00+00:00".format
    lines = [
        v1_header(),
        # Published, with edits in review and an import kept beside them.
        v1_line(
            live,
            "published",
            "in_review",
            t(2),
            [
                v1_revision(1, "import", "published", live, at=t(1)),
                v1_revision(2, "edit", "draft", draft, author="edith", base=1, at=t(2)),
                v1_revision(3, "import", "draft", incoming, conflict=True, at=t(3)),
            ],
            [
                v1_event("import", "", "published", revision=1, at=t(1)),
                v1_event("edit", "published", "draft", user="edith", revision=2, at=t(2)),
                v1_event("submit", "draft", "in_review", user="edith", at=t(2)),
                v1_event("import", "", "draft", revision=3, at=t(3)),
            ],
        ),
        # Never published: its review state was the row's state.
        v1_line(
            other,
            "changes_requested",
            None,
            t(2),
            [
                v1_revision(1, "import", "draft", other, at=t(1)),
                v1_revision(2, "edit", "draft", other_edit, author="edith", base=1, at=t(2)),
            ],
            [
                v1_event("import", "", "draft", revision=1, at=t(1)),
                v1_event("edit", "draft", "draft", user="edith", revision=2, at=t(2)),
                v1_event("submit", "draft", "in_review", user="edith", at=t(2)),
                v1_event("request_changes", "in_review", "changes_requested", user="rita", at=t(3)),
            ],
        ),
        # Archived, nothing pending.
        v1_line(
            archived,
            "archived",
            None,
            None,
            [v1_revision(1, "import", "published", archived, at=t(1))],
            [
                v1_event("import", "", "published", revision=1, at=t(1)),
                v1_event("archive", "published", "archived", user="rita", at=t(2)),
            ],
        ),
        json.dumps({"end": "kb-backup", "articles": 3}),
    ]
    (tmp_path / "v1.jsonl").write_text("\n".join(lines) + "\n")

    status, report = restore(str(tmp_path / "v1.jsonl"))

    assert status == 0, report["errors"]
    assert counts(report)["created"] == 3
    edited_at = dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC)
    sample = Article.objects.get(reference=REFERENCE)
    assert pointers(sample) == {
        "live_revision": 1,
        "pending_revision": 2,
        "conflict_revision": 3,
        "review_state": "in_review",
        "edited_at": edited_at,
    }
    assert content_from_article(fresh(sample)) == live and sample.state == "published"
    never = Article.objects.get(reference="anp-ref-000001-0001")
    assert pointers(never) == {
        "live_revision": None,
        "pending_revision": 2,
        "conflict_revision": None,
        "review_state": "changes_requested",
        "edited_at": edited_at,
    }
    # A never-published article's row shows its pending work, in its review state.
    assert never.topic == "edited before any release" and never.state == "changes_requested"
    assert pointers(Article.objects.get(reference="anp-ref-000002-0002")) == {
        "live_revision": 1,
        "pending_revision": None,
        "conflict_revision": None,
        "review_state": "",
        "edited_at": None,
    }
    # Names come from the user names (version 1 has no other); unknown users were created inactive.
    assert set(Revision.objects.exclude(author=None).values_list("author_name", flat=True)) == {"edith"}
    assert set(AuditEvent.objects.exclude(user=None).values_list("user_name", flat=True)) == {"edith", "rita"}
    assert set(Revision.objects.filter(author=None).values_list("author_name", flat=True)) == {""}
    assert not get_user_model().objects.get(username="rita").is_active

    # Exported again, it is a version 2 backup with the same pointers.
    export(tmp_path / "v2.jsonl")
    header, first, *_ = [json.loads(line) for line in lines_of(tmp_path / "v2.jsonl")]
    assert header["version"] == 2
    assert first["release"] == {**pointers(sample), "edited_at": edited_at.isoformat()}


def as_version_1(line: str) -> str:
    """An article line as format version 1 wrote it: the pending state on the row, no pointers."""
    record = json.loads(line)
    release = record.pop("release")
    released = record["article"]["state"] in ("published", "archived")
    record["article"].update(
        pending_state=(release["review_state"] or None) if released else None,
        edited_at=release["edited_at"],
    )
    for revision in record["revisions"]:
        del revision["author_name"], revision["merged_number"]
    for event in record["audit"]:
        del event["user_name"]
    return json.dumps(record)


def test_the_knowledge_base_as_a_version_1_backup_restores_to_the_same_pointers(
    tmp_path, knowledge_base, auditor
):
    export(tmp_path / "kb.jsonl")
    before_answers, before_state = api_answers(auditor), stored_state()
    header, *articles, closing = lines_of(tmp_path / "kb.jsonl")
    old_header = json.dumps({**json.loads(header), "version": 1})
    (tmp_path / "v1.jsonl").write_text("\n".join([old_header, *map(as_version_1, articles), closing]) + "\n")
    empty_the_database()
    auditor = get_user_model().objects.create_user(username="auditor", password="pw", is_staff=True)

    status, report = restore(str(tmp_path / "v1.jsonl"))

    assert status == 0, report["errors"]
    assert counts(report)["created"] == 11
    assert stored_state() == before_state and api_answers(auditor) == before_answers


def test_names_are_kept_as_the_backup_wrote_them(tmp_path, knowledge_base):
    """A revision or audit event keeps its author's name as text, even without a user behind it."""
    export(tmp_path / "kb.jsonl")
    header, *articles, closing = lines_of(tmp_path / "kb.jsonl")
    sample = json.loads(articles[0])
    assert sample["content"]["reference"] == REFERENCE
    sample["revisions"][1].update(author=None, author_name="edith (left)")
    sample["audit"][1].update(user=None, user_name="edith (left)")
    sample["revisions"][2]["author_name"] = "rita before her rename"
    articles[0] = json.dumps(sample)
    (tmp_path / "names.jsonl").write_text("\n".join([header, *articles, closing]) + "\n")
    empty_the_database()

    assert restore(str(tmp_path / "names.jsonl"))[0] == 0

    revisions = Revision.objects.filter(article__reference=REFERENCE).order_by("number")
    assert [(r.author, r.author_name) for r in revisions[1:3]] == [
        (None, "edith (left)"),
        (get_user_model().objects.get(username="rita"), "rita before her rename"),
    ]
    event = AuditEvent.objects.get(article__reference=REFERENCE, action="edit", revision__number=2)
    assert (event.user, event.user_name, event.user_label) == (None, "edith (left)", "edith (left)")


def test_a_control_character_in_a_revision_fails_its_article_naming_the_field(tmp_path, knowledge_base):
    export(tmp_path / "kb.jsonl")
    header, *articles, closing = lines_of(tmp_path / "kb.jsonl")
    sample = json.loads(articles[0])
    assert sample["content"]["reference"] == REFERENCE
    sample["revisions"][1]["content"]["title"] += "\u000b"
    articles[0] = json.dumps(sample)
    assert "\\u000b" in articles[0]
    path = tmp_path / "control.jsonl"
    path.write_text("\n".join([header, *articles, closing]) + "\n")

    # Merged into the database it came from: nothing of the sample changes.
    rows, state = row_counts(), stored_state()
    status, report = restore(str(path))
    assert status == 1 and counts(report)["failed"] == 1 and counts(report)["unchanged"] == 10
    assert row_counts() == rows and stored_state() == state

    # Into an empty database: the other articles come back, nothing of the sample does.
    empty_the_database()
    status, report = restore(str(path))
    assert status == 1
    assert counts(report) == {"created": 10, "updated": 0, "unchanged": 0, "stale": 0, "failed": 1}
    (error,) = report["errors"]
    assert (error["path"], error["line"], error["field"]) == (str(path), 2, "revisions[1].content.title")
    assert error["message"].startswith("holds the control character U+000B at character 99;")
    assert not Article.objects.filter(reference=REFERENCE).exists()
    assert not Revision.objects.filter(content__reference=REFERENCE).exists()
    assert not AuditEvent.objects.filter(note="clearer").exists()
    assert Release.objects.count() == Article.objects.count() == 10


def test_pointers_must_name_revisions_of_the_line(tmp_path, knowledge_base):
    export(tmp_path / "kb.jsonl")
    header, *articles, closing = lines_of(tmp_path / "kb.jsonl")
    broken = []
    for change in (
        {"pending_revision": 99},
        {"pending_revision": None},  # still "draft": a review state without pending work
        {"live_revision": "5"},
        {"review_state": "published"},
    ):
        sample = json.loads(articles[0])
        sample["release"].update(change)
        broken.append(json.dumps(sample))
    (tmp_path / "bad.jsonl").write_text("\n".join([header, *broken, closing]) + "\n")
    empty_the_database()

    status, report = restore(str(tmp_path / "bad.jsonl"))

    assert status == 1 and counts(report)["failed"] == 4
    assert [(e["field"], e["message"]) for e in report["errors"][:4]] == [
        ("release.pending_revision", "names revision 99, which the line lacks"),
        ("release.review_state", "must be empty when no revision is pending, and a review state when one is"),
        ("release.live_revision", "must be a revision number or null"),
        ("release.review_state", "'published' is not a review state (or empty)"),
    ]
    assert not Article.objects.exists()


def test_an_article_without_pointers_here_gets_them(tmp_path, knowledge_base):
    """Every article restored or merged has its one Release row afterwards."""
    export(tmp_path / "kb.jsonl")
    empty_the_database()
    assert restore(str(tmp_path / "kb.jsonl"))[0] == 0
    state = stored_state()
    lacking = [
        Article.objects.get(state=ArticleState.ARCHIVED),
        Article.objects.get(state=ArticleState.DRAFT),
    ]
    Release.objects.filter(article__in=lacking).delete()

    status, report = restore(str(tmp_path / "kb.jsonl"))

    assert status == 0 and counts(report)["updated"] == 2 and counts(report)["unchanged"] == 9
    assert Release.objects.count() == Article.objects.count()
    assert stored_state() == state

"""The import service and the import_articles command, against a real database."""

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, Entity, ImageSource, Tag
from corpus.generator import write_corpus
from releases.importing import Source, import_document, import_documents
from releases.models import Release, Revision
from tests.conftest import SAMPLE_PATH, run_python

META_EXAMPLE = json.loads((Path(__file__).parent / "meta_example.json").read_text())
REFERENCE = "anp-ref-035445-8950"
ALL_MODELS = (Article, ArticleTag, ArticleEntity, Tag, Entity, ImageSource, Revision)

pytestmark = pytest.mark.django_db


def row_counts():
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def import_text(text: str | bytes, path="doc.txt"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return import_document(data, path=path)


def run_command(*args):
    """Run import_articles and return (exit status, stdout)."""
    out = io.StringIO()
    try:
        call_command("import_articles", *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_sample_imports_with_every_field_equal_to_the_sample(sample_text):
    result = import_text(sample_text)
    assert result.outcome == "created", result.errors
    article = content_prefetch(Article.objects.filter(reference=REFERENCE)).get()
    content = content_from_article(article)
    for key in (
        "title", "site", "topic", "summary", "brief", "outline", "stack", "tools", "code_language",
        "difficulty", "reading_time", "view_count", "scores", "revision", "reference", "hash", "flags",
        "checklist", "entities", "image_sources", "payload", "notes", "extra",
    ):  # fmt: skip
        assert content[key] == META_EXAMPLE[key], key
    assert article.slug == META_EXAMPLE["slug"]
    assert article.state == ArticleState.PUBLISHED and article.published_at is not None
    body = sample_text[sample_text.index("a reliable") : sample_text.index("alphanode post")]
    assert article.body_text == body.strip()
    assert [block["kind"] for block in article.body][:4] == ["paragraph", "figure", "figure", "heading"]
    assert "from fastapi import FastAPI" in article.body_text


def test_sample_becomes_one_import_revision_with_the_full_snapshot(sample_text):
    import_text(sample_text)
    revision = Revision.objects.get()
    assert revision.number == 1 and revision.kind == "import" and revision.author is None
    assert revision.version == "1.5.4" and revision.state == ArticleState.PUBLISHED
    assert revision.content["checklist"] == META_EXAMPLE["checklist"]
    assert revision.content["image_sources"] == META_EXAMPLE["image_sources"]


def test_second_import_is_unchanged_and_writes_nothing(sample_text):
    import_text(sample_text)
    before = row_counts()
    with CaptureQueriesContext(connection) as queries:
        result = import_text(sample_text)
    assert result.outcome == "unchanged"
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
    assert row_counts() == before


def test_line_endings_bom_and_trailing_spaces_do_not_count_as_changes(sample_text):
    import_text(sample_text)
    variant = "\ufeff" + sample_text.replace("\n", "  \r\n")
    assert import_text(variant).outcome == "unchanged"


def test_changed_document_updates_and_keeps_the_earlier_snapshot(sample_text):
    import_text(sample_text)
    changed = (
        sample_text.replace("version: 1.5.4", "version: 1.5.5")
        .replace(
            "  • write the final note\ncreating", "  • write the final note\n  • tell the team\ncreating"
        )
        .replace("  • ruff\n", "")
    )
    changed = changed.replace("checklist\n  • capture", "checklist\n  • announce the window\n  • capture")
    result = import_text(changed)
    assert result.outcome == "updated"
    article = content_prefetch(Article.objects.all()).get()
    assert article.version == "1.5.5"
    assert article.checklist[0] == "announce the window"
    assert "ruff" not in content_from_article(article)["tools"]
    assert article.slug == META_EXAMPLE["slug"]
    first, second = Revision.objects.order_by("number")
    assert first.content["revision"]["version"] == "1.5.4"
    assert first.content["checklist"] == META_EXAMPLE["checklist"]
    assert "ruff" in first.content["tools"]
    assert second.number == 2 and second.content["checklist"][0] == "announce the window"


def test_older_version_is_stale_and_writes_nothing(sample_text):
    import_text(sample_text)
    older = sample_text.replace("version: 1.5.4", "version: 1.5.3").replace(
        "difficultyadvanced", "difficultyeasy"
    )
    before = row_counts()
    result = import_text(older)
    assert result.outcome == "stale"
    assert "older" in result.warnings[-1]["message"]
    assert row_counts() == before
    assert Article.objects.get().difficulty == "advanced"


def test_versions_compare_numerically(sample_text):
    import_text(sample_text.replace("version: 1.5.4", "version: 1.9.0"))
    result = import_text(sample_text.replace("version: 1.5.4", "version: 1.10.0"))
    assert result.outcome == "updated"


def test_document_needing_review_enters_as_a_hidden_draft(sample_text):
    text = sample_text.replace("needs human review: 0", "needs human review: 1")
    assert import_text(text).outcome == "created"
    article = Article.objects.get()
    assert article.state == ArticleState.DRAFT and article.published_at is None
    assert not Article.objects.live().exists()


def test_changed_draft_text_for_a_live_article_waits_as_a_draft_revision(sample_text):
    import_text(sample_text)
    draft = sample_text.replace("version: 1.5.4", "version: 1.6.0").replace(
        "status: reviewed", "status: draft"
    )
    draft = draft.replace("difficultyadvanced", "difficultyintermediate")
    result = import_text(draft)
    assert result.outcome == "updated"
    assert any("kept as pending work" in warning["message"] for warning in result.warnings)
    assert Release.objects.get().pending_revision.content["difficulty"] == "intermediate"
    article = Article.objects.get()
    assert article.state == ArticleState.PUBLISHED and article.difficulty == "advanced"
    latest = Revision.objects.order_by("-number").first()
    assert latest.state == ArticleState.DRAFT and latest.content["difficulty"] == "intermediate"
    # The same draft text again is unchanged.
    assert import_text(draft).outcome == "unchanged"


REJECTIONS = [
    ("no header", lambda t: t.replace("alphanode post meta", "alphanode meta"), "post meta"),
    ("truncated", lambda t: t[: t.index("Similar Posts")], "Similar Posts"),
    ("no reference", lambda t: t.replace("referenceanp-ref-035445-8950\n", ""), "reference"),
    ("bad integer", lambda t: t.replace("reading time4", "reading timefour"), "reading time"),
    ("score out of range", lambda t: t.replace("quality: 80", "quality: 101"), "quality"),
    ("bad flag", lambda t: t.replace("has images: 1", "has images: 2"), "has images"),
    ("bad date", lambda t: t.replace("2026-06-28", "2026-02-30"), "last reviewed"),
    ("bad version", lambda t: t.replace("version: 1.5.4", "version: one"), "version"),
    (
        "javascript url",
        lambda t: t.replace("url: https://loremflickr.com", "url: javascript://loremflickr.com"),
        "url",
    ),
]


@pytest.mark.parametrize(("mutate", "field"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
def test_rejections_name_the_field_and_leave_the_database_untouched(sample_text, mutate, field):
    before = row_counts()
    result = import_text(mutate(sample_text), path="exports/bad.txt")
    assert result.outcome == "failed"
    assert result.errors, "a failure carries at least one error"
    assert any(field in error["field"] for error in result.errors), result.errors
    assert all(error["path"] == "exports/bad.txt" and error["message"] for error in result.errors)
    assert row_counts() == before


def test_non_utf8_and_binary_input_fail_with_a_message(sample_text):
    before = row_counts()
    for data in (sample_text.encode("latin-1", "replace") + b"\xff\xfe", b"\x00\x01\x02binary"):
        result = import_text(data)
        assert result.outcome == "failed" and result.errors[0]["message"]
    assert row_counts() == before


def test_title_too_long_for_the_column_fails_cleanly(sample_text):
    lines = sample_text.split("\n")
    lines[0] = "x" * 600
    result = import_text("\n".join(lines))
    assert result.outcome == "failed"
    assert result.errors[0]["field"] == "title"
    assert Article.objects.count() == 0


def test_hostile_text_is_stored_verbatim(sample_text):
    hostile = "<script>alert(1)</script> {{ 7|add:7 }} <img src=x onerror=alert(2)>"
    text = sample_text.replace(
        "production checklist for creating", f"{hostile} production checklist for creating", 1
    ).replace("  • write the final note\n  • ", f"  • write the final note\n  • {hostile}\n  • ", 1)
    text = text.replace("notes\n  • sanitized", f"notes\n  • {hostile}\n  • sanitized")
    assert import_text(text).outcome == "created"
    article = Article.objects.get()
    assert article.title.startswith(hostile)
    assert hostile in article.notes
    assert re.fullmatch(r"[a-z0-9-]+", article.slug)


def test_same_title_gets_a_unique_stable_slug(sample_text):
    import_text(sample_text)
    other = sample_text.replace(REFERENCE, "anp-ref-000001-0001")
    result = import_text(other)
    assert result.outcome == "created"
    assert result.slug != META_EXAMPLE["slug"] and result.slug.endswith("anp-ref-000001-0001")
    renamed = other.replace("version: 1.5.4", "version: 1.5.6").replace(
        "production checklist for creating rollback", "a new title for rollback", 1
    )
    assert import_text(renamed).outcome == "updated"
    assert Article.objects.get(reference="anp-ref-000001-0001").slug == result.slug


def test_tags_and_entities_are_shared_between_articles(sample_text):
    import_text(sample_text)
    import_text(sample_text.replace(REFERENCE, "anp-ref-000002-0002"))
    assert Tag.objects.filter(kind="stack").count() == 3
    assert Tag.objects.filter(kind="tool").count() == 6
    assert Entity.objects.count() == 3
    assert ArticleTag.objects.count() == 18


def test_mixed_batch_imports_the_good_documents_and_exits_1(tmp_path, sample_text):
    (tmp_path / "a-good.txt").write_text(sample_text)
    (tmp_path / "b-bad.txt").write_text(sample_text.replace("reading time4", "reading time-4"))
    (tmp_path / "c-good.txt").write_text(sample_text.replace(REFERENCE, "anp-ref-000003-0003"))
    (tmp_path / "ignored.md").write_text("not a page-text export")
    status, out = run_command(str(tmp_path), "--format", "json")
    assert status == 1
    report = json.loads(out)
    assert {k: report[k] for k in ("created", "updated", "unchanged", "stale", "failed")} == {
        "created": 2, "updated": 0, "unchanged": 0, "stale": 0, "failed": 1,
    }  # fmt: skip
    (error,) = [e for e in report["errors"] if e["field"] == "reading time"]
    assert error["path"].endswith("b-bad.txt") and isinstance(error["line"], int)
    assert Article.objects.count() == 2

    status, out = run_command(str(tmp_path), "--format", "json")
    assert json.loads(out)["unchanged"] == 2


def test_command_text_summary_and_success_status(tmp_path, sample_text):
    (tmp_path / "one.txt").write_text(sample_text)
    status, out = run_command(str(tmp_path / "one.txt"))
    assert status == 0
    assert "1 created, 0 updated, 0 unchanged, 0 stale, 0 failed." in out


def test_dry_run_writes_nothing(tmp_path, sample_text):
    (tmp_path / "one.txt").write_text(sample_text)
    status, out = run_command(str(tmp_path), "--dry-run", "--format", "json")
    assert status == 0 and json.loads(out)["created"] == 1
    assert row_counts() == {model.__name__: 0 for model in ALL_MODELS}


def test_standard_input(monkeypatch, sample_text):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(sample_text.encode())))
    status, out = run_command("-", "--format", "json")
    assert status == 0 and json.loads(out)["created"] == 1


def test_missing_path_is_bad_usage(tmp_path):
    with pytest.raises(CommandError, match="no such file or directory"):
        call_command("import_articles", str(tmp_path / "nope"))


@pytest.mark.parametrize("args", [["/nonexistent/exports"], [], ["--format", "xml", "x.txt"]])
def test_bad_usage_exits_2_from_the_command_line(args):
    result = run_python(["manage.py", "import_articles", *args], env={"DEBUG": "1"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip()


def test_synthesized_corpus_imports_cleanly(tmp_path):
    write_corpus(tmp_path, 60, seed=3)
    report = import_documents(_sources(tmp_path))
    assert report.counts["created"] == 60, report.errors[:3]
    assert report.errors == [] and report.warnings == []
    clusters = json.loads((tmp_path / "clusters.json").read_text())
    assert set(clusters) == set(Article.objects.values_list("reference", flat=True))
    again = import_documents(_sources(tmp_path))
    assert again.counts["unchanged"] == 60


def test_import_query_count_does_not_grow_with_the_batch(tmp_path, django_assert_max_num_queries):
    """120 documents in one batch, and the similar posts of all of them, in a fixed budget."""
    write_corpus(tmp_path, 120, seed=4)
    with django_assert_max_num_queries(75):
        report = import_documents(_sources(tmp_path), batch_size=200)
    assert report.counts["created"] == 120


def _sources(folder: Path):
    return [Source(str(p), p.read_bytes()) for p in sorted(folder.rglob("*.txt"))]


SAMPLE_LINES = SAMPLE_PATH.read_text().split("\n")


@st.composite
def mutated_documents(draw):
    lines = list(SAMPLE_LINES)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "inject", "truncate"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif action == "inject":
            lines[index] += draw(st.text(max_size=20))
        else:
            lines = lines[:index]
        if not lines:
            lines = [""]
    return "\n".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_documents())
def test_mutated_documents_import_or_fail_with_a_message_and_leave_nothing_half_written(text):
    with transaction.atomic():
        result = import_text(text)
        if result.outcome == "failed":
            assert result.errors and all(error["message"] for error in result.errors)
            assert Article.objects.count() == 0 and Revision.objects.count() == 0
        else:
            assert result.outcome == "created"
            article = Article.objects.get()
            assert Revision.objects.filter(article=article).count() == 1
        transaction.set_rollback(True)


def test_statistics_refresh_runs_on_this_database(sample_article):
    from articles.bulk import analyze
    from articles.models import ArticleTag

    analyze([Article, ArticleTag, Revision])  # raises on a syntax the database does not know
    assert Article.objects.filter(source_digest=sample_article.source_digest).exists()


def test_directories_give_every_txt_file_below_them_in_path_order(tmp_path):
    from releases.importing import iter_sources

    tree = tmp_path / "tree"
    for name in ("b.txt", "a/x.txt", "a-b/x.txt", "a/deeper/y.txt", ".txt", "notes.md", "Z.txt"):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(name)
    (tree / "dir.txt").mkdir()
    (tree / "linked.txt").symlink_to(tree / "b.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.txt").write_text("outside")
    (tree / "link-to-dir").symlink_to(outside, target_is_directory=True)

    paths = [source.path for source in iter_sources([str(tree)])]

    expected = sorted(p for p in tree.rglob("*.txt") if p.is_file())
    assert paths == [str(p) for p in expected]
    relative = [str(Path(p).relative_to(tree)) for p in paths]
    assert relative == [".txt", "Z.txt", "a/deeper/y.txt", "a/x.txt", "a-b/x.txt", "b.txt", "linked.txt"]


def test_a_document_without_a_version_never_replaces_a_versioned_live_one(sample_text):
    import_text(sample_text)
    unversioned = sample_text.replace("  • version: 1.5.4\n", "").replace(
        "difficultyadvanced", "difficultyintermediate"
    )
    assert "version: 1.5.4" not in unversioned
    result = import_text(unversioned)
    assert result.outcome == "updated"
    assert any("carries no version" in warning["message"] for warning in result.warnings)
    article = Article.objects.get()
    assert article.version == "1.5.4" and article.difficulty == "advanced"
    assert Release.objects.get().pending_revision.content["difficulty"] == "intermediate"

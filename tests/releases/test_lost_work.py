"""Issue 15: the paths that lose an editor's work, one test per numbered failure.

Each test drives the product as its users do (the DRF API, the Django admin, the importer) and
asserts what the issue promises once revisions are the one source of truth: explicit live and
pending revisions, one action layer, one content validator. Each fails against the code the
issue describes.
"""

import io
import re

import pytest
from django import forms
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from articles.models import Article, ImageSource, Tag
from releases.importing import import_document
from releases.models import AuditEvent, Revision
from tests.conftest import admin_form_data

pytestmark = pytest.mark.django_db

REFERENCE = "anp-ref-035445-8950"
SITE = "alphanode"  # the sample's header line is "alphanode post meta"
TITLE = "production checklist for creating rollback friendly releases in python services: maintenance guide"
SUMMARY = (
    "this ai-style technical summary explains creating rollback friendly releases in python services, "
    "with emphasis on measurement, safe defaults, rollback planning, and maintainable documentation."
)


# -- how users reach the product ---------------------------------------------------------------


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def url(article, action: str = "") -> str:
    return f"/api/articles/{article.slug}/" + (f"{action}/" if action else "")


def live(article) -> dict:
    """The article as anonymous clients read it: the live content."""
    response = api().get(url(article))
    assert response.status_code == 200, f"anonymous detail answered {response.status_code}"
    return response.json()


def history(article, staff) -> list[dict]:
    """The revision history as staff read it, newest first."""
    response = api(staff).get(url(article, "revisions"))
    assert response.status_code == 200, response.content
    return response.json()


def ok(response, what: str, status: int = 200):
    assert response.status_code == status, f"{what}: {response.status_code} {response.content[:300]!r}"
    return response


def patch(article, user, changes: dict):
    return api(user).patch(url(article), changes, format="json")


def act(article, user, action: str, **payload):
    return api(user).post(url(article, action), payload, format="json")


def change_url(article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def admin_client(user, *, raise_errors: bool = True) -> Client:
    client = Client(raise_request_exception=raise_errors)
    client.force_login(user)
    return client


def browser_form(client, page_url: str) -> dict:
    """The admin change form as a browser submits it, unchanged: ``admin_form_data``, with the
    yes/no/unknown selects (the flags) sent as a browser sends them ("true"/"false"), where that
    helper sends "on" for yes (which the select reads as unknown) and nothing for no."""
    data = admin_form_data(client, page_url)
    form = client.get(page_url).context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(field, forms.NullBooleanField) and value is not None:
            data[name] = "true" if value else "false"
    return data


def editor_sees(article, user) -> dict:
    """The admin change form's values as an editor opening the page sees them."""
    return browser_form(admin_client(user), change_url(article))


def release_of(article):
    """The article's revision pointers (the new design's releases-side row)."""
    from releases.models import Release

    return Release.objects.get(article=article)


def document(
    sample_text: str,
    *,
    version: str | None = None,
    status: str | None = None,
    needs_review: bool | None = None,
    site: str | None = None,
    reference: str | None = None,
    replace: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A changed copy of the sample document (each replaced text must be there)."""
    changes = list(replace)
    if version is not None:
        changes.append(("version: 1.5.4", f"version: {version}"))
    if status is not None:
        changes.append(("status: reviewed", f"status: {status}"))
    if needs_review is not None:
        changes.append(("needs human review: 0", f"needs human review: {int(needs_review)}"))
    if site is not None:
        changes.append((f"{SITE} post meta", f"{site} post meta"))
    if reference is not None:
        changes.append((f"reference{REFERENCE}", f"reference{reference}"))
    text = sample_text
    for old, new in changes:
        assert old in text, f"the sample document has no {old!r}"
        text = text.replace(old, new)
    return text.encode()


def approve_and_publish(article, editor, reviewer, *, bump: str = "patch", note: str = "release"):
    ok(act(article, editor, "submit"), "submit")
    ok(act(article, reviewer, "approve", note="fine"), "approve")
    return ok(act(article, reviewer, "publish", note=note, bump=bump), "publish")


def publish_pending(article, editor, reviewer, *, bump: str = "patch"):
    """Take the pending revision, whatever review state it waits in, through to live."""
    state = release_of(article).review_state
    assert state, "nothing is pending"
    if state in ("draft", "changes_requested"):
        ok(act(article, editor, "submit"), "submit")
        state = "in_review"
    if state == "in_review":
        ok(act(article, reviewer, "approve", note="checked"), "approve")
    return ok(act(article, reviewer, "publish", note="release", bump=bump), "publish")


def names_field(body, name: str) -> bool:
    """True when an error answer names the field ``name`` (as a key, or as a problem's field)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key == name or key.startswith(f"{name}.") or key.startswith(f"{name}["):
                return True
            if key == "field" and isinstance(value, str) and (value == name or value.startswith(name)):
                return True
            if names_field(value, name):
                return True
    if isinstance(body, list):
        return any(names_field(item, name) for item in body)
    return False


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def stored_files(root) -> set[str]:
    return (
        {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
        if root.exists()
        else set()
    )


# -- 1 ------------------------------------------------------------------------------------------


def test_01_rollback_keeps_the_work_waiting_for_review(sample_article, editor, reviewer):
    """1. **A rollback throws away work waiting for review.** Editor edits and submits; reviewer
    approves and publishes; editor edits again and submits; reviewer rolls back to the first
    version. The review state stays `in_review`, but the content under review is now the
    rolled-back text: approving and publishing never puts the editor's second edit live.
    (`pending_content()` takes the latest revision, which is now the rollback.)"""
    ok(patch(sample_article, editor, {"summary": "first edit"}), "first edit")
    approve_and_publish(sample_article, editor, reviewer, bump="minor")
    assert live(sample_article)["summary"] == "first edit"

    ok(patch(sample_article, editor, {"summary": "second edit"}), "second edit")
    ok(act(sample_article, editor, "submit"), "submit the second edit")

    rollback = ok(act(sample_article, reviewer, "rollback", version="1.5.4", note="revert"), "rollback")
    assert rollback.json()["review_state"] == "in_review"
    assert live(sample_article)["summary"] == SUMMARY

    under_review = editor_sees(sample_article, editor)["summary"]
    assert under_review == "second edit", (
        f"after the rollback the work under review must still be the editor's second edit, "
        f"but the admin form opens with {under_review[:40]!r}"
    )

    ok(act(sample_article, reviewer, "approve", note="ok"), "approve the second edit")
    ok(act(sample_article, reviewer, "publish", note="second", bump="patch"), "publish the second edit")
    published = live(sample_article)
    assert published["summary"] == "second edit", (
        f"approving and publishing after a rollback must put the second edit live, "
        f"not {published['summary'][:40]!r}"
    )
    assert release_of(sample_article).pending_revision is None


# -- 2 ------------------------------------------------------------------------------------------


def test_02_conflicting_import_keeps_the_approved_edit_under_review(
    sample_article, sample_text, editor, reviewer
):
    """2. **An import that conflicts with editors' changes drops them from the workflow.** Editor
    edits, submits, reviewer approves; then a changed document with the same reference is
    imported. The report says the conflict was flagged and nothing was overwritten, yet the admin
    form now opens with the imported text, and publishing puts the import live. The approved
    edit survives only in the history."""
    ok(patch(sample_article, editor, {"summary": "approved edit"}), "edit")
    ok(act(sample_article, editor, "submit"), "submit")
    ok(act(sample_article, reviewer, "approve", note="good"), "approve")

    result = import_document(
        document(sample_text, version="1.5.9", replace=(("difficultyadvanced", "difficultyeasy"),)),
        path="newer.txt",
    )
    assert result.outcome != "failed", result.errors
    assert live(sample_article)["difficulty"] == "advanced", "the conflicting import went live"

    form = editor_sees(sample_article, reviewer)
    assert (form["summary"], form["difficulty"]) == ("approved edit", "advanced"), (
        "the editors' approved revision must stay the one under review, but the admin form opens "
        f"with summary {form['summary'][:30]!r} and difficulty {form['difficulty']!r} (the import)"
    )

    release = release_of(sample_article)
    assert release.pending_revision.content["summary"] == "approved edit"
    assert release.review_state == "reviewed"
    assert release.conflict_revision is not None
    assert release.conflict_revision.content["difficulty"] == "easy"

    publish = act(sample_article, reviewer, "publish", note="release", bump="patch")
    published = live(sample_article)
    if publish.status_code == 409:
        # The reviewer may be asked to resolve the conflict first: then nothing goes live yet.
        assert "conflict" in publish.json()["detail"], (
            f"publishing the approved edit was refused for another reason: {publish.json()}"
        )
        assert (published["summary"], published["difficulty"]) == (SUMMARY, "advanced")
        assert release_of(sample_article).pending_revision.content["summary"] == "approved edit"
    else:
        assert publish.status_code == 200, publish.json()
        assert (published["summary"], published["difficulty"]) == ("approved edit", "advanced"), (
            "publishing after the conflicting import must put the approved edit live"
        )

    kinds = [entry["kind"] for entry in history(sample_article, reviewer)]
    assert kinds.count("import") == 2, kinds  # the imported text is kept, as its own revision


# -- 3 ------------------------------------------------------------------------------------------


def test_03_another_sites_document_never_overwrites_an_article(sample_article, sample_text, reviewer):
    """3. **Another site's document overwrites a live article.** A document whose header names
    another site (`betabyte post meta`) but carries an existing reference updates the existing
    article: its site, title and content change, live, with no warning."""
    before = live(sample_article)
    revisions = len(history(sample_article, reviewer))
    result = import_document(
        document(
            sample_text,
            site="betabyte",
            version="1.5.9",
            replace=((TITLE, "betabyte's own article"), ("difficultyadvanced", "difficultyeasy")),
        ),
        path="betabyte.txt",
    )

    after = live(sample_article)
    assert (after["site"], after["title"], after["difficulty"]) == (SITE, TITLE, "advanced"), (
        f"another site's document changed the live article: site {after['site']!r}, "
        f"title {after['title'][:30]!r}, difficulty {after['difficulty']!r}"
    )
    assert after == before
    assert api(reviewer).get(url(sample_article)).json()["site"] == SITE
    assert len(history(sample_article, reviewer)) == revisions, "a revision was written"
    assert result.outcome == "failed", f"outcome {result.outcome!r}, errors {result.errors}"
    messages = " ".join(error["message"] for error in result.errors)
    assert SITE in messages and "betabyte" in messages, result.errors


# -- 4 ------------------------------------------------------------------------------------------


def test_04_an_older_version_never_replaces_the_live_one(sample_article, sample_text, editor, reviewer):
    """4. **An older version replaces a reviewer's publish.** The live version is 1.6.1 (publish,
    then rollback); importing the source at 1.5.6 marked reviewed makes 1.5.6 live. The stale
    check compares with the last imported version, not with what is live or pending."""
    ok(patch(sample_article, editor, {"summary": "edited"}), "edit")
    approve_and_publish(sample_article, editor, reviewer, bump="minor")
    ok(act(sample_article, reviewer, "rollback", version="1.5.4", note="revert"), "rollback")
    assert live(sample_article)["revision"]["version"] == "1.6.1"

    result = import_document(
        document(
            sample_text,
            version="1.5.6",
            status="reviewed",
            replace=(("difficultyadvanced", "difficultyeasy"),),
        ),
        path="older.txt",
    )

    after = live(sample_article)
    assert (after["revision"]["version"], after["difficulty"]) == ("1.6.1", "advanced"), (
        f"an import at 1.5.6 replaced the live 1.6.1: live is now {after['revision']['version']} "
        f"with difficulty {after['difficulty']!r}"
    )
    assert result.outcome == "stale", f"outcome {result.outcome!r}"


# -- 5 ------------------------------------------------------------------------------------------


def test_05_uploaded_images_survive_later_saves_and_publishing(media_root, sample_article, editor, reviewer):
    """5. **A second admin save loses uploaded images.** Upload an image for an image source,
    save; reopen, change only that caption, save: the new revision has no upload, width or
    height, and after publishing the image is gone (the file is orphaned in media storage)."""
    client = admin_client(editor)
    form = browser_form(client, change_url(sample_article))
    form["upload_for"] = 1
    form["upload"] = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    first = client.post(change_url(sample_article), form)
    assert first.status_code == 302, first.context["adminform"].form.errors if first.context else first
    (uploaded,) = stored_files(media_root)

    form = browser_form(client, change_url(sample_article))
    lines = form["image_list"].split("\n")
    source, image_url, _caption = (part.strip() for part in lines[0].split("|", 2))
    lines[0] = f"{source} | {image_url} | a better caption"
    form["image_list"] = "\n".join(lines)
    second = client.post(change_url(sample_article), form)
    assert second.status_code == 302, second.context["adminform"].form.errors if second.context else second

    approve_and_publish(sample_article, editor, reviewer)

    image = ImageSource.objects.get(article=sample_article, position=0)
    assert image.caption == "a better caption"
    assert image.image.name, "the published image source lost its upload after a second save"
    assert default_storage.exists(image.image.name)
    assert (image.width, image.height) == (40, 30)
    referenced = {name for name in ImageSource.objects.values_list("image", flat=True) if name}
    assert stored_files(media_root) == referenced == {uploaded}, "an uploaded file is orphaned"


# -- 6 ------------------------------------------------------------------------------------------


def test_06_saving_without_a_change_changes_nothing_and_diffs_are_minimal(sample_article, editor, reviewer):
    """6. **Saving without a change makes a revision and a fake diff.** Opening an article in the
    admin and pressing "Save and continue editing" adds a draft revision, moves the article into
    the queue, and "compare" shows dozens of body changes: the browser sends CRLF line endings,
    the form stores them as they are, and the diff splits words on spaces only."""

    def as_browser_sends(data: dict) -> dict:
        """Browsers send every line break of a textarea as CRLF."""
        crlf = {
            key: value.replace("\r\n", "\n").replace("\n", "\r\n") if isinstance(value, str) else value
            for key, value in data.items()
        }
        return {**crlf, "_continue": "Save and continue editing"}

    client = admin_client(editor)
    before = api().get(url(sample_article))
    revisions = Revision.objects.filter(article=sample_article).count()

    unchanged = as_browser_sends(browser_form(client, change_url(sample_article)))
    assert any("\r\n" in value for value in unchanged.values() if isinstance(value, str))
    ok(client.post(change_url(sample_article), unchanged), "unchanged save", status=302)

    added = Revision.objects.filter(article=sample_article).count() - revisions
    assert added == 0, f"saving the form unchanged added {added} revision(s)"
    queue = admin_client(reviewer).get(reverse("admin:releases_reviewqueueitem_changelist"))
    assert queue.context["cl"].result_count == 0, "the unchanged article entered the review queue"
    assert release_of(sample_article).review_state == ""
    after = api().get(url(sample_article))
    assert after.json() == before.json() and after["ETag"] == before["ETag"]

    data = browser_form(client, change_url(sample_article))
    assert "a reliable python services setup" in data["body_text"]
    data["body_text"] = data["body_text"].replace("a reliable python", "a dependable python", 1)
    ok(client.post(change_url(sample_article), as_browser_sends(data)), "one-word edit", status=302)

    entries = history(sample_article, reviewer)
    assert entries[0]["kind"] == "edit"
    live_number = min(entry["number"] for entry in entries if entry["kind"] == "import")
    compare = admin_client(reviewer).get(
        reverse("admin:articles_article_compare", args=[sample_article.pk]),
        {"a": live_number, "b": entries[0]["number"]},
    )
    assert compare.status_code == 200
    changes = compare.context["changes"]
    assert [change.label for change in changes] == ["Body"], (
        f"a one-word body edit shows as changes to {[change.label for change in changes]}"
    )
    marked = [(op, words.strip()) for op, words in changes[0].pieces if op != "="]
    assert marked == [("-", "reliable"), ("+", "dependable")], (
        f"the body diff marks {len(marked)} pieces for one changed word: {marked[:4]}"
    )


# -- 7 ------------------------------------------------------------------------------------------


def test_07_published_versions_are_unique_and_every_one_can_be_restored(
    sample_article, sample_text, editor, reviewer
):
    """7. **Two published revisions can share a version, and rollback then restores the wrong
    one.** The importer accepts changed text under an unchanged version; "roll back to this
    version" looks the version string up, so the other revision's text goes live and the
    original can never be restored."""
    result = import_document(
        document(sample_text, replace=(("difficultyadvanced", "difficultyeasy"),)), path="same-version.txt"
    )
    assert result.outcome != "failed", result.errors

    after_import = live(sample_article)
    assert after_import["difficulty"] == "advanced", (
        "changed text under the already published version 1.5.4 went live instead of waiting "
        "as a pending revision for a human"
    )
    published = [
        entry["version"] for entry in history(sample_article, reviewer) if entry["state"] == "published"
    ]
    assert len(published) == len(set(published)), f"published versions repeat: {published}"
    assert release_of(sample_article).pending_revision is not None

    publish_pending(sample_article, editor, reviewer)
    assert live(sample_article)["difficulty"] == "easy"

    entries = history(sample_article, reviewer)
    original = min(entry["number"] for entry in entries if entry["state"] == "published")
    admin = admin_client(reviewer)
    rollback = admin.post(
        reverse("admin:articles_article_rollback", args=[sample_article.pk, original]), {"note": "back"}
    )
    assert rollback.status_code == 302
    restored = live(sample_article)
    assert restored["difficulty"] == "advanced", "rolling back to the first revision restored other text"

    entries = history(sample_article, reviewer)
    imported = max(
        entry["number"] for entry in entries if entry["state"] == "published" and entry["kind"] == "publish"
    )
    again = ok(act(sample_article, reviewer, "rollback", revision=imported, note="forward"), "rollback")
    assert live(sample_article)["difficulty"] == "easy", again.json()
    published = [
        entry["version"] for entry in history(sample_article, reviewer) if entry["state"] == "published"
    ]
    assert len(published) == len(set(published)), f"published versions repeat: {published}"


# -- 8 ------------------------------------------------------------------------------------------


def test_08_deleting_a_user_never_rewrites_history(
    sample_article, editor, reviewer, superuser, django_user_model
):
    """8. **Deleting a user rewrites history.** Deleting a user in the admin turns that user's
    revision authors and audit entries into "import" (`SET_NULL`)."""
    ok(patch(sample_article, editor, {"summary": "edith's words"}), "edit")
    ok(act(sample_article, editor, "submit"), "submit")

    admin_client(superuser).post(reverse("admin:auth_user_delete", args=[editor.pk]), {"post": "yes"})

    assert django_user_model.objects.filter(pk=editor.pk).exists(), (
        "the admin deleted a user who has revisions and audit events"
    )
    authors = {entry["kind"]: entry["author"] for entry in history(sample_article, reviewer)}
    assert authors["edit"] == "edith", f"the edit's author now reads {authors['edit']!r}"
    edit = Revision.objects.get(article=sample_article, kind="edit")
    assert edit.author_name == "edith"
    actions = AuditEvent.objects.filter(article=sample_article, action__in=["edit", "submit"])
    assert sorted(actions.values_list("user_name", flat=True)) == ["edith", "edith"]


# -- 9 ------------------------------------------------------------------------------------------


def test_09_a_tag_rename_is_recorded_on_every_article_that_carries_it(
    sample_article, sample_text, superuser, reviewer
):
    """9. **A tag rename changes live articles with no record.** Renaming a tag in the admin
    changes every article that carries it, with no revision and no audit event."""
    second = import_document(document(sample_text, reference="anp-ref-000009-0009"), path="second.txt")
    assert second.outcome == "created", second.errors
    articles = [sample_article, Article.objects.get(pk=second.article_id)]
    assert all("pytest" in live(article)["tools"] for article in articles)
    revisions = {article.pk: Revision.objects.filter(article=article).count() for article in articles}
    events = {article.pk: AuditEvent.objects.filter(article=article).count() for article in articles}

    tag = Tag.objects.get(kind="tool", name="pytest")
    client = admin_client(superuser)
    tag_url = reverse("admin:articles_tag_change", args=[tag.pk])
    form = admin_form_data(client, tag_url)
    form["name"] = "pytest-ng"
    ok(client.post(tag_url, form), "tag rename", status=302)

    for article in articles:
        added = Revision.objects.filter(article=article).count() - revisions[article.pk]
        assert added == 1, f"renaming a tag of {article.slug} added {added} revisions"
        latest = Revision.objects.filter(article=article).order_by("-number").first()
        assert "pytest-ng" in latest.content["tools"] and "pytest" not in latest.content["tools"]
        assert AuditEvent.objects.filter(article=article).count() == events[article.pk] + 1
        tools = live(article)["tools"]
        assert "pytest-ng" in tools and "pytest" not in tools


# -- 10 -----------------------------------------------------------------------------------------


def test_10_edit_paths_refuse_what_the_importer_refuses(sample_article, editor):
    """10. **Edit paths accept what the importer refuses.** Control characters in a title
    (`\\u000b`, `\\u000c`) pass the API PATCH and the admin form; once published, the public
    feed answers 500 for everyone. An extra-meta key named `items` makes the article page and its
    admin change page answer 500."""
    failures = []
    revisions = Revision.objects.filter(article=sample_article).count()

    for character in ("\u000b", "\u000c"):
        response = patch(sample_article, editor, {"title": f"bad{character}title"})
        if response.status_code != 400 or not names_field(response.json(), "title"):
            failures.append(f"PATCH of a title with {character!r} answered {response.status_code}")

    client = admin_client(editor)
    form = browser_form(client, change_url(sample_article))
    form["title"] = "bad\u000ctitle"
    response = client.post(change_url(sample_article), form)
    if response.status_code != 200 or not response.context["adminform"].form.errors:
        failures.append(f"the admin form saved a title with '\\x0c' (answered {response.status_code})")

    response = patch(sample_article, editor, {"extra": {"items": ["one", "two"]}})
    if response.status_code != 400 or not names_field(response.json(), "extra"):
        failures.append(f"PATCH of an extra-meta key 'items' answered {response.status_code}")

    added = Revision.objects.filter(article=sample_article).count() - revisions
    if added:
        failures.append(f"the refused edits made {added} revision(s)")

    # An article whose stored extra meta already has a key named "items" (as older data may).
    extra = {"items": ["one", "two"], "keys": ["k"], "values": ["v"]}
    Article.objects.filter(pk=sample_article.pk).update(extra=extra)
    for revision in Revision.objects.filter(article=sample_article):
        Revision.objects.filter(pk=revision.pk).update(content={**revision.content, "extra": extra})
    reader = Client(raise_request_exception=False).get(sample_article.get_absolute_url())
    if reader.status_code != 200:
        failures.append(f"the article page with extra meta 'items' answered {reader.status_code}")
    change = admin_client(editor, raise_errors=False).get(change_url(sample_article))
    if change.status_code != 200:
        failures.append(f"the admin change page with extra meta 'items' answered {change.status_code}")

    assert not failures, "; ".join(failures)


# -- 11 -----------------------------------------------------------------------------------------


def _statements(run) -> list[str]:
    """The SQL statements (with their parameters) that ``run()`` sends to the database."""
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(f"{sql} {params!r}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return seen


SYNCHRONOUS_COMMIT_OFF = re.compile(r"synchronous_commit\W+(to\W+|=\W*)?'?off", re.IGNORECASE)


@pytest.mark.postgres
def test_11_api_imports_are_durable_before_they_are_acknowledged(sample_text, reviewer):
    """11. **API imports are acknowledged before they are durable.** `POST /api/imports/`
    answers 201 with synchronous commit off; a crash right after can lose an import the client
    was told succeeded."""
    responses = []
    statements = _statements(
        lambda: responses.append(
            api(reviewer).post(
                "/api/imports/",
                document(sample_text, reference="anp-ref-000011-0011"),
                content_type="text/plain",
            )
        )
    )
    (response,) = responses
    assert response.status_code == 201, response.content
    relaxed = [sql for sql in statements if SYNCHRONOUS_COMMIT_OFF.search(sql)]
    assert not relaxed, f"the API import ran {relaxed[0]!r} before answering 201"


@pytest.mark.postgres
def test_11_command_line_import_of_files_may_still_relax_durability(sample_text, tmp_path):
    """11 (the other side). Only the command-line bulk import of files that still exist on disk
    may relax commit durability: running it again restores what a crash lost."""
    path = tmp_path / "document.txt"
    path.write_bytes(document(sample_text, reference="anp-ref-000012-0012"))
    statements = _statements(lambda: call_command("import_articles", str(path), "--workers", "0"))
    assert Article.objects.filter(reference="anp-ref-000012-0012").exists()
    assert any(SYNCHRONOUS_COMMIT_OFF.search(sql) for sql in statements)

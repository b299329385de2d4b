"""Versions never overflow: each part of MAJOR.MINOR.PATCH is at most nine digits everywhere.

One rule (articles.parsing.version_problem / parse_version) is called by the parser, the content
validator (API PATCH, the admin form, restores) and the bumps of publishing and rolling back. A
version past it is refused with a message naming the field, and a bump that would pass it is
refused rather than wrapped around to 1.0.0 or written as a version nothing reads back.
"""

import io
import json

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from articles.content import version_key
from articles.models import Article
from articles.parsing import VERSION_PART_MAX, parse_version, version_problem
from releases import services
from releases.importing import import_document
from releases.models import Revision
from tests.articles.test_api import variant
from tests.conftest import admin_form_data

MAX = VERSION_PART_MAX
TOO_BIG = ("1000000000.0.0", "999999999999.0.0", "1.0." + "9" * 5000, "0.0000000001.0")
NOT_VERSIONS = ("1.2", "1.2.3.4", "v1.2.3", "1.-2.3", "1.2.x", "１.2.3", "", " 1.2.3")

part = st.integers(min_value=0, max_value=MAX)


@given(part, part, part)
def test_every_version_within_the_limit_reads_back(major, minor, patch):
    text = f"{major}.{minor}.{patch}"
    assert version_problem(text) == ""
    assert parse_version(text) == version_key(text) == (major, minor, patch)


@given(st.integers(min_value=MAX + 1, max_value=10**40), st.sampled_from([0, 1, 2]))
def test_a_part_past_the_limit_is_refused_by_name(big, position):
    parts = ["1", "2", "3"]
    parts[position] = str(big)
    text = ".".join(parts)
    assert parse_version(text) is None
    assert "at most 9 digits" in version_problem(text)


def test_what_is_not_a_version_is_refused():
    for text in (*NOT_VERSIONS, *TOO_BIG):
        assert parse_version(text) is None, text
        assert version_problem(text), text


@given(part, part, part, st.sampled_from(services.BUMPS))
def test_a_bump_grows_the_version_or_is_refused_never_wraps(major, minor, patch, level):
    version = f"{major}.{minor}.{patch}"
    try:
        bumped = services.bump_version(version, level)
    except services.InvalidTransition as error:
        assert f"{MAX:,}" in error.message
        index = services.BUMPS.index(level)  # patch 0, minor 1, major 2
        assert (patch, minor, major)[index] == MAX
        return
    assert version_key(bumped) is not None and version_key(bumped) > version_key(version)


def test_bumps_at_the_limit():
    top = f"{MAX}.{MAX}.{MAX}"
    for level in services.BUMPS:
        with pytest.raises(services.InvalidTransition, match="cannot be bumped"):
            services.bump_version(top, level)
    assert services.bump_version(f"1.{MAX}.{MAX}", "major") == "2.0.0"
    assert services.bump_version(f"1.2.{MAX}", "minor") == "1.3.0"


# -- through every path ---------------------------------------------------------------------------


def document(sample_text, version: str, **fields) -> bytes:
    return variant(sample_text, version=version, **fields).encode()


@pytest.mark.django_db
def test_import_refuses_a_version_past_the_limit_naming_the_field(sample_text, superuser):
    for version in TOO_BIG:
        result = import_document(document(sample_text, version), path="big.txt")
        assert result.outcome == "failed"
        (error,) = result.errors
        assert error["field"] == "revision.version" and "at most 9 digits" in error["message"]
    api = APIClient()
    api.force_authenticate(superuser)
    response = api.post("/api/imports/", document(sample_text, TOO_BIG[1]), content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "revision.version"
    assert not Article.objects.exists()


@pytest.fixture
def api_editor(editor) -> APIClient:
    api = APIClient()
    api.force_authenticate(editor)
    return api


def revision_block(version: str) -> dict:
    return {"revision": {"status": "reviewed", "version": version, "last_reviewed": "2026-06-28"}}


def version_error(response) -> str:
    """The message a 400 gives for revision.version: from the action layer's problems (or from
    the request's validation, should it check versions first)."""
    body = response.json()
    if "problems" in body:  # (a 5,000-digit version is also too long for its column)
        (message,) = [
            problem["message"] for problem in body["problems"] if problem["field"] == "revision.version"
        ]
        return message
    return body["revision"]["version"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("version", [*TOO_BIG, "1.2", "1.2.3.4", "v1.2.3"])
def test_api_patch_refuses_a_version_that_is_not_one(sample_article, api_editor, version):
    response = api_editor.patch(
        f"/api/articles/{sample_article.slug}/", revision_block(version), format="json"
    )
    assert response.status_code == 400, response.content
    message = version_error(response)
    assert ("at most 9 digits" if version in TOO_BIG else "MAJOR.MINOR.PATCH") in message
    assert Revision.objects.filter(article=sample_article).count() == 1


@pytest.mark.django_db
def test_api_patch_keeps_a_version_at_the_limit(sample_article, api_editor):
    top = f"{MAX}.{MAX}.{MAX}"
    response = api_editor.patch(f"/api/articles/{sample_article.slug}/", revision_block(top), format="json")
    assert response.status_code == 200, response.content
    assert services.pending_content(sample_article)["revision"]["version"] == top


@pytest.mark.django_db
def test_admin_form_names_the_version_field(sample_article, superuser, client):
    client.force_login(superuser)
    url = f"/admin/articles/article/{sample_article.pk}/change/"
    data = admin_form_data(client, url)
    response = client.post(url, {**data, "version": TOO_BIG[0]})
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert "version" in errors and "at most 9 digits" in errors["version"][0]
    assert Revision.objects.filter(article=sample_article).count() == 1


def live_at(sample_text, version: str) -> Article:
    result = import_document(document(sample_text, version), path="live.txt")
    assert result.outcome == "created", result.errors
    article = Article.objects.get(pk=result.article_id)
    assert article.is_live and article.version == version
    return article


def approved_change(article, editor, reviewer) -> None:
    content = {**services.pending_content(article), "summary": "changed"}
    services.article_edit(article=article, user=editor, content=content)
    services.article_submit(article=article, user=editor)
    services.article_approve(article=article, user=reviewer)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("live", "bump", "expected"),
    [
        (f"1.2.{MAX}", "patch", None),
        (f"1.{MAX}.3", "minor", None),
        (f"{MAX}.2.3", "major", None),
        (f"1.{MAX}.{MAX}", "major", "2.0.0"),
        (f"1.2.{MAX}", "minor", "1.3.0"),
    ],
)
def test_publish_at_the_limit_is_refused_not_wrapped(sample_text, editor, reviewer, live, bump, expected):
    article = live_at(sample_text, live)
    approved_change(article, editor, reviewer)
    api = APIClient()
    api.force_authenticate(reviewer)
    response = api.post(f"/api/articles/{article.slug}/publish/", {"note": "n", "bump": bump}, format="json")
    article.refresh_from_db()
    if expected is None:
        assert response.status_code == 409, response.content
        assert "cannot be bumped" in response.json()["detail"] and f"{MAX:,}" in response.json()["detail"]
        assert article.version == live and article.summary != "changed"
    else:
        assert response.status_code == 200, response.content
        assert article.version == expected and article.summary == "changed"


@pytest.mark.django_db
def test_rollback_at_the_limit_is_refused_not_wrapped(sample_text, reviewer):
    article = live_at(sample_text, "1.0.0")
    newer = import_document(document(sample_text, f"1.0.{MAX}", summary="newer"), path="newer.txt")
    assert newer.outcome == "updated"
    article.refresh_from_db()
    assert article.version == f"1.0.{MAX}"
    with pytest.raises(services.InvalidTransition, match="cannot be bumped"):
        services.article_rollback(article=article, user=reviewer, note="back", revision=1)
    article.refresh_from_db()
    assert article.version == f"1.0.{MAX}" and article.summary == "newer"


@pytest.mark.django_db
def test_restore_refuses_a_version_past_the_limit(sample_article, tmp_path):
    call_command("export_articles", str(tmp_path / "kb.jsonl"), stdout=io.StringIO(), stderr=io.StringIO())
    header, line, closing = (tmp_path / "kb.jsonl").read_text().splitlines()
    record = json.loads(line)
    record["revisions"][0]["version"] = TOO_BIG[0]
    (tmp_path / "big.jsonl").write_text("\n".join([header, json.dumps(record), closing]) + "\n")
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_articles", str(tmp_path / "big.jsonl"), "--format", "json", stdout=out)
    (error,) = json.loads(out.getvalue())["errors"]
    assert error["field"] == "revisions[0].version" and "at most 9 digits" in error["message"]

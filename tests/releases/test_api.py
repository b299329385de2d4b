"""Workflow actions through the API: roles, states, notes, conflicts and CSRF."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from articles.models import Article
from releases.models import AuditEvent, Revision

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def url(article, action=""):
    return f"/api/articles/{article.slug}/" + (f"{action}/" if action else "")


def test_patch_creates_a_draft_and_readers_keep_the_live_version(sample_article, editor):
    response = client_for(editor).patch(url(sample_article), {"summary": "edited summary"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["review_state"] == "draft" and body["state"] == "published"
    assert body["revision"]["kind"] == "edit" and body["revision"]["author"] == "edith"
    anonymous = APIClient().get(url(sample_article)).json()
    assert anonymous["summary"].startswith("this ai-style")
    assert Revision.objects.get(article=sample_article, number=2).content["summary"] == "edited summary"


def test_patch_validates_types_and_url_schemes(sample_article, editor):
    client = client_for(editor)
    bad_score = client.patch(url(sample_article), {"scores": {"quality": 101}}, format="json")
    assert bad_score.status_code == 400 and "scores" in bad_score.json()
    bad_url = client.patch(
        url(sample_article),
        {"image_sources": [{"source": "x", "url": "javascript:alert(1)", "caption": "c"}]},
        format="json",
    )
    assert bad_url.status_code == 400
    unknown = client.patch(url(sample_article), {"reference": "other"}, format="json")
    assert unknown.status_code == 400
    assert Revision.objects.filter(article=sample_article).count() == 1


def test_if_match_with_a_stale_etag_fails_the_precondition(sample_article, editor, reviewer):
    first, second = client_for(editor), client_for(reviewer)
    etag = first.get(url(sample_article))["ETag"]
    assert etag == second.get(url(sample_article))["ETag"]
    ok = first.patch(url(sample_article), {"summary": "one"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200
    refused = second.patch(url(sample_article), {"summary": "two"}, format="json", HTTP_IF_MATCH=etag)
    assert refused.status_code == 412 and "changed since you read it" in refused.json()["detail"]
    latest = Revision.objects.filter(article=sample_article).order_by("-number").first()
    assert latest.content["summary"] == "one"
    fresh_etag = second.get(url(sample_article))["ETag"]
    again = second.patch(url(sample_article), {"summary": "two"}, format="json", HTTP_IF_MATCH=fresh_etag)
    assert again.status_code == 200


def test_if_match_takes_star_a_list_and_strong_etags_only(sample_article, editor):
    client = client_for(editor)
    etag = client.get(url(sample_article))["ETag"]
    weak = client.patch(url(sample_article), {"summary": "w"}, format="json", HTTP_IF_MATCH=f"W/{etag}")
    assert weak.status_code == 412  # RFC 9110: If-Match compares strongly
    unquoted = client.patch(
        url(sample_article), {"summary": "u"}, format="json", HTTP_IF_MATCH=etag.strip('"')
    )
    assert unquoted.status_code == 412
    listed = client.patch(
        url(sample_article), {"summary": "l"}, format="json", HTTP_IF_MATCH=f'"old", {etag}'
    )
    assert listed.status_code == 200, listed.json()
    star = client.patch(url(sample_article), {"summary": "s"}, format="json", HTTP_IF_MATCH="*")
    assert star.status_code == 200
    assert (
        Revision.objects.filter(article=sample_article).order_by("-number").first().content["summary"] == "s"
    )


def test_patch_reads_json_only_and_needs_a_known_field(sample_article, editor):
    client = client_for(editor)
    form = client.patch(url(sample_article), {"summary": "form"})  # multipart
    assert form.status_code == 415
    assert client.patch(url(sample_article), {}, format="json").status_code == 400
    typed = client.patch(url(sample_article), {"reading_time": "12", "flags": None}, format="json")
    assert typed.status_code == 400 and set(typed.json()) == {"reading_time"}
    upper = client.patch(
        url(sample_article),
        {"image_sources": [{"source": "x", "url": "HTTPS://example.org/a.png", "caption": None}]},
        format="json",
    )
    assert upper.status_code == 400
    assert Revision.objects.filter(article=sample_article).count() == 1


def test_full_workflow_through_the_api(sample_article, editor, reviewer):
    editor_client, reviewer_client = client_for(editor), client_for(reviewer)
    assert (
        editor_client.patch(url(sample_article), {"difficulty": "expert"}, format="json").status_code == 200
    )
    assert (
        editor_client.post(url(sample_article, "submit"), {}, format="json").json()["review_state"]
        == "in_review"
    )
    approve = reviewer_client.post(url(sample_article, "approve"), {"note": "good"}, format="json")
    assert approve.status_code == 200 and approve.json()["review_state"] == "reviewed"
    publish = reviewer_client.post(
        url(sample_article, "publish"), {"bump": "minor", "note": "release"}, format="json"
    )
    assert publish.status_code == 200, publish.json()
    assert publish.json()["version"] == "1.6.0"
    assert APIClient().get(url(sample_article)).json()["difficulty"] == "expert"
    rollback = reviewer_client.post(
        url(sample_article, "rollback"), {"version": "1.5.4", "note": "revert"}, format="json"
    )
    assert rollback.status_code == 200 and rollback.json()["version"] == "1.6.1"
    live = APIClient().get(url(sample_article)).json()
    assert live["difficulty"] == "advanced" and live["revision"]["version"] == "1.6.1"
    history = reviewer_client.get(url(sample_article, "revisions")).json()
    assert [entry["kind"] for entry in history] == ["rollback", "publish", "review", "edit", "import"]
    assert history[0]["note"] == "revert" and history[-1]["author"] == "import"


@pytest.mark.parametrize(
    ("action", "payload", "status"),
    [
        ("publish", {"note": "n"}, 403),
        ("approve", {}, 403),
        ("request-changes", {"note": "n"}, 403),
        ("rollback", {"version": "1.5.4", "note": "n"}, 403),
        ("archive", {"note": "n"}, 403),
        ("submit", {}, 409),
    ],
)
def test_editor_gets_403_for_reviewer_actions_and_409_for_invalid_states(
    sample_article, editor, action, payload, status
):
    response = client_for(editor).post(url(sample_article, action), payload, format="json")
    assert response.status_code == status
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("request-changes", {}),
        ("publish", {}),
        ("archive", {"note": ""}),
        ("archive", {"note": " \n\u3000 "}),
        ("rollback", {"version": "1.5.4"}),
        ("rollback", {"version": "1.5.4", "note": "\t"}),
    ],
)
def test_missing_notes_are_400(sample_article, reviewer, action, payload):
    response = client_for(reviewer).post(url(sample_article, action), payload, format="json")
    assert response.status_code == 400
    assert "note" in response.json()["detail"]


def test_anonymous_clients_cannot_act_and_drafts_stay_hidden(sample_article, reviewer):
    anonymous = APIClient()
    assert anonymous.post(url(sample_article, "archive"), {"note": "x"}, format="json").status_code == 401
    assert anonymous.patch(url(sample_article), {"summary": "x"}, format="json").status_code == 401
    client_for(reviewer).post(url(sample_article, "archive"), {"note": "gone"}, format="json")
    assert anonymous.get(url(sample_article)).status_code == 404
    assert client_for(reviewer).get(url(sample_article)).json()["state"] == "archived"


def test_session_clients_need_csrf(sample_article, reviewer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(reviewer)
    refused = client.post(url(sample_article, "archive"), {"note": "x"}, format="json")
    assert refused.status_code == 403
    assert Article.objects.get(pk=sample_article.pk).state == "published"
    assert not AuditEvent.objects.filter(action="archive").exists()


def test_unknown_api_urls_and_options_answer_json(sample_article, reviewer):
    client = client_for(reviewer)
    missing = client.get("/api/no-such-endpoint/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    assert client.get("/api/articles/caf\u00e9/revisions/").status_code == 404
    for action in ("submit", "approve", "request-changes", "publish", "rollback", "archive"):
        options = client.options(url(sample_article, action))
        assert options.status_code == 200, action
    assert client.options(url(sample_article, "revisions")).status_code == 200

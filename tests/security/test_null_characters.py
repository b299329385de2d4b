"""A NUL character anywhere in a request is a 400, never a 500.

PostgreSQL refuses U+0000 in text ("A string literal cannot contain NUL"), so a NUL that reached a
query was a 500 there only: these tests matter most on PostgreSQL, and run on both databases.
The guard (config/null_guard.py) answers before any view: the site's 400 page, or under /api/
JSON naming the parameter.
"""

from urllib.parse import urlencode

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from articles.models import Article

pytestmark = pytest.mark.django_db

NUL = "a\x00b"


def assert_site_400(response):
    assert response.status_code == 400, response.status_code
    assert response["Content-Type"].startswith("text/html")
    assert "Bad request" in response.content.decode()
    assert response.has_header("Content-Security-Policy")  # the page gets the site's headers


def assert_api_400(response, name: str = "detail"):
    assert response.status_code == 400, response.status_code
    assert response["Content-Type"] == "application/json"
    errors = response.json()
    assert name in errors and errors[name], errors
    return errors


@pytest.fixture
def staff_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/?stack=a%00b",
        "/?tool=a%00b",
        "/?difficulty=a%00b",
        "/?code_language=a%00b",
        "/?page=1%00",
        "/search/?q=a%00b",
        "/entities/a%00b/backend/",
        "/entities/area/a%00b/",
        "/stack/a%00b/",
        "/articles/a%00b/",
    ],
)
def test_reader_site(client, staff_client, sample_article, url):
    assert_site_400(client.get(url))
    assert_site_400(staff_client.get(url))
    assert client.head(url).status_code == 400


def test_reader_preview_revision(staff_client, sample_article):
    assert_site_400(staff_client.get(sample_article.get_absolute_url() + "?revision=1.5%004"))


@pytest.mark.parametrize(
    "parameter",
    ["stack", "tool", "entity", "entity_type", "reference", "site", "state", "search", "ordering", "page"],
)
def test_api_list_filters(client, staff_client, sample_article, parameter):
    for who in (client, staff_client):
        errors = assert_api_400(who.get("/api/articles/", {parameter: NUL}), parameter)
        assert list(errors) == [parameter] and "Null characters" in errors[parameter][0]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "similar/"), ("get", "revisions/"), ("post", "submit/"), ("post", "publish/")],
)
def test_api_slug_routes(client, staff_client, sample_article, method, suffix):
    for who in (client, staff_client):
        errors = assert_api_400(getattr(who, method)(f"/api/articles/a%00b/{suffix}"))
        assert "null character" in errors["detail"][0]


def test_api_workflow_actions_and_patch_on_every_slug_route(staff_client, sample_article):
    for action in ("submit", "approve", "request-changes", "publish", "rollback", "archive"):
        response = staff_client.post(
            f"/api/articles/a%00b/{action}/", {"note": "n"}, content_type="application/json"
        )
        assert_api_400(response)
    response = staff_client.patch("/api/articles/a%00b/", {"title": "t"}, content_type="application/json")
    assert_api_400(response)


def test_api_json_bodies_with_nul_are_refused_by_validation(staff_client, sample_article):
    """JSON bodies are the views' to check: their validation names the field (a 400, not a 500)."""
    url = f"/api/articles/{sample_article.slug}/"
    for changes in ({"title": NUL}, {"stack": [NUL]}, {"revision": {"version": "1.0\u00000"}}):
        response = staff_client.patch(url, changes, content_type="application/json")
        assert response.status_code == 400, (changes, response.status_code)
        assert response["Content-Type"] == "application/json"
    response = staff_client.post(
        f"/api/articles/{sample_article.slug}/archive/", {"note": NUL}, content_type="application/json"
    )
    assert response.status_code == 400 and "note" in response.json()["errors"]
    assert Article.objects.get(pk=sample_article.pk).state == "published"


def test_api_form_bodies(staff_client, sample_article):
    url = f"/api/articles/{sample_article.slug}/archive/"
    errors = assert_api_400(staff_client.post(url, {"note": NUL}), "note")
    assert errors["note"] == ["Null characters are not allowed."]
    patch = staff_client.patch(
        f"/api/articles/{sample_article.slug}/",
        "title=a%00b",
        content_type="application/x-www-form-urlencoded",
    )
    assert_api_400(patch, "title")
    assert Article.objects.get(pk=sample_article.pk).state == "published"


def test_api_import_body_with_nul_is_a_failed_import(staff_client, sample_text):
    response = staff_client.post(
        "/api/imports/", sample_text.replace("reviewed", NUL), content_type="text/plain"
    )
    assert response.status_code == 400 and response.json()["outcome"] == "failed"


ADMIN_LISTS = (
    "/admin/articles/article/",
    "/admin/releases/reviewqueueitem/",
    "/admin/releases/revision/",
    "/admin/releases/auditevent/",
    "/admin/articles/tag/",
    "/admin/articles/entity/",
    "/admin/auth/user/",
    "/admin/auth/group/",
    "/admin/authtoken/tokenproxy/",
)


@pytest.mark.parametrize("url", ADMIN_LISTS)
def test_admin_changelist_search_and_every_filter(staff_client, sample_article, url):
    page = staff_client.get(url)
    assert page.status_code == 200
    parameters = {"q", "o", "p"}
    for spec in page.context["cl"].filter_specs:
        parameters.update(spec.expected_parameters())
    for parameter in sorted(parameters):
        assert_site_400(staff_client.get(url, {parameter: NUL}))


def test_admin_change_view_with_an_id_that_is_not_a_number(staff_client, sample_article):
    for object_id in ("abc", "1.5", "9" * 5000, "ünïcødé"):
        for suffix in ("change/", "history/", "delete/"):
            for url in (
                f"/admin/articles/article/{object_id}/{suffix}",
                f"/admin/auth/user/{object_id}/{suffix}",
            ):
                response = staff_client.get(url)
                # Back to the list with a message, not found, or (articles) never deletable.
                assert response.status_code in (302, 403, 404), (url[:80], response.status_code)
    assert_site_400(staff_client.get("/admin/articles/article/a%00b/change/"))


def test_admin_posted_form_fields(staff_client, sample_article, superuser):
    change = f"/admin/articles/article/{sample_article.pk}/change/"
    page = staff_client.get(change)
    assert page.status_code == 200
    assert_site_400(staff_client.post(change, {"title": NUL, "summary": "s"}))
    assert_site_400(staff_client.post("/admin/articles/tag/add/", {"name": NUL, "kind": "stack"}))
    assert_site_400(
        staff_client.post(
            "/admin/articles/article/",
            {"action": "bulk_archive", "_selected_action": [NUL], "note": "n"},
        )
    )
    assert_site_400(staff_client.post("/admin/login/", {"username": NUL, "password": "x"}))
    # Those were multipart forms (the admin's, for uploads); URL-encoded ones are checked as well.
    encoded = urlencode({"title": NUL, "summary": "s"})
    assert_site_400(staff_client.post(change, encoded, content_type="application/x-www-form-urlencoded"))
    assert Article.objects.get(pk=sample_article.pk).title == sample_article.title


def test_credentials_with_nul(client, superuser):
    token = Token.objects.create(user=superuser)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key[:-1]}\x00")
    assert_api_400(api.get("/api/articles/"))
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    assert_site_400(client.get("/admin/"))


def test_a_clean_request_passes(client, staff_client, sample_article):
    """The guard refuses NUL only: the same requests without it are answered as usual."""
    assert client.get("/search/", {"q": "rollback"}).status_code == 200
    assert client.get("/api/articles/", {"stack": "python"}).json()["count"] == 1
    assert staff_client.get("/admin/articles/article/", {"q": "rollback"}).status_code == 200

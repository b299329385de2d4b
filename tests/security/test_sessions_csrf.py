"""Sessions and CSRF as Django and DRF intend them."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from articles.models import Article
from releases.models import AuditEvent, Revision

pytestmark = pytest.mark.django_db


def csrf_token(client) -> str:
    """The CSRF token a browser would have after opening an admin page."""
    client.get(reverse("admin:index"))
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def archive_url(article):
    return reverse("admin:articles_article_workflow", args=[article.pk, "archive"])


def test_an_admin_post_without_the_csrf_token_is_refused(sample_article, reviewer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reviewer)
    refused = browser.post(archive_url(sample_article), {"note": "gone"})
    assert refused.status_code == 403
    assert Article.objects.get(pk=sample_article.pk).state == "published"
    wrong = browser.post(archive_url(sample_article), {"note": "gone", "csrfmiddlewaretoken": "x" * 64})
    assert wrong.status_code == 403
    assert not AuditEvent.objects.filter(action="archive").exists()
    # The same request with the token goes through: the refusal was about CSRF only.
    done = browser.post(
        archive_url(sample_article), {"note": "gone", "csrfmiddlewaretoken": csrf_token(browser)}
    )
    assert done.status_code == 302
    assert Article.objects.get(pk=sample_article.pk).state == "archived"


def test_the_admin_sign_in_form_needs_the_csrf_token(superuser):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/admin/login/", {"username": "root", "password": "pw-root"})
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "", {"summary": "edited"}),
        ("post", "submit/", {}),
        ("post", "archive/", {"note": "gone"}),
    ],
)
def test_session_authenticated_unsafe_api_requests_need_csrf(sample_article, reviewer, method, path, body):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(reviewer)
    url = f"/api/articles/{sample_article.slug}/{path}"
    refused = getattr(browser, method)(url, body, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert Revision.objects.filter(article=sample_article).count() == 1
    assert not AuditEvent.objects.exclude(action="import").exists()
    assert browser.get(f"/api/articles/{sample_article.slug}/revisions/").status_code == 200  # reads are fine


def test_session_authenticated_api_request_with_the_csrf_token_goes_through(sample_article, reviewer):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(reviewer)
    token = csrf_token(browser)
    response = browser.patch(
        f"/api/articles/{sample_article.slug}/", {"summary": "edited"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200


def test_token_authenticated_requests_need_no_csrf(sample_article, reviewer):
    script = APIClient(enforce_csrf_checks=True)
    script.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=reviewer).key}")
    edit = script.patch(f"/api/articles/{sample_article.slug}/", {"summary": "edited"}, format="json")
    assert edit.status_code == 200
    archive = script.post(f"/api/articles/{sample_article.slug}/archive/", {"note": "gone"}, format="json")
    assert archive.status_code == 200 and archive.json()["state"] == "archived"


def test_signing_out_ends_the_session_everywhere(sample_article, reviewer):
    browser = Client()
    browser.force_login(reviewer)
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.get(reverse("admin:index")).status_code == 200
    assert browser.post(reverse("admin:logout")).status_code == 200
    assert not Session.objects.filter(session_key=session_key).exists()
    # A copy of the old cookie (say, stolen before sign-out) opens nothing.
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = session_key
    admin_page = replay.get(reverse("admin:index"))
    assert admin_page.status_code == 302 and admin_page["Location"].startswith("/admin/login/")
    api = APIClient()
    api.cookies[settings.SESSION_COOKIE_NAME] = session_key
    assert api.get(f"/api/articles/{sample_article.slug}/revisions/").status_code == 401


def test_signing_out_is_a_post(reviewer):
    browser = Client()
    browser.force_login(reviewer)
    assert browser.get(reverse("admin:logout")).status_code == 405  # a link or an <img> cannot sign you out
    assert browser.get(reverse("admin:index")).status_code == 200


def test_a_password_change_ends_the_other_sessions(reviewer):
    laptop, phone = Client(), Client()
    laptop.force_login(reviewer)
    phone.force_login(reviewer)
    reviewer.set_password("a-new-long-password-5521")
    reviewer.save()
    assert phone.get(reverse("admin:index")).status_code == 302
    assert laptop.get(reverse("admin:index")).status_code == 302


def test_signing_in_gives_a_new_session_key(superuser):
    browser = Client()
    before = browser.session.session_key  # an anonymous session, as a visitor may already have
    assert before
    response = browser.post("/admin/login/", {"username": "root", "password": "pw-root", "next": "/admin/"})
    assert response.status_code == 302
    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != before  # no session fixation


def test_the_session_cookie_is_http_only_and_cookies_are_secure_over_https():
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SECURE == settings.HTTPS
    assert settings.CSRF_COOKIE_SECURE == settings.HTTPS

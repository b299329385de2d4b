"""Gzip only for answers without secrets (config/compression.py): BREACH needs a secret in a
compressed body, so nothing with a CSRF token, for a signed-in user or for a token client is."""

import gzip

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


def encoding(response) -> str | None:
    return response.headers.get("Content-Encoding")


def body(response) -> bytes:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return gzip.decompress(content) if encoding(response) == "gzip" else content


def test_anonymous_reader_pages_feed_sitemap_and_api_are_compressed(client, sample_article):
    for url in (
        "/",
        sample_article.get_absolute_url(),
        "/stack/python/",
        "/search/?q=rollback",
        "/feed/",
        "/sitemap.xml",
        "/api/articles/",
        f"/api/articles/{sample_article.slug}/",
    ):
        plain = client.get(url)
        compressed = client.get(url, **GZIP)
        assert plain.status_code == compressed.status_code == 200, url
        assert encoding(plain) is None, url  # only for clients that accept it
        assert encoding(compressed) == "gzip", url
        assert "Accept-Encoding" in compressed["Vary"], url
        assert body(compressed) == body(plain), url
        assert len(compressed.content) < len(plain.content), url


def test_the_admin_sign_in_page_with_its_csrf_token_is_not_compressed(client):
    response = client.get("/admin/login/", **GZIP)
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content
    assert encoding(response) is None


def test_any_page_that_renders_a_csrf_token_is_not_compressed(client, settings):
    settings.ROOT_URLCONF = "tests.config.csrf_urls"
    with_token = client.get("/form/", **GZIP)
    without = client.get("/plain/", **GZIP)
    assert b"csrfmiddlewaretoken" in body(with_token) and encoding(with_token) is None
    assert encoding(without) == "gzip"  # the same page without the token is


def test_nothing_is_compressed_for_a_signed_in_user(client, sample_article, reviewer):
    client.force_login(reviewer)
    for url in (
        "/",
        sample_article.get_absolute_url(),
        "/feed/",
        "/api/articles/",
        "/admin/",
        "/admin/articles/article/",
    ):
        response = client.get(url, **GZIP)
        assert response.status_code == 200, url
        assert encoding(response) is None, url


def test_nothing_is_compressed_for_a_token_client(sample_article, reviewer):
    token = Token.objects.create(user=reviewer)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    for url in ("/api/articles/", f"/api/articles/{sample_article.slug}/"):
        response = client.get(url, **GZIP)
        assert response.status_code == 200, url
        assert encoding(response) is None, url


def test_a_private_answer_is_not_compressed(client, settings):
    settings.ROOT_URLCONF = "tests.config.csrf_urls"
    assert encoding(client.get("/private/", **GZIP)) is None


def test_conditional_requests_still_get_304_with_compression(client, sample_article):
    first = client.get(sample_article.get_absolute_url(), **GZIP)
    assert encoding(first) == "gzip" and first["ETag"].startswith('W/"')
    again = client.get(sample_article.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"], **GZIP)
    assert again.status_code == 304

"""API tokens can be revoked (command and admin), and stop working when their user is deactivated."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import run_python

pytestmark = pytest.mark.django_db


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def revisions_url(article) -> str:
    return f"/api/articles/{article.slug}/revisions/"  # staff only: needs a working token


# DRF's TokenAuthentication messages: a key that is not (or no longer) stored, a user turned off.
REVOKED = "Invalid token."
INACTIVE = "User inactive or deleted."


def assert_refused(response, detail: str = REVOKED):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": detail}


def test_revoke_tokens_makes_the_next_request_401(sample_article, reviewer, editor, capsys):
    key = Token.objects.create(user=reviewer).key
    other = Token.objects.create(user=editor).key
    assert with_token(key).get(revisions_url(sample_article)).status_code == 200
    call_command("revoke_tokens", "rita")
    assert "Revoked 1 token." in capsys.readouterr().out
    assert_refused(with_token(key).get(revisions_url(sample_article)))
    assert_refused(with_token(key).post(f"/api/articles/{sample_article.slug}/archive/", {"note": "x"}))
    assert with_token(other).get(revisions_url(sample_article)).status_code == 200  # others keep theirs
    assert sample_article.__class__.objects.get(pk=sample_article.pk).state == "published"


def test_revoke_tokens_all(sample_article, reviewer, editor, superuser, capsys):
    keys = [Token.objects.create(user=user).key for user in (reviewer, editor, superuser)]
    call_command("revoke_tokens", "--all")
    assert "Revoked 3 tokens." in capsys.readouterr().out
    for key in keys:
        assert_refused(with_token(key).get(revisions_url(sample_article)))
    assert not Token.objects.exists()


def test_revoke_tokens_usage_errors(reviewer, editor):
    Token.objects.create(user=reviewer)
    with pytest.raises(CommandError, match="Name one or more users, or pass --all"):
        call_command("revoke_tokens")
    with pytest.raises(CommandError, match="not both"):
        call_command("revoke_tokens", "rita", "--all")
    with pytest.raises(CommandError, match="No user named nobody"):
        call_command("revoke_tokens", "rita", "nobody")
    assert Token.objects.filter(user=reviewer).exists()  # nothing revoked when a name is wrong
    call_command("revoke_tokens", "edith")  # a user without a token: nothing to do, no error


def test_revoke_tokens_exit_status_and_help():
    usage = run_python(["manage.py", "revoke_tokens"], env={"DEBUG": "1"})
    assert usage.returncode == 2 and "Name one or more users" in usage.stderr
    help_text = run_python(["manage.py", "revoke_tokens", "--help"], env={"DEBUG": "1"})
    assert help_text.returncode == 0 and "--all" in help_text.stdout


def test_staff_revoke_a_token_in_the_admin(sample_article, reviewer, superuser):
    key = Token.objects.create(user=reviewer).key
    admin = Client()
    admin.force_login(superuser)
    listing = admin.get(reverse("admin:authtoken_tokenproxy_changelist")).content.decode()
    assert "rita" in listing
    response = admin.post(reverse("admin:authtoken_tokenproxy_delete", args=[reviewer.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert_refused(with_token(key).get(revisions_url(sample_article)))


def test_a_deactivated_users_token_stops_working(sample_article, reviewer):
    key = Token.objects.create(user=reviewer).key
    assert with_token(key).get(revisions_url(sample_article)).status_code == 200
    reviewer.is_active = False
    reviewer.save()
    assert_refused(with_token(key).get(revisions_url(sample_article)), INACTIVE)
    archive = with_token(key).post(f"/api/articles/{sample_article.slug}/archive/", {"note": "x"})
    assert_refused(archive, INACTIVE)
    assert sample_article.__class__.objects.get(pk=sample_article.pk).state == "published"


def test_a_demoted_users_token_loses_staff_access(sample_article, reviewer):
    key = Token.objects.create(user=reviewer).key
    reviewer.is_staff = False
    reviewer.save()
    response = with_token(key).get(revisions_url(sample_article))
    assert response.status_code == 403  # still signed in, no longer staff


def test_a_wrong_or_malformed_token_is_401(sample_article):
    for header in ("Token not-a-real-key", "Token ", "Token a b"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(revisions_url(sample_article))
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"] == "Token"

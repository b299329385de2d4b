"""Read replicas: anonymous GET and HEAD requests read from a replica, everything else from the primary."""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import router
from django.test import RequestFactory

from articles.models import Article
from config.replicas import ReplicaReadsMiddleware, ReplicaRouter
from tests.conftest import run_python


def read_alias_during(request, settings, replicas=("replica1",)):
    """The alias Article reads would use while the middleware handles ``request``."""
    settings.READ_REPLICAS = list(replicas)
    seen = []
    middleware = ReplicaReadsMiddleware(lambda request: seen.append(router.db_for_read(Article)))
    middleware(request)
    return seen[0]


@pytest.mark.parametrize("method", ["get", "head"])
def test_anonymous_reads_go_to_a_replica(method, settings):
    request = getattr(RequestFactory(), method)("/")
    request.user = AnonymousUser()
    assert read_alias_during(request, settings) == "replica1"
    assert router.db_for_read(Article) == "default"  # and only while the request is handled


def test_a_replica_is_chosen_among_all(settings):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    chosen = {read_alias_during(request, settings, ("replica1", "replica2")) for _ in range(60)}
    assert chosen == {"replica1", "replica2"}


def test_writes_and_signed_in_users_stay_on_the_primary(settings, django_user_model, db):
    post = RequestFactory().post("/api/imports/")
    post.user = AnonymousUser()
    assert read_alias_during(post, settings) == "default"
    signed_in = RequestFactory().get("/")
    signed_in.user = django_user_model(username="edith")
    assert read_alias_during(signed_in, settings) == "default"


def test_api_token_clients_stay_on_the_primary(settings):
    """A token is authenticated inside the view, after the middleware chose: the header alone
    keeps the request on the primary, so a staff client reads its own writes."""
    request = RequestFactory().get("/api/articles/", HTTP_AUTHORIZATION="Token 0123456789abcdef")
    request.user = AnonymousUser()
    assert read_alias_during(request, settings) == "default"


def test_without_replicas_everything_reads_the_primary(settings):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert read_alias_during(request, settings, replicas=()) == "default"


def test_the_router_writes_and_migrates_on_the_primary_only():
    replica_router = ReplicaRouter()
    assert replica_router.db_for_write(Article) == "default"
    assert replica_router.allow_migrate("default", "articles")
    assert not replica_router.allow_migrate("replica1", "articles")


def test_replica_urls_become_mirrored_aliases():
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps({'replicas': settings.READ_REPLICAS, "
        "'host': settings.DATABASES['replica2']['HOST'], "
        "'mirror': settings.DATABASES['replica1']['TEST']['MIRROR']}))"
    )
    result = run_python(
        ["-c", code],
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "DATABASE_URL": "postgres://postgres@primary:5432/kb",
            "DATABASE_REPLICA_URLS": "postgres://postgres@replica-a:5432/kb,postgres://postgres@replica-b:5432/kb",
        },
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "replicas": ["replica1", "replica2"],
        "host": "replica-b",
        "mirror": "default",
    }

"""Fixtures shared by the whole suite."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.signals import request_started

BASE_DIR = Path(__file__).resolve().parent.parent
SAMPLE_PATH = BASE_DIR / "articles" / "fixtures" / "samples" / "anp-ref-035445-8950.txt"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked `postgres` when the default database is not PostgreSQL."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL to a postgres:// database")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render templates without running collectstatic first, so they use the plain
    storage; the whitenoise test collects and serves the real hashed files itself."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Passwords the tests set are hashed with one fast round: the settings' PBKDF2 runs a million
    rounds (seconds per user on a busy 2-core machine), and a test that signs in or creates a user
    with a password checks what the site does with the password, not how costly its hash is. The
    settings' hashers still verify any hash made elsewhere."""
    from django.conf import settings as project_settings

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *project_settings.PASSWORD_HASHERS,
    ]


@pytest.fixture(autouse=True)
def _empty_caches(settings):
    """Each test starts with empty caches: the read cache's keys are only unique per database.
    The read cache is this process's memory (the settings' default is files under var/, which
    other runs on the machine share)."""
    from django.core.cache import caches

    settings.CACHES = {
        **settings.CACHES,
        "read": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "read-tests"},
    }
    for cache in caches.all():
        cache.clear()
    request_started.connect(commit_read_cache_bumps)
    yield
    request_started.disconnect(commit_read_cache_bumps)


def commit_read_cache_bumps(**kwargs):
    """A test's writes share the test's transaction, which never commits: each request of the test
    client is taken to come after them, as in production, so the read-cache invalidations they
    registered for their commit (``articles.changes.Bump``) run first. Nothing else does."""
    from django.db import connections

    from articles.changes import Bump

    for connection in connections.all(initialized_only=True):
        due = [entry for entry in connection.run_on_commit if isinstance(entry[1], Bump)]
        if due:
            connection.run_on_commit = [entry for entry in connection.run_on_commit if entry not in due]
            # Owed by every write the test made before this request: one invalidation for all.
            Bump.joined(bump for _savepoints, bump, _robust in due)()


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploaded files go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run_python(args: list[str], env: dict[str, str | None] | None = None, timeout: int = 120):
    """Run the project's Python in a fresh process with `env` applied on top of ours
    (a None value removes the variable), from the project folder."""
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def admin_form_data(client, url: str) -> dict:
    """An admin change form as a browser would submit it, unchanged."""
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    return data


def import_variant(number: int, title: str, *, series: str, text: str | None = None, **replacements):
    """Import a variant of the sample as a new article: reference ``anp-ref-<number>-<series>``
    (each test module its own series), ``title`` as its first line, each ``old=new`` replaced."""
    from articles.models import Article
    from releases.importing import import_document

    text = (text or SAMPLE_PATH.read_text(encoding="utf-8")).replace(
        "anp-ref-035445-8950", f"anp-ref-{number:06d}-{series}"
    )
    lines = text.split("\n")
    lines[0] = title
    text = "\n".join(lines)
    for old, new in replacements.items():
        text = text.replace(old, new)
    result = import_document(text.encode(), path=f"{number}.txt")
    assert result.outcome == "created", result.errors
    return Article.objects.get(pk=result.article_id)


@pytest.fixture
def sample_text() -> str:
    return SAMPLE_PATH.read_text(encoding="utf-8")


def _user_in_group(django_user_model, username: str, group: str | None, **extra):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username=username, password="pw-" + username, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db, django_user_model):
    """A member of the Editors group (staff, so the admin lets them in)."""
    return _user_in_group(django_user_model, "edith", "Editors", is_staff=True)


@pytest.fixture
def reviewer(db, django_user_model):
    """A member of the Reviewers group."""
    return _user_in_group(django_user_model, "rita", "Reviewers", is_staff=True)


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pw-root")


@pytest.fixture
def sample_article(db, sample_text):
    """The sample document imported: a live article at version 1.5.4."""
    from articles.models import Article
    from releases.importing import import_document

    result = import_document(sample_text.encode(), path="sample.txt")
    assert result.outcome == "created", result.errors
    return Article.objects.get(pk=result.article_id)

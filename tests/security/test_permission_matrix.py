"""Who may do what: every admin view, every API endpoint and method, every workflow action, for
anonymous visitors, editors, reviewers and superusers, each with its expected HTTP status.

The expected statuses come from the documented rules (docs/workflow.md, README.md and the
permission checks in releases/services/rules.py), not from what the code happens to answer. The
completeness tests derive the admin URLs from the admin site and the API routes from the URL
configuration, so a view or route added without rows here fails the suite.
"""

import json

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, get_resolver, resolve, reverse
from rest_framework.authtoken.models import Token

from articles.models import Article, Entity, Tag
from releases import services
from releases.importing import import_document
from releases.models import AuditEvent, Revision
from tests.conftest import admin_form_data
from tests.security.conftest import ROLES

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def case_id(key) -> str:
    return "-".join(str(part) for part in key if part not in ((), {}, None, ""))


def by_row(table):
    """One pytest case per row: ``(row..., {role: expected status})``; the roles share one setup."""
    cases = []
    for *key, statuses in table:
        assert len(statuses) == len(ROLES), key
        cases.append(pytest.param(*key, dict(zip(ROLES, statuses, strict=True)), id=case_id(key)))
    return cases


def by_role(table):
    """One pytest case per (row, role), for requests that change something: each role starts afresh."""
    cases = []
    for *key, statuses in table:
        assert len(statuses) == len(ROLES), key
        for role, status in zip(ROLES, statuses, strict=True):
            cases.append(pytest.param(*key, role, status, id=f"{case_id(key)}-{role}"))
    return cases


# --------------------------------------------------------------------------- the admin

# URL name, arguments ("@name" is an object of the `world` fixture), query string,
# expected status of a GET for (anonymous, editor, reviewer, superuser).
# 302 for anonymous is the redirect to the sign-in page (checked below).
ALL = (302, 200, 200, 200)  # staff with view permission (Editors and Reviewers have it)
SUPERUSER_ONLY = (302, 403, 403, 200)  # no group has permissions on users, groups or tokens
NOBODY = (302, 403, 403, 403)  # nothing is ever added or deleted by hand: not even a superuser
ADMIN_GET = [
    ("admin:index", (), "", ALL),
    ("admin:login", (), "", (200, 302, 302, 302)),
    ("admin:logout", (), "", (302, 405, 405, 405)),  # signing out is a POST (see ADMIN_POST)
    ("admin:password_change", (), "", ALL),
    ("admin:password_change_done", (), "", ALL),
    ("admin:autocomplete", (), "", NOBODY),  # no admin here uses autocomplete fields
    ("admin:jsi18n", (), "", ALL),
    ("admin:view_on_site", ("@article_type", "@article"), "", (302, 302, 302, 302)),
    ("admin:app_list", ("articles",), "", ALL),
    ("admin:app_list", ("releases",), "", ALL),
    ("admin:app_list", ("auth",), "", (302, 404, 404, 200)),
    ("admin:app_list", ("authtoken",), "", (302, 404, 404, 200)),
    # Users, groups and API tokens: superusers only.
    ("admin:auth_user_changelist", (), "", SUPERUSER_ONLY),
    ("admin:auth_user_add", (), "", SUPERUSER_ONLY),
    ("admin:auth_user_change", ("@member",), "", SUPERUSER_ONLY),
    ("admin:auth_user_history", ("@member",), "", SUPERUSER_ONLY),
    ("admin:auth_user_delete", ("@member",), "", SUPERUSER_ONLY),
    ("admin:auth_user_password_change", ("@member",), "", SUPERUSER_ONLY),
    ("admin:auth_group_changelist", (), "", SUPERUSER_ONLY),
    ("admin:auth_group_add", (), "", SUPERUSER_ONLY),
    ("admin:auth_group_change", ("@group",), "", SUPERUSER_ONLY),
    ("admin:auth_group_history", ("@group",), "", SUPERUSER_ONLY),
    ("admin:auth_group_delete", ("@group",), "", SUPERUSER_ONLY),
    ("admin:authtoken_tokenproxy_changelist", (), "", SUPERUSER_ONLY),
    ("admin:authtoken_tokenproxy_add", (), "", SUPERUSER_ONLY),
    ("admin:authtoken_tokenproxy_change", ("@member",), "", SUPERUSER_ONLY),  # tokens are keyed by user
    ("admin:authtoken_tokenproxy_history", ("@member",), "", SUPERUSER_ONLY),
    ("admin:authtoken_tokenproxy_delete", ("@member",), "", SUPERUSER_ONLY),
    # Tags and entities: staff may look, superusers may change.
    ("admin:articles_tag_changelist", (), "", ALL),
    ("admin:articles_tag_add", (), "", SUPERUSER_ONLY),
    ("admin:articles_tag_change", ("@tag",), "", ALL),  # read-only for Editors and Reviewers
    ("admin:articles_tag_history", ("@tag",), "", ALL),
    ("admin:articles_tag_delete", ("@tag",), "", SUPERUSER_ONLY),
    ("admin:articles_entity_changelist", (), "", ALL),
    ("admin:articles_entity_add", (), "", SUPERUSER_ONLY),
    ("admin:articles_entity_change", ("@entity",), "", ALL),
    ("admin:articles_entity_history", ("@entity",), "", ALL),
    ("admin:articles_entity_delete", ("@entity",), "", SUPERUSER_ONLY),
    # Articles: imported, never added by hand, never deleted (archive instead).
    ("admin:articles_article_changelist", (), "", ALL),
    ("admin:articles_article_add", (), "", NOBODY),
    ("admin:articles_article_change", ("@article",), "", ALL),
    ("admin:articles_article_history", ("@article",), "", ALL),
    ("admin:articles_article_delete", ("@article",), "", NOBODY),
    ("admin:articles_article_compare", ("@article",), "?a=1&b=2", ALL),
    # Without an import conflict the resolve page sends everyone back to the article.
    ("admin:articles_article_resolve", ("@article",), "", (302, 302, 302, 302)),
    # The confirmation pages open for every role; the services refuse the action itself to
    # those whose role may not do it (see WORKFLOW_CASES).
    ("admin:articles_article_publish", ("@article",), "", ALL),
    ("admin:articles_article_rollback", ("@article", 1), "", ALL),
    ("admin:articles_article_workflow", ("@article", "submit"), "", ALL),
    ("admin:articles_article_workflow", ("@article", "approve"), "", ALL),
    ("admin:articles_article_workflow", ("@article", "request_changes"), "", ALL),
    ("admin:articles_article_workflow", ("@article", "archive"), "", ALL),
    ("admin:articles_article_workflow", ("@article", "request_review"), "", ALL),
    ("admin:articles_article_workflow", ("@article", "delete"), "", (302, 404, 404, 404)),  # not an action
    # Comments and schedules take POSTs (the services check the role); a GET goes back to the article.
    ("admin:articles_article_comment", ("@article",), "", (302, 302, 302, 302)),
    ("admin:articles_article_comment_resolve", ("@article", 1), "", (302, 302, 302, 302)),
    ("admin:articles_article_schedule_cancel", ("@article", 1), "", (302, 302, 302, 302)),
    # The review queue, the revisions and the audit trail: read-only for everyone.
    ("admin:releases_reviewqueueitem_changelist", (), "", ALL),
    ("admin:releases_reviewqueueitem_add", (), "", NOBODY),
    ("admin:releases_reviewqueueitem_change", ("@article",), "", ALL),
    ("admin:releases_reviewqueueitem_history", ("@article",), "", ALL),
    ("admin:releases_reviewqueueitem_delete", ("@article",), "", NOBODY),
    ("admin:releases_revision_changelist", (), "", ALL),
    ("admin:releases_revision_add", (), "", NOBODY),
    ("admin:releases_revision_change", ("@revision",), "", ALL),
    ("admin:releases_revision_history", ("@revision",), "", ALL),
    ("admin:releases_revision_delete", ("@revision",), "", NOBODY),
    ("admin:releases_auditevent_changelist", (), "", ALL),
    ("admin:releases_auditevent_add", (), "", NOBODY),
    ("admin:releases_auditevent_change", ("@event",), "", ALL),
    ("admin:releases_auditevent_history", ("@event",), "", ALL),
    ("admin:releases_auditevent_delete", ("@event",), "", NOBODY),
]

# Unsafe requests to admin views: URL name, arguments, form data, expected status.
# 302 for staff is the redirect after the change was made; 403 means nothing was changed.
ADMIN_POST = [
    ("admin:logout", (), {}, (302, 200, 200, 200)),
    ("admin:articles_tag_change", ("@tag",), {"name": "renamed", "kind": "stack", "slug": "renamed"},
     (302, 403, 403, 302)),
    ("admin:articles_tag_delete", ("@unused_tag",), {"post": "yes"}, (302, 403, 403, 302)),
    ("admin:auth_group_add", (), {"name": "Publishers"}, (302, 403, 403, 302)),
    # Editors giving their own group the right to publish.
    ("admin:auth_group_change", ("@group",), {"name": "Editors", "permissions": "@publish_permission"},
     (302, 403, 403, 302)),
    ("admin:auth_user_add", (), {"username": "intruder", "usable_password": "true",
                                 "password1": "a-long-pass-4821", "password2": "a-long-pass-4821"},
     (302, 403, 403, 302)),
    ("admin:authtoken_tokenproxy_delete", ("@member",), {"post": "yes"}, (302, 403, 403, 302)),
    ("admin:articles_article_delete", ("@article",), {"post": "yes"}, NOBODY),
    ("admin:releases_revision_delete", ("@revision",), {"post": "yes"}, NOBODY),
    ("admin:releases_revision_change", ("@revision",), {"note": "rewritten history"}, NOBODY),
    ("admin:releases_auditevent_change", ("@event",), {"note": "rewritten history"}, NOBODY),
    ("admin:releases_auditevent_delete", ("@event",), {"post": "yes"}, NOBODY),
]  # fmt: skip


@pytest.fixture
def world(sample_article, editor, django_user_model):
    """The objects the admin rows point at: a live article with a pending edit (so it is in the
    review queue), its revisions and audit events, a tag, an entity, a group and a user with a token."""
    services.article_edit(
        article=sample_article, user=editor,
        content={**services.pending_content(sample_article), "summary": "an edited summary"},
    )  # fmt: skip
    member = django_user_model.objects.create_user("member", password="pw-member")
    Token.objects.create(user=member)
    return {
        "article": sample_article.pk,
        "article_type": ContentType.objects.get_for_model(Article).pk,
        "revision": Revision.objects.filter(article=sample_article).order_by("number").first().pk,
        "event": AuditEvent.objects.filter(article=sample_article).order_by("id").first().pk,
        "tag": Tag.objects.order_by("id").first().pk,
        "unused_tag": Tag.objects.create(name="unused", slug="unused", kind=Tag.Kind.TOOL).pk,
        "publish_permission": Permission.objects.get(codename="publish_article").pk,
        "entity": Entity.objects.order_by("id").first().pk,
        "group": Group.objects.get(name="Editors").pk,
        "member": member.pk,
    }


def admin_url(world, name, args, query=""):
    values = [world[arg[1:]] if isinstance(arg, str) and arg.startswith("@") else arg for arg in args]
    return reverse(name, args=values) + query


@pytest.mark.parametrize(("name", "args", "query", "expected"), by_row(ADMIN_GET))
def test_admin_get(browser_as, world, name, args, query, expected):
    url = admin_url(world, name, args, query)
    actual = {}
    for role in ROLES:
        response = browser_as(role).get(url)
        actual[role] = response.status_code
        if response.status_code != 302:
            continue
        location = response["Location"]
        if role == "anonymous" and name != "admin:logout":
            assert location.startswith(LOGIN), (role, location)  # sent to sign in, shown nothing
        elif name == "admin:view_on_site":
            assert location.endswith(Article.objects.get(pk=world["article"]).get_absolute_url())
    assert actual == expected, url


@pytest.mark.parametrize(("name", "args", "data", "role", "status"), by_role(ADMIN_POST))
def test_admin_post(browser_as, world, name, args, data, role, status):
    client = browser_as(role)
    before = snapshot()
    data = {key: world[value[1:]] if str(value).startswith("@") else value for key, value in data.items()}
    response = client.post(admin_url(world, name, args), data)
    assert response.status_code == status
    if role == "anonymous":
        assert (
            response["Location"] == "/admin/"
            if name == "admin:logout"
            else response["Location"].startswith(LOGIN)
        )
    if status in (403, 405) or role == "anonymous":
        assert snapshot() == before, "a refused request changed something"
    elif name != "admin:logout":
        assert snapshot() != before, "an allowed request changed nothing"


def snapshot():
    """Everything the admin POST rows could change."""
    return (
        sorted(Tag.objects.values_list("id", "name")),
        sorted(Group.objects.values_list("name", "permissions")),
        sorted(Token.objects.values_list("key", flat=True)),
        sorted(Article.objects.values_list("id", "state")),
        sorted(Revision.objects.values_list("id", "note")),
        sorted(AuditEvent.objects.values_list("id", "note")),
        sorted(get_user_model().objects.values_list("username", "is_staff", "is_superuser")),
    )


def admin_url_names() -> set[str]:
    """Every named URL of the admin site: its own views, each ModelAdmin's, and custom ones."""
    names = set()

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name:
                names.add(f"admin:{pattern.name}")

    walk(admin.site.get_urls())
    return names


def test_every_admin_view_has_rows():
    covered = {row[0] for row in ADMIN_GET} | {row[0] for row in ADMIN_POST}
    names = admin_url_names()
    assert names - covered == set(), "admin views without a row in the permission matrix"
    assert covered - names == set(), "rows for admin views that no longer exist"
    app_labels = {model._meta.app_label for model in admin.site._registry}
    rows = {row[1][0] for row in ADMIN_GET if row[0] == "admin:app_list"}
    assert app_labels == rows, "every app's index page needs a row"


def test_the_matrix_runs_on_the_project_admin_site():
    from config.admin import KnowledgeBaseAdminSite

    assert isinstance(admin.site, KnowledgeBaseAdminSite)
    assert Token._meta.proxy is False and any(
        model._meta.app_label == "authtoken" for model in admin.site._registry
    ), "API tokens can be seen and deleted in the admin"


# --------------------------------------------------------------------------- the API

# Method, path ({live} and {draft} are article slugs), body, expected status per role.
# The API answers 401 to requests without valid credentials, 403 to signed-in users whose
# role may not do it, 404 for articles the client may not see, 405 for methods it never allows.
OPEN = (200, 200, 200, 200)
STAFF = (401, 200, 200, 200)
HIDDEN = (404, 200, 200, 200)  # drafts exist only for staff
API = [
    ("GET", "/api/", None, OPEN),  # the entry points, for everyone
    ("GET", "/api/articles/", None, OPEN),
    ("HEAD", "/api/articles/", None, OPEN),
    ("OPTIONS", "/api/articles/", None, OPEN),
    ("GET", "/api/articles/?state=draft", None, OPEN),  # anonymous clients get an empty list
    ("POST", "/api/articles/", {}, (405, 405, 405, 405)),
    ("GET", "/api/articles/{live}/", None, OPEN),
    ("GET", "/api/articles/{draft}/", None, HIDDEN),
    ("HEAD", "/api/articles/{live}/", None, OPEN),
    ("PATCH", "/api/articles/{live}/", {"summary": "edited"}, STAFF),
    ("PATCH", "/api/articles/{draft}/", {"summary": "edited"}, (401, 200, 200, 200)),
    ("PUT", "/api/articles/{live}/", {"summary": "edited"}, (405, 405, 405, 405)),
    ("DELETE", "/api/articles/{live}/", None, (405, 405, 405, 405)),
    ("GET", "/api/articles/{live}/similar/", None, OPEN),
    ("GET", "/api/articles/{draft}/similar/", None, HIDDEN),
    ("HEAD", "/api/articles/{live}/similar/", None, OPEN),
    ("GET", "/api/articles/{live}/revisions/", None, STAFF),
    ("GET", "/api/articles/{draft}/revisions/", None, STAFF),
    ("OPTIONS", "/api/articles/{live}/revisions/", None, STAFF),
    ("DELETE", "/api/articles/{live}/revisions/", None, (401, 405, 405, 405)),
    ("POST", "/api/imports/", "document", (401, 201, 201, 201)),
    ("GET", "/api/imports/", None, (401, 405, 405, 405)),
    ("GET", "/api/articles/{live}/submit/", None, (401, 405, 405, 405)),
    ("GET", "/api/schema/", None, OPEN),
    ("GET", "/api/docs/", None, OPEN),
]


@pytest.fixture
def api_world(sample_text, sample_article):
    draft = import_document(
        sample_text.replace("anp-ref-035445-8950", "anp-ref-000001-draft")
        .replace("production checklist for creating", "draft checklist for creating", 1)
        .replace("needs human review: 0", "needs human review: 1")
        .encode()
    )
    assert draft.outcome == "created", draft.errors
    return {"live": sample_article.slug, "draft": draft.slug}


def new_document(sample_text: str, name: str) -> str:
    """A new document that needs review: importing it creates a draft, publishes nothing."""
    return (
        sample_text.replace("anp-ref-035445-8950", f"anp-ref-new-{name}")
        .replace("production checklist for creating", f"{name} checklist for creating", 1)
        .replace("needs human review: 0", "needs human review: 1")
    )


@pytest.mark.parametrize(("method", "path", "body", "expected"), by_row(API))
def test_api(api_as, api_world, sample_text, method, path, body, expected):
    url = path.format(**api_world)
    actual = {}
    for role in ROLES:
        client = api_as(role)
        if body == "document":
            document = new_document(sample_text, role)
            response = client.generic(method, url, document.encode(), content_type="text/plain")
        elif body is None:
            response = client.generic(method, url)
        else:
            response = client.generic(method, url, json.dumps(body), content_type="application/json")
        actual[role] = response.status_code
        if response.status_code == 401:
            assert response["WWW-Authenticate"] == "Token"
        if role == "anonymous" and path.endswith("?state=draft"):
            assert response.json()["results"] == []
    assert actual == expected, url


def api_routes() -> set[tuple[str, str]]:
    """Every (URL name, method) the API serves, read from the URL configuration."""
    routes = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            if not route.lstrip("^").startswith("api/"):
                continue
            callback = pattern.callback
            if getattr(callback, "actions", None):
                methods = set(callback.actions)
            else:
                view_class = callback.view_class
                methods = {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)}
            routes.update((pattern.name, method.upper()) for method in methods)

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_api_route_and_method_has_rows(api_world):
    covered = set()
    for method, path, *_ in API:
        covered.add((resolve(path.format(**api_world).split("?")[0]).url_name, method))
    for action, *_ in WORKFLOW_ACTIONS.values():
        if action:
            covered.add((resolve(f"/api/articles/{api_world['live']}/{action}/").url_name, "POST"))
    missing = api_routes() - covered
    assert missing == set(), "API routes and methods without a row in the permission matrix"


# --------------------------------------------------------------------------- workflow actions

# action -> (API path segment, "" for PATCH), admin URL name and arguments, bulk action name
WORKFLOW_ACTIONS = {
    "edit": ("", ("admin:articles_article_change",), None),
    "submit": ("submit", ("admin:articles_article_workflow", "submit"), "bulk_submit"),
    "approve": ("approve", ("admin:articles_article_workflow", "approve"), "bulk_approve"),
    "request_changes": (
        "request-changes",
        ("admin:articles_article_workflow", "request_changes"),
        "bulk_request_changes",
    ),
    "publish": ("publish", ("admin:articles_article_publish",), "bulk_publish"),
    "rollback": ("rollback", ("admin:articles_article_rollback", 1), None),
    "archive": ("archive", ("admin:articles_article_workflow", "archive"), None),
}
# Who may do each action (docs/workflow.md, "Roles").
MAY = {
    "edit": {"editor", "reviewer", "superuser"},
    "submit": {"editor", "reviewer", "superuser"},
    "approve": {"reviewer", "superuser"},
    "request_changes": {"reviewer", "superuser"},
    "publish": {"reviewer", "superuser"},
    "rollback": {"reviewer", "superuser"},
    "archive": {"reviewer", "superuser"},
}
# The audit action each workflow action records.
AUDITED = {"edit": "edit", "submit": "submit", "approve": "approve", "request_changes": "request_changes",
           "publish": "publish", "rollback": "rollback", "archive": "archive"}  # fmt: skip
FORM = {"note": "a note", "bump": "patch", "version": "1.5.4"}


def api_status(action, role):
    if role == "anonymous":
        return 401
    return 200 if role in MAY[action] else 403


WORKFLOW_CASES = [
    pytest.param(channel, action, role, id=f"{channel}-{action}-{role}")
    for channel in ("api", "admin", "bulk")
    for action, (_, single, bulk) in WORKFLOW_ACTIONS.items()
    if channel == "api" or (channel == "admin" and single) or (channel == "bulk" and bulk)
    for role in ROLES
]


def ready_for(action, article, superuser):
    """Bring the article to the state in which ``action`` is allowed."""
    steps = {
        "edit": [],
        "archive": [],
        "submit": ["edit"],
        "approve": ["edit", "submit"],
        "request_changes": ["edit", "submit"],
        "publish": ["edit", "submit", "approve"],
        "rollback": ["edit", "submit", "approve", "publish"],
    }[action]
    for step in steps:
        if step == "edit":
            services.article_edit(
                article=article, user=superuser,
                content={**services.pending_content(article), "summary": "a reviewed change"},
            )  # fmt: skip
        elif step == "publish":
            services.article_publish(article=article, user=superuser, note="release", bump="minor")
        else:
            getattr(services, f"article_{step}")(article=article, user=superuser, note="ok")


def done_by(user, action) -> bool:
    return user is not None and AuditEvent.objects.filter(user=user, action=AUDITED[action]).exists()


@pytest.mark.parametrize(("channel", "action", "role"), WORKFLOW_CASES)
def test_workflow_action(
    request, api_as, browser_as, role_user, sample_article, superuser, channel, action, role
):
    ready_for(action, sample_article, superuser)
    user = role_user(role)
    segment, single, bulk = WORKFLOW_ACTIONS[action]
    if channel == "api":
        client = api_as(role)
        url = f"/api/articles/{sample_article.slug}/"
        if action == "edit":
            response = client.patch(url, {"summary": "edited"}, format="json")
        else:
            response = client.post(f"{url}{segment}/", FORM, format="json")
        assert response.status_code == api_status(action, role), response.json()
    elif channel == "admin":
        client = browser_as(role)
        if action == "edit":
            url = reverse("admin:articles_article_change", args=[sample_article.pk])
            data = admin_form_data(browser_as("superuser"), url)
            data["summary"] = "edited in the admin"
        else:
            name, *args = single
            url = reverse(name, args=[sample_article.pk, *args])
            data = FORM
        response = client.post(url, data)
        assert response.status_code == 302
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN)
        else:
            refused = "not allowed to" in " ".join(str(m) for m in response.wsgi_request._messages)
            assert refused == (role not in MAY[action])
    else:
        client = browser_as(role)
        url = reverse("admin:articles_article_changelist")
        response = client.post(
            url, {"action": bulk, "_selected_action": [sample_article.pk], "apply": "1", **FORM}
        )
        assert response.status_code == 302
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN)
    assert done_by(user, action) == (role in MAY[action]), f"{role} {action} via {channel}"
    if action == "edit" and role not in MAY[action]:
        assert Revision.objects.filter(article=sample_article, kind="edit").count() == 0


def test_the_workflow_matrix_follows_the_documented_roles():
    """A guard on the table itself: Editors edit and submit, and nothing else."""
    assert {action for action, roles in MAY.items() if "editor" in roles} == {"edit", "submit"}
    assert all(roles >= {"reviewer", "superuser"} for roles in MAY.values())
    assert set(MAY) == set(WORKFLOW_ACTIONS) == set(AUDITED)


# --------------------------------------------------------------------------- findings


@pytest.mark.parametrize("case", ["new article", "changed live article"])
def test_editors_cannot_publish_through_the_import_endpoint(api_as, sample_text, sample_article, case):
    if case == "new article":
        document = sample_text.replace("anp-ref-035445-8950", "anp-ref-000003-editor").replace(
            "production checklist for creating", "editor checklist for creating", 1
        )
    else:
        document = sample_text.replace("version: 1.5.4", "version: 1.5.5").replace(
            "difficultyadvanced", "difficultybeginner"
        )
    response = api_as("editor").generic("POST", "/api/imports/", document.encode(), content_type="text/plain")
    assert response.status_code in (200, 201, 403), response.json()
    readers = api_as("anonymous")
    if case == "new article":
        assert readers.get("/api/articles/?reference=anp-ref-000003-editor").json()["results"] == []
    else:
        assert readers.get(f"/api/articles/{sample_article.slug}/").json()["difficulty"] == "advanced"

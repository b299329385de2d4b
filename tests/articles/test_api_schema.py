"""The OpenAPI schema against the live meta API: schemathesis generates requests from the schema
(valid and invalid ones) and checks every response against it, in process through the WSGI
application and pytest-django's test database.
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from articles.models import Article, ArticleState
from config.wsgi import application
from releases.importing import import_document

pytestmark = pytest.mark.django_db

# The meta API: list, detail, similar posts, revisions and import.
META_OPERATIONS = {
    ("GET", "/api/articles/"),
    ("GET", "/api/articles/{slug}/"),
    ("GET", "/api/articles/{slug}/similar/"),
    ("GET", "/api/articles/{slug}/revisions/"),
    ("POST", "/api/imports/"),
}
REVISIONS = "/api/articles/{slug}/revisions/"
IMPORT = "/api/imports/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def is_meta_operation(ctx) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in META_OPERATIONS


def allows_anonymous(ctx) -> bool:
    """Meta operations whose schema lets a client without credentials in (``{}`` among its security)."""
    return is_meta_operation(ctx) and {} in ctx.operation.definition.raw.get("security", [{}])


schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json",
    application,
    config=schemathesis.Config.from_dict(
        {"generation": {"mode": "all", "with-security-parameters": False, "database": "none"}}
    ),
)


def variant(text: str, reference: str, title: str, **replacements: str) -> str:
    text = text.replace("referenceanp-ref-035445-8950", f"reference{reference}")
    text = title + text[text.index("\n") :]
    for old, new in replacements.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    return text


@pytest.fixture
def api_data(sample_text, django_user_model):
    """Three live articles sharing tags, one hidden draft, and a staff user's token."""
    documents = [
        sample_text,
        variant(sample_text, "schema-2", "second checklist"),
        variant(sample_text, "schema-3", "third checklist", difficultyadvanced="difficultybeginner"),
        variant(sample_text, "schema-draft", "draft checklist", **{"human review: 0": "human review: 1"}),
    ]
    for number, text in enumerate(documents):
        assert import_document(text.encode(), path=f"{number}.txt").outcome == "created"
    assert Article.objects.live().count() == 3
    assert Article.objects.filter(state=ArticleState.DRAFT).count() == 1
    staff = django_user_model.objects.create_user("schema-editor", is_staff=True)
    return {
        "token": Token.objects.create(user=staff).key,
        "slugs": list(Article.objects.order_by("id").values_list("slug", flat=True)),
        "documents": documents,
    }


@pytest.fixture
def _in_process(settings):
    """The WSGI application serves requests inside the test's transaction, as Django's test client
    does: connections stay open across requests, and hundreds of requests in a few seconds do not
    meet the rate limit."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def aim_at_real_data(case, data, api_data) -> None:
    """Half the time, point the generated request at an existing article or a real document, so
    that successful answers are checked too, not only the 404s of random slugs."""
    if "slug" in case.path_parameters and data.draw(st.booleans(), label="real slug"):
        case.path_parameters["slug"] = data.draw(st.sampled_from(api_data["slugs"]), label="slug")
    if case.operation.path == IMPORT and data.draw(st.booleans(), label="real document"):
        number = data.draw(st.integers(0, 5), label="document")
        documents = api_data["documents"]
        text = documents[number] if number < len(documents) else variant(documents[0], f"new-{number}", "new")
        case.body = text
        case.media_type = "text/plain"


@schema.include(allows_anonymous).parametrize()
@schema.given(data=st.data())
@HYPOTHESIS
def test_anonymous_client_gets_only_responses_the_schema_describes(case, data, api_data, _in_process):
    aim_at_real_data(case, data, api_data)
    case.call_and_validate(checks=CHECKS)


@schema.include(is_meta_operation).parametrize()
@schema.given(data=st.data())
@HYPOTHESIS
def test_staff_client_gets_only_responses_the_schema_describes(case, data, api_data, _in_process):
    aim_at_real_data(case, data, api_data)
    headers = {"Authorization": f"Token {api_data['token']}"}
    response = case.call(headers=headers)
    checks = CHECKS
    case.validate_response(response, checks=checks, headers=headers)


def test_the_runs_cover_every_meta_operation():
    """Both runs above really reach the meta API: the staff one every operation, the anonymous
    one all but those the schema keeps for staff."""
    operations = {(op.method.upper(), op.path): op for op in (r.ok() for r in schema.get_all_operations())}
    assert META_OPERATIONS <= set(operations)
    staff_only = {key for key, op in operations.items() if {} not in op.definition.raw.get("security", [{}])}
    assert staff_only & META_OPERATIONS == {("GET", REVISIONS), ("POST", IMPORT)}

"""The OpenAPI schema against the live API: schemathesis generates requests from the schema (valid
and invalid ones, and its coverage cases: missing parameters, undeclared methods...) for every
operation, and checks every answer with every check it has, in process through the WSGI
application and pytest-django's test database.

How the runs are set up:

* Every check is on (``CHECKS_CONFIG`` names none as off; ``test_every_check_is_on`` guards it).
  ``positive_data_acceptance`` also accepts 412 (a well-formed If-Match naming an ETag the article
  no longer has fails a precondition on the server's state, as 409 does on the article's state),
  and so does ``negative_data_rejection`` (preconditions come before the content is read),
  and for ``POST /api/imports/`` 400: the page-text format (docs/page-format.md) is more than a
  schema can say, so a well-formed text/plain body may still be a document the importer refuses.
  Some checks are on but find nothing to act on in these runs, by the API's nature:
  ``missing_required_header`` (no operation requires a header: If-Match is optional, credentials
  are security schemes, which ``ignored_auth`` probes), ``use_after_free`` (nothing is deleted),
  ``ensure_resource_availability`` (it follows links between calls, which only schemathesis'
  stateful runs make) and ``object_level_authorization`` (no object belongs to one user: every
  staff member sees every article, and it needs several identities to compare).
* Two clients: anonymous, and a staff member of the Reviewers group (allowed every workflow action)
  sending a token. Both run over every operation, twice: generated data (fuzzing), and
  schemathesis' deterministic coverage cases (each parameter missing, of the wrong type, out of
  range; undeclared methods, whose answers ``unsupported_method`` checks; wrong media types),
  which it only makes in tests that draw no data of their own.
* The database holds articles in every workflow state (``api_data``). Half the generated requests
  are pointed at one of them (``aim_at_real_data``: a real slug, the ETag just read for If-Match,
  a rollback target, a real document to import), and every coverage case with a valid slug names
  an article its operation can act on, so the actions succeed and their success answers are
  checked too, not only the 404s of random slugs.
* Each test is one operation and runs in one pytest-django transaction; every generated example
  runs in a savepoint rolled back afterwards, so each starts from the same articles whatever the
  one before did (published, archived...). The application runs in the test's thread, on its
  connection, so it sees the savepoint.
"""

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import CHECKS
from schemathesis.config import ChecksConfig
from schemathesis.core.parameters import ParameterLocation
from werkzeug.test import Client as WerkzeugClient

from articles.api.schema import ISO_DATE_PATTERN
from articles.api.serializers import IMAGE_URL_PATTERN, NFKC_URL_DELIMITERS, ContentEditSerializer, ExtraField
from articles.content import clean_content, content_from_page
from articles.models import Article
from articles.parsing import parse_page
from config.wsgi import application
from releases import services
from releases.api import RequiredNoteSerializer
from releases.importing import import_document

pytestmark = pytest.mark.django_db
SAMPLE_PATH = (
    Path(__file__).resolve().parents[2] / "articles" / "fixtures" / "samples" / "anp-ref-035445-8950.txt"
)

PATH = ParameterLocation.PATH
IMPORT = "/api/imports/"
PATCH = ("PATCH", "/api/articles/{slug}/")
ROLLBACK = "/api/articles/{slug}/rollback/"
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
# schemathesis' default statuses for invalid requests plus 412: preconditions are evaluated before
# the request's content is processed (RFC 9110, 13.2.1), so invalid content sent with an If-Match
# naming an ETag the article no longer has is refused with 412, a refusal all the same.
NEGATIVE_STATUSES = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "412",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]
CHECKS_CONFIG = {
    # schemathesis' default statuses plus 412; a 5xx among them is still failed by not_a_server_error.
    "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
    "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES},
}
CONFIG = {
    "generation": {"mode": "all", "with-security-parameters": False, "database": "none"},
    "checks": CHECKS_CONFIG,
    "operations": [
        {
            "include-path": IMPORT,
            "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_STATUSES, "400"]}},
        }
    ],
}
HYPOTHESIS = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", application, config=schemathesis.Config.from_dict(CONFIG)
)
# The same schema for the deterministic phases only: the examples and schemathesis' coverage cases
# (each parameter missing, out of range, of the wrong type; undeclared methods...). They run in
# tests of their own because schemathesis leaves them out of tests that draw extra data.
coverage_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json",
    application,
    config=schemathesis.Config.from_dict({**CONFIG, "phases": {"fuzzing": {"enabled": False}}}),
)


def variant(text: str, reference: str, title: str, **replacements: str) -> str:
    text = text.replace("referenceanp-ref-035445-8950", f"reference{reference}")
    text = title + text[text.index("\n") :]
    for old, new in replacements.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    return text


NEEDS_REVIEW = {"human review: 0": "human review: 1"}


@pytest.fixture
def api_data(sample_text, django_user_model):
    """Articles in every state an action starts from, and a reviewer's token.

    live: published once; rolled: published twice (a rollback has a target); in review; approved
    (publishable); draft (never published, submittable); archived (publishable again).
    """
    reviewer = django_user_model.objects.create_user("schema-reviewer", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    documents = {
        "live": sample_text,
        "rolled": variant(sample_text, "schema-rolled", "rolled checklist"),
        "in_review": variant(sample_text, "schema-review", "review checklist"),
        "approved": variant(sample_text, "schema-approved", "approved checklist"),
        "draft": variant(sample_text, "schema-draft", "draft checklist", **NEEDS_REVIEW),
        "archived": variant(sample_text, "schema-archived", "archived checklist"),
    }
    articles = {}
    for name, text in documents.items():
        result = import_document(text.encode(), path=f"{name}.txt")
        assert result.outcome == "created", result.errors
        articles[name] = Article.objects.get(pk=result.article_id)

    def edit(article, summary):
        content = {**services.pending_content(article), "summary": summary}
        services.article_edit(article=article, user=reviewer, content=content)

    for name in ("rolled", "in_review", "approved"):
        edit(articles[name], f"{name} summary")
        services.article_submit(article=articles[name], user=reviewer)
    for name in ("rolled", "approved"):
        services.article_approve(article=articles[name], user=reviewer)
    services.article_publish(article=articles["rolled"], user=reviewer, note="second release")
    services.article_archive(article=articles["archived"], user=reviewer, note="taken down")
    states = {
        name: services.review_state(Article.objects.get(pk=article.pk)) for name, article in articles.items()
    }
    assert states == {
        "live": "published",
        "rolled": "published",
        "in_review": "in_review",
        "approved": "reviewed",
        "draft": "draft",
        "archived": "archived",
    }
    return {
        "token": Token.objects.create(user=reviewer).key,
        "slugs": [article.slug for article in articles.values()],
        "by_state": {name: article.slug for name, article in articles.items()},
        "documents": list(documents.values()),
    }


@pytest.fixture
def _in_process(settings):
    """The WSGI application serves requests inside the test's transaction, as Django's test client
    does: connections stay open across requests, and hundreds of requests in a few seconds do not
    meet the rate limit."""
    dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    settings.CACHES = {"default": dummy, "read": dummy}
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def aim_at_real_data(case, data, api_data, headers) -> None:
    """Half the time, point the generated request at an existing article or a real document, so
    that successful answers are checked too, not only the 404s of random slugs."""
    if "slug" in (case.path_parameters or {}) and data.draw(st.booleans(), label="real slug"):
        case.path_parameters["slug"] = data.draw(st.sampled_from(api_data["slugs"]), label="slug")
        if (case.method.upper(), case.path) == PATCH and headers and data.draw(st.booleans(), label="etag"):
            # The ETag the client read: the If-Match precondition holds.
            etag = application_get(f"/api/articles/{case.path_parameters['slug']}/", headers).get("ETag")
            case.headers = {**(case.headers or {}), "If-Match": etag}
        if case.path == ROLLBACK and isinstance(case.body, dict) and data.draw(st.booleans(), label="target"):
            case.body = {**case.body, "revision": 1}
    if case.path == IMPORT and data.draw(st.booleans(), label="real document"):
        number = data.draw(st.integers(0, 7), label="document")
        documents = api_data["documents"]
        text = documents[number] if number < len(documents) else variant(documents[0], f"new-{number}", "new")
        case.body = text
        case.media_type = "text/plain"


def application_get(path: str, headers: dict):
    """The headers of a GET through the WSGI application (not Django's test client: it would
    connect the signal that closes the test's database connection after each request)."""
    return WerkzeugClient(application).get(path, headers={**PLAIN, **headers}).headers


# Answers for anonymous clients are gzipped when the client accepts it (config/compression.py);
# schemathesis' WSGI transport would not unpack them, so the runs ask for them as they are.
PLAIN = {"Accept-Encoding": "identity"}


# The article each slug route's coverage cases name: one the operation can act on.
COVERAGE_TARGET = {"submit": "draft", "approve": "in_review", "request-changes": "in_review",
                   "publish": "approved", "rollback": "rolled"}  # fmt: skip


def run_coverage_case(case, api_data, headers=None) -> None:
    """A coverage case, with a valid slug aimed at an article the operation can act on (a slug
    schemathesis made invalid on purpose stays as it is)."""
    if "slug" in (case.path_parameters or {}) and not (case.meta and case.meta.is_negative_at(PATH)):
        action = case.path.rstrip("/").rsplit("/", 1)[-1]
        case.path_parameters["slug"] = api_data["by_state"][COVERAGE_TARGET.get(action, "live")]
    with transaction.atomic():
        case.call_and_validate(headers={**PLAIN, **(headers or {})})
        transaction.set_rollback(True)


def run_case(case, data, api_data, headers=None) -> None:
    aim_at_real_data(case, data, api_data, headers)
    with transaction.atomic():
        case.call_and_validate(headers={**PLAIN, **(headers or {})})
        transaction.set_rollback(True)


@schema.parametrize()
@schema.given(data=st.data())
@HYPOTHESIS
def test_anonymous_client_gets_only_answers_the_schema_describes(case, data, api_data, _in_process):
    run_case(case, data, api_data)


@schema.parametrize()
@schema.given(data=st.data())
@HYPOTHESIS
def test_staff_client_gets_only_answers_the_schema_describes(case, data, api_data, _in_process):
    run_case(case, data, api_data, headers={"Authorization": f"Token {api_data['token']}"})


@coverage_schema.parametrize()
@HYPOTHESIS
def test_anonymous_client_coverage_cases(case, api_data, _in_process):
    run_coverage_case(case, api_data)


@coverage_schema.parametrize()
@HYPOTHESIS
def test_staff_client_coverage_cases(case, api_data, _in_process):
    run_coverage_case(case, api_data, headers={"Authorization": f"Token {api_data['token']}"})


# -- the patterns the schema states are the server's rules, character for character ------------

# Text with every kind of character the rules name: controls, line breaks, whitespace of all
# kinds, NUL, and the rest of Unicode.
EDGE_CHARACTERS = "\x00\x01\x08\t\n\x0b\x0c\r\x1c\x1f \x7f\x85\x9f\xa0\u2028\u3000\ufeffa_é"
TEXTS = st.text(st.sampled_from(EDGE_CHARACTERS) | st.characters(), max_size=12)
SAMPLE_CONTENT = content_from_page(parse_page(SAMPLE_PATH.read_bytes()).page)
EDIT_FIELDS = ContentEditSerializer().fields


def content_problems(**changes) -> list[str]:
    return [problem.field for problem in clean_content({**SAMPLE_CONTENT, **changes})[1]]


def accepted_by_schema(field, text: str) -> bool:
    return re.fullmatch(field.schema_pattern, text) is not None


@given(TEXTS)
@settings(max_examples=300, deadline=None)
def test_one_line_and_multi_line_patterns_are_clean_contents_rules(text):
    assert accepted_by_schema(EDIT_FIELDS["title"], text) == ("title" not in content_problems(title=text))
    body_text = EDIT_FIELDS["body_text"]
    assert accepted_by_schema(body_text, text) == ("body text" not in content_problems(body_text=text))


@given(TEXTS)
@settings(max_examples=300, deadline=None)
def test_extra_meta_key_names_are_clean_contents_rules(key):
    names = ExtraField.request_schema["propertyNames"]
    in_schema = re.fullmatch(names["pattern"], key) is not None and key not in names["not"]["enum"]
    assert in_schema == (not content_problems(extra={key: ["a value"]}))


@given(st.sampled_from(["http://", "https://", "HTTP://", "https:/", "ftp://"]), TEXTS, TEXTS)
@settings(max_examples=300, deadline=None)
def test_the_image_url_pattern_is_check_urls_rule(scheme, host, rest):
    url = scheme + host + rest
    if "[" in url or "]" in url:  # IPv6 hosts: the schema leaves them out (see IMAGE_URL_PATTERN)
        return
    in_schema = re.fullmatch(IMAGE_URL_PATTERN, url) is not None
    image = {"source": "s", "url": url, "caption": None}
    assert in_schema == (not any("url" in field for field in content_problems(image_sources=[image])))


def test_the_host_characters_urlsplit_refuses_are_all_listed():
    refused = {
        chr(code)
        for code in range(0x80, 0x10000)
        if any(delimiter in unicodedata.normalize("NFKC", chr(code)) for delimiter in "/?#@:")
    }
    assert refused == set(NFKC_URL_DELIMITERS)


@given(TEXTS)
@settings(max_examples=300, deadline=None)
def test_the_required_note_pattern_is_the_action_layers_rule(note):
    """Not blank once trimmed (releases.services), and no NUL (DRF's CharField)."""
    field = RequiredNoteSerializer().fields["note"]
    assert accepted_by_schema(field, note) == (bool(note.strip()) and "\x00" not in note)


@given(st.dates().map(dt.date.isoformat) | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_the_date_pattern_is_the_calendar(text):
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        real = False
    else:
        real = True
    assert (re.fullmatch(ISO_DATE_PATTERN, text) is not None) == real


def test_every_check_is_on():
    """No check is switched off: each of schemathesis' checks runs on every answer above."""
    config = schema.config.checks_config_for(operation=None, phase=None)
    names = set(CHECKS.get_all_names())
    assert {"positive_data_acceptance", "negative_data_rejection", "missing_required_header",
            "unsupported_method", "ignored_auth", "use_after_free"} <= names  # fmt: skip
    assert {name for name in names if not config.get_by_name(name=name).enabled} == set()
    assert isinstance(config, ChecksConfig)


def test_the_runs_cover_every_operation():
    """Every operation of the schema is generated for both clients, writes included."""
    operations = {
        (op.method.upper(), op.path) for op in (result.ok() for result in schema.get_all_operations())
    }
    assert {
        ("GET", "/api/articles/"),
        ("GET", "/api/articles/{slug}/"),
        PATCH,
        ("GET", "/api/articles/{slug}/similar/"),
        ("GET", "/api/articles/{slug}/revisions/"),
        ("POST", IMPORT),
        *(("POST", f"/api/articles/{{slug}}/{name}/") for name in
          ("submit", "approve", "request-changes", "publish", "rollback", "archive")),
    } == operations  # fmt: skip

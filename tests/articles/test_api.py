"""The meta API under /api/: list, filters, detail, similar posts, revisions, import, schema and HTTP."""

import datetime as dt
import io
import itertools
import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from django.utils.http import http_date
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from articles.api.filters import ArticleFilter
from articles.models import Article, ArticleState
from articles.paging import CappedPaginator
from releases.importing import Source, import_document, import_documents
from releases.models import Revision

pytestmark = pytest.mark.django_db

META_EXAMPLE = json.loads((Path(__file__).parent / "meta_example.json").read_text())
SAMPLE_REFERENCE = "anp-ref-035445-8950"
LIST_URL = "/api/articles/"
IMPORT_URL = "/api/imports/"

# Meta keys written "key value" on one line, and fields of records written "  • name: value".
SCALAR_KEYS = ("topic", "summary", "code language", "difficulty", "reading time", "view count", "reference")
RECORD_FIELDS = (
    "quality", "freshness", "depth", "clarity", "status", "version", "last reviewed", "has images",
    "needs human review", "problem", "context",
)  # fmt: skip


def detail_url(slug: str) -> str:
    return f"/api/articles/{slug}/"


def _sub_once(pattern: str, replacement: str, text: str) -> str:
    new, count = re.subn(pattern, lambda _: replacement, text, flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} matched {count} times"
    return new


def variant(
    text: str,
    *,
    title: str | None = None,
    site: str | None = None,
    stack: list[str] | None = None,
    tools: list[str] | None = None,
    entities: list[tuple[str, str]] | None = None,
    extra_images: int = 0,
    **fields,
) -> str:
    """The sample document with some of its entries replaced.

    ``fields`` are meta scalars and record fields with underscores for spaces
    (``reading_time=12``, ``last_reviewed="2025-01-01"``, ``needs_human_review=True``);
    None removes the entry.
    """
    if title is not None:
        text = _sub_once(r"\A[^\n]*", title, text)
    if site is not None:
        text = _sub_once(r"^\w+ post meta$", f"{site} post meta", text)
    for key, values in (("stack", stack), ("tools", tools)):
        if values is not None:
            bullets = "".join(f"  • {value}\n" for value in values)
            text = _sub_once(rf"^{key}\n(?:  • [^\n]*\n)+", f"{key}\n{bullets}", text)
    if entities is not None:
        records = "".join(f"    • name: {name}\n    • type: {type_}\n" for name, type_ in entities)
        text = _sub_once(r"^entities\n(?:    • [^\n]*\n)+", f"entities\n{records}", text)
    if extra_images:
        records = "".join(
            f"    • source: example.org\n    • url: https://example.org/{index}.png\n"
            f"    • caption: extra picture {index}\n"
            for index in range(extra_images)
        )
        text = _sub_once(r"^image sources\n", f"image sources\n{records}", text)
    for name, value in fields.items():
        key = name.replace("_", " ")
        if isinstance(value, bool):
            value = int(value)
        if key in SCALAR_KEYS:
            line = rf"^{key}[^\n]*\n"
            text = _sub_once(line, "" if value is None else f"{key}{value}\n", text)
        elif key in RECORD_FIELDS:
            line = rf"^  • {key}: [^\n]*\n"
            text = _sub_once(line, "" if value is None else f"  • {key}: {value}\n", text)
        else:
            raise TypeError(f"variant() does not know the entry {name!r}")
    return text


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    """Throttling counts requests in the cache; each test starts with a clean count."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_article(sample_text):
    """Import a variant of the sample (see ``variant``) and return its article.

    Each call gets its own reference and title unless given; ``needs_human_review=True`` or a
    ``status`` other than ``reviewed`` makes a hidden draft.
    """
    numbers = itertools.count(1)

    def make(**fields) -> Article:
        number = next(numbers)
        fields.setdefault("reference", f"test-ref-{number:03d}")
        fields.setdefault("title", f"test article {number:03d} on release habits")
        data = variant(sample_text, **fields).encode("utf-8")
        result = import_document(data, path=f"{fields['reference']}.txt")
        assert result.outcome == "created", result.errors
        return Article.objects.get(pk=result.article_id)

    return make


@pytest.fixture
def sample_article(sample_text) -> Article:
    result = import_document(sample_text.encode("utf-8"), path="anp-ref-035445-8950.txt")
    assert result.outcome == "created", result.errors
    return Article.objects.get(reference=SAMPLE_REFERENCE)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def staff(django_user_model):
    """A reviewer: staff who may also publish, as imports that go live require."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("reviewer", is_staff=True)
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


@pytest.fixture
def staff_session(staff) -> APIClient:
    client = APIClient()
    client.force_login(staff)
    return client


@pytest.fixture
def staff_token(staff) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    return client


@pytest.fixture(params=["session", "token"])
def staff_client(request) -> APIClient:
    """A staff client signed in either way the API accepts."""
    return request.getfixturevalue(f"staff_{request.param}")


@pytest.fixture
def member_client(django_user_model) -> APIClient:
    """A signed-in user who is not staff."""
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("reader"))
    return client


def references(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["reference"] for item in response.json()["results"]]


def all_pages(client, url, params) -> list[dict]:
    """Every item of a list, following ``next`` links."""
    items, response = [], client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        data = response.json()
        items.extend(data["results"])
        if data["next"] is None:
            return items
        response = client.get(data["next"])


# -- the list ---------------------------------------------------------------------------------


def test_list_is_paginated_with_count_next_and_previous(anon, make_article):
    slugs = {make_article().slug for _ in range(5)}

    first = anon.get(LIST_URL, {"page_size": 2}).json()
    assert set(first) == {"count", "count_exact", "next", "previous", "results"}
    assert first["count"] == 5 and first["count_exact"] is True and len(first["results"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]

    last = anon.get(LIST_URL, {"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert "page=2" in last["previous"]

    items = all_pages(anon, LIST_URL, {"page_size": 2})
    assert [item["slug"] for item in items if item["slug"] in slugs] == [item["slug"] for item in items]
    assert {item["slug"] for item in items} == slugs and len(items) == 5


def test_past_the_count_limit_the_count_says_so_and_every_page_is_served(anon, make_article, monkeypatch):
    slugs = {make_article().slug for _ in range(7)}
    monkeypatch.setattr(CappedPaginator, "count_limit", 3)

    first = anon.get(LIST_URL, {"page_size": 2}).json()
    assert first["count"] == 3 and first["count_exact"] is False and "page=2" in first["next"]
    last = anon.get(LIST_URL, {"page_size": 2, "page": 4}).json()
    assert len(last["results"]) == 1 and last["next"] is None and "page=3" in last["previous"]
    assert anon.get(LIST_URL, {"page_size": 2, "page": 5}).status_code == 404

    items = all_pages(anon, LIST_URL, {"page_size": 2})
    assert {item["slug"] for item in items} == slugs and len(items) == 7  # every row once
    narrow = anon.get(LIST_URL, {"page_size": 2, "reference": items[0]["reference"]}).json()
    assert narrow["count"] == 1 and narrow["count_exact"] is True


def test_page_size_is_capped_at_100(anon, sample_text):
    report = import_documents(
        Source(f"{n}.txt", variant(sample_text, reference=f"cap-{n:03d}", title=f"cap {n}").encode())
        for n in range(101)
    )
    assert report.counts["created"] == 101
    for asked in (100, 101, 1000):
        data = anon.get(LIST_URL, {"page_size": asked}).json()
        assert data["count"] == 101 and len(data["results"]) == 100 and data["next"] is not None
    assert len(anon.get(LIST_URL, {"page_size": 7}).json()["results"]) == 7


def test_a_page_past_the_last_is_a_json_404(anon, make_article):
    make_article()
    for page in (2, 10**30, "9" * 5000):
        response = anon.get(LIST_URL, {"page": page})
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert "detail" in response.json()


@pytest.mark.parametrize("parameter", ["page", "page_size"])
@pytest.mark.parametrize("value", ["0", "0.0", "-1", "abc", "1.5", "1e3", " 5", "+5", "٥", "last"])
def test_page_and_page_size_are_whole_numbers_from_1(anon, make_article, parameter, value):
    make_article()
    response = anon.get(LIST_URL, {parameter: value})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert list(response.json()) == [parameter]


def test_an_empty_page_or_page_size_is_no_value(anon, make_article):
    make_article()
    response = anon.get(LIST_URL, {"page": "", "page_size": ""})
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_a_whole_number_may_carry_a_zero_fraction(anon, make_article):
    """2.0 is the integer 2 to JSON Schema, so to the API as well."""
    for _ in range(3):
        make_article()
    response = anon.get(LIST_URL, {"page": "2.0", "page_size": "2.00", "quality_min": "0.0"})
    assert response.status_code == 200, response.json()
    assert len(response.json()["results"]) == 1


def test_list_items_are_summaries_that_agree_with_the_detail(anon, sample_article):
    item = anon.get(LIST_URL).json()["results"][0]
    assert {"slug", "reference", "title", "url"} <= set(item)
    assert not {"entities", "image_sources", "scores", "checklist", "notes", "payload", "body"} & set(item)
    assert item["url"] == f"/articles/{sample_article.slug}/" == sample_article.get_absolute_url()
    detail = anon.get(detail_url(item["slug"])).json()
    for key in set(item) & set(detail):
        assert item[key] == detail[key], key
    assert item["reference"] == SAMPLE_REFERENCE and item["stack"] == META_EXAMPLE["stack"]


def test_full_list_items_are_the_whole_meta_json(anon, sample_article, make_article):
    other = make_article(stack=["python services", "backend"], tools=["git"])
    items = anon.get(LIST_URL, {"fields": "full"}).json()["results"]
    assert len(items) == 2
    for item in items:
        assert {"slug", "reference", "title", "url"} <= set(item)
        assert item == anon.get(detail_url(item["slug"])).json()
    sample_item = next(item for item in items if item["reference"] == SAMPLE_REFERENCE)
    assert sample_item["entities"] == META_EXAMPLE["entities"]
    assert [similar["slug"] for similar in sample_item["similar"]] == [other.slug]


# -- filters, search and ordering -------------------------------------------------------------


@pytest.fixture
def filter_articles(make_article):
    """A: every entry changed; B: the sample's values; C: like B but a draft needing review."""
    make_article(
        reference="filter-a",
        title="zebra crossing release notes",
        site="betanode",
        topic="zeppelin upgrades / go services",
        summary="a summary that mentions a quokka.",
        stack=["go services", "backend", "event sourcing"],
        tools=["celery", "git"],
        entities=[("zero downtime", "practice"), ("go services", "stack")],
        difficulty="beginner",
        code_language="go",
        has_images=False,
        quality=95,
        freshness=20,
        depth=90,
        clarity=40,
        reading_time=12,
        last_reviewed="2024-01-15",
    )
    make_article(reference="filter-b", title="plain release checklist")
    make_article(
        reference="filter-c", title="draft release checklist", status="draft", needs_human_review=True
    )
    return {"A": "filter-a", "B": "filter-b", "C": "filter-c"}


ANON_FILTER_CASES = [
    ("reference", "filter-a", "A"),
    ("reference", "filter", ""),
    ("stack", "event sourcing", "A"),
    ("stack", "Event-Sourcing", "A"),
    ("stack", "python", "B"),
    ("stack", "kubernetes", ""),
    ("tool", "celery", "A"),
    ("tool", "pytest", "B"),
    ("tool", "python", ""),
    ("entity", "zero downtime", "A"),
    ("entity", "zero-downtime", "A"),
    ("entity", "creating rollback friendly releases", "B"),
    ("entity", "nobody", ""),
    ("entity_type", "practice", "A"),
    ("entity_type", "area", "B"),
    ("entity_type", "person", ""),
    ("difficulty", "beginner", "A"),
    ("difficulty", "expert", ""),
    ("code_language", "go", "A"),
    ("code_language", "rust", ""),
    ("site", "betanode", "A"),
    ("site", "gammanode", ""),
    ("has_images", "false", "A"),
    ("has_images", "true", "B"),
    ("has_images", "0", "A"),
    ("needs_human_review", "true", ""),
    ("needs_human_review", "false", "AB"),
    ("status", "reviewed", "AB"),
    ("status", "draft", ""),
    ("quality_min", "95", "A"),
    ("quality_min", "96", ""),
    ("quality_max", "80", "B"),
    ("quality_max", "79", ""),
    ("freshness_min", "48", "B"),
    ("freshness_min", "49", ""),
    ("freshness_max", "20", "A"),
    ("freshness_max", "19", ""),
    ("depth_min", "90", "A"),
    ("depth_min", "91", ""),
    ("depth_max", "61", "B"),
    ("depth_max", "60", ""),
    ("clarity_min", "91", "B"),
    ("clarity_min", "92", ""),
    ("clarity_max", "40", "A"),
    ("clarity_max", "39", ""),
    ("reading_time_min", "12", "A"),
    ("reading_time_min", "13", ""),
    ("reading_time_max", "4", "B"),
    ("reading_time_max", "3", ""),
    ("reviewed_after", "2026-06-28", "B"),
    ("reviewed_after", "2026-06-29", ""),
    ("reviewed_before", "2024-01-15", "A"),
    ("reviewed_before", "2024-01-14", ""),
    # full-text search: title, topic, summary, tags, entities, outline, checklist and body
    # (tests/articles/test_search.py has its rules)
    ("search", "zebra", "A"),
    ("search", "ZEPPELIN", "A"),
    ("search", "quokka", "A"),
    ("search", "celery", "A"),
    ("search", "plain", "B"),
    ("search", "checklist", "AB"),
    ("search", "zebra quokka", "A"),
    ("search", "zebra -quokka", ""),
    ("search", "zebra or plain", "AB"),
    ("search", "nonexistentword", ""),
]


@pytest.mark.parametrize(
    ("name", "value", "expected"), ANON_FILTER_CASES, ids=[f"{n}={v}" for n, v, _ in ANON_FILTER_CASES]
)
def test_filter_for_anonymous_clients(anon, filter_articles, name, value, expected):
    found = references(anon.get(LIST_URL, {name: value}))
    assert sorted(found) == sorted(filter_articles[letter] for letter in expected)


STAFF_FILTER_CASES = [
    ("status", "draft", "C"),
    ("status", "reviewed", "AB"),
    ("status", "archived", ""),
    ("needs_human_review", "true", "C"),
    ("needs_human_review", "1", "C"),
    ("needs_human_review", "false", "AB"),
    ("state", "draft", "C"),
    ("search", "checklist", "ABC"),
    ("quality_max", "80", "BC"),
]


@pytest.mark.parametrize(
    ("name", "value", "expected"), STAFF_FILTER_CASES, ids=[f"{n}={v}" for n, v, _ in STAFF_FILTER_CASES]
)
def test_filter_for_staff_sees_drafts(staff_token, filter_articles, name, value, expected):
    found = references(staff_token.get(LIST_URL, {name: value}))
    assert sorted(found) == sorted(filter_articles[letter] for letter in expected)


def test_filters_combine_with_and(anon, filter_articles):
    assert references(anon.get(LIST_URL, {"difficulty": "beginner", "site": "betanode"})) == ["filter-a"]
    assert references(anon.get(LIST_URL, {"difficulty": "beginner", "site": "alphanode"})) == []
    assert references(anon.get(LIST_URL, {"search": "checklist", "quality_max": 80})) == ["filter-b"]


# title, view count, reading time, last reviewed, quality, days after the first publication
ORDERING_DATA = {
    "ord-a": ("delta", 10, 5, "2025-04-01", 30, 0),
    "ord-b": ("alpha", 40, 2, "2025-01-01", 90, 2),
    "ord-c": ("charlie", 20, 9, "2025-02-01", 60, 3),
    "ord-d": ("bravo", 30, 7, "2025-03-01", 10, 1),
}
ORDERING_FIELDS = ("title", "view_count", "reading_time", "last_reviewed", "quality", "published_at")


@pytest.fixture
def ordering_articles(make_article):
    start = timezone.now() - dt.timedelta(days=30)
    for reference, (title, views, minutes, reviewed, quality, days) in ORDERING_DATA.items():
        article = make_article(
            reference=reference,
            title=title,
            view_count=views,
            reading_time=minutes,
            last_reviewed=reviewed,
            quality=quality,
        )
        Article.objects.filter(pk=article.pk).update(published_at=start + dt.timedelta(days=days))


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("field", ORDERING_FIELDS)
def test_ordering(anon, ordering_articles, field, descending):
    position = ORDERING_FIELDS.index(field)
    expected = sorted(ORDERING_DATA, key=lambda reference: ORDERING_DATA[reference][position])
    if descending:
        expected.reverse()
    assert references(anon.get(LIST_URL, {"ordering": f"{'-' if descending else ''}{field}"})) == expected


def test_default_order_is_newest_first(anon, ordering_articles):
    expected = sorted(ORDERING_DATA, key=lambda reference: -ORDERING_DATA[reference][5])
    assert references(anon.get(LIST_URL)) == expected
    for empty in (",", ",,"):
        assert references(anon.get(LIST_URL, {"ordering": empty})) == expected


def test_ordering_by_several_fields(anon, make_article):
    for reference, title, quality in (("o-1", "beta", 50), ("o-2", "alpha", 50), ("o-3", "gamma", 90)):
        make_article(reference=reference, title=title, quality=quality)
    assert references(anon.get(LIST_URL, {"ordering": "-quality,title"})) == ["o-3", "o-2", "o-1"]
    assert references(anon.get(LIST_URL, {"ordering": "quality,-title"})) == ["o-1", "o-2", "o-3"]


@pytest.mark.parametrize("field", ["quality", "view_count", "reading_time", "last_reviewed"])
def test_ordering_puts_unknown_values_last_both_ways(anon, make_article, field):
    known = [make_article(), make_article()]
    unknown = make_article(**{field: None})
    assert getattr(unknown, field) is None
    for descending in (False, True):
        found = references(anon.get(LIST_URL, {"ordering": f"{'-' if descending else ''}{field}"}))
        assert found[-1] == unknown.reference and sorted(found[:2]) == sorted(a.reference for a in known)


def test_ordering_ties_go_newest_first_and_pages_do_not_overlap(anon, make_article):
    articles = [make_article() for _ in range(5)]
    newest_first = [article.reference for article in sorted(articles, key=lambda a: -a.id)]
    for ordering in ("quality", "-quality", "-reading_time", "last_reviewed,-view_count"):
        items = all_pages(anon, LIST_URL, {"ordering": ordering, "page_size": 2})
        assert [item["reference"] for item in items] == newest_first


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("quality_min", "abc"),
        ("quality_max", "1O"),
        ("quality_min", "50.5"),
        ("quality_max", "101"),
        ("clarity_max", "-1"),
        ("reading_time_min", "1e3"),
        ("fields", "nothing"),
        ("ordering", "title,nothing"),
        ("freshness_min", "x"),
        ("depth_max", "NaN"),
        ("clarity_min", "Infinity"),
        ("reading_time_max", "five"),
        ("ordering", "abc"),
        ("ordering", "-hash"),
        ("ordering", "title,body"),
        ("reviewed_after", "notadate"),
        ("reviewed_before", "2026-02-30"),
        ("reviewed_after", "10/25/2006"),
        ("reviewed_after", "2026-1-2"),
        ("has_images", "maybe"),
        ("needs_human_review", "yes please"),
        ("search", "nul\x00byte"),
    ],
)
def test_bad_filter_value_is_a_400_naming_the_parameter(anon, make_article, parameter, value):
    make_article()
    response = anon.get(LIST_URL, {parameter: value})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    errors = response.json()
    assert list(errors) == [parameter] and errors[parameter]


def test_one_form_class_serves_every_request_and_keeps_each_requests_errors(anon, make_article):
    """The filters' form class is built once; each request still gets its own form and errors."""
    make_article()
    first = ArticleFilter({"quality_min": "abc"}, queryset=Article.objects.all())
    second = ArticleFilter({"reading_time_max": "five"}, queryset=Article.objects.all())
    assert type(first.form) is type(second.form)
    assert first.form is not second.form
    assert list(first.errors) == ["quality_min"] and list(second.errors) == ["reading_time_max"]
    assert list(anon.get(LIST_URL, {"ordering": "abc"}).json()) == ["ordering"]


@pytest.fixture
def built_filtersets(monkeypatch) -> list:
    """Every ArticleFilter (or subclass) built from here on, in order."""
    built = []
    original = ArticleFilter.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ArticleFilter, "__init__", counting)
    return built


def test_a_list_that_names_no_filter_builds_no_filterset_and_is_the_same(
    anon, make_article, built_filtersets
):
    """Without a filter's name in the query the filterset would change nothing: it is not built.
    The list is the one an empty filter value gives, and a named filter is still checked."""
    built = built_filtersets
    for _ in range(3):
        make_article()
    plain = anon.get(LIST_URL, {"page_size": 2, "unknown": "x"}).json()
    assert built == []
    empty = anon.get(LIST_URL, {"page_size": 2, "search": "", "ordering": ""}).json()
    assert len(built) == 1
    assert plain["results"] == empty["results"] and plain["count"] == empty["count"] == 3
    assert len(plain["results"]) == 2
    assert anon.get(LIST_URL, {"page_size": 2, "quality_min": "abc"}).status_code == 400
    assert len(built) == 2


def test_a_request_builds_only_the_filters_it_names_in_their_declared_order(
    anon, filter_articles, built_filtersets
):
    """A request's filterset holds the filters it names and no others (the rest would change
    nothing); they apply in their declared order, so an explicit ordering follows the search."""
    built = built_filtersets
    params = {"ordering": "-title", "search": "checklist", "page_size": 5}
    # best first would put B (its title says "checklist") before A; -title puts A first
    assert references(anon.get(LIST_URL, params)) == ["filter-a", "filter-b"]
    assert references(anon.get(LIST_URL, {"search": "checklist"})) == ["filter-b", "filter-a"]
    assert references(anon.get(LIST_URL, {**params, "page_size": 4})) == ["filter-a", "filter-b"]
    assert list(built[0].filters) == list(built[0].form.fields) == ["search", "ordering"]
    assert list(built[1].form.fields) == ["search"]
    assert type(built[0]) is type(built[2]) and issubclass(type(built[0]), ArticleFilter)
    assert anon.get(LIST_URL, {"search": "checklist", "quality_min": "abc"}).json() == {
        "quality_min": ["Enter a whole number."]
    }


# -- the detail -------------------------------------------------------------------------------


def test_sample_meta_json_equals_the_contract_field_by_field(anon, sample_article):
    response = anon.get(detail_url(META_EXAMPLE["slug"]))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == set(META_EXAMPLE)
    for key, value in META_EXAMPLE.items():
        if key != "similar":
            assert data[key] == value, key
    assert data["similar"] == []


def test_meta_similar_has_the_contract_shape_and_leads_the_similar_endpoint(
    anon, sample_article, make_article
):
    for _ in range(7):
        make_article()
    data = anon.get(detail_url(sample_article.slug)).json()
    assert len(data["similar"]) == 5
    for item in data["similar"]:
        assert set(item) == set(META_EXAMPLE["similar"][0])
    assert data["similar"] == anon.get(detail_url(sample_article.slug) + "similar/").json()[:5]


def test_include_body_adds_the_body_blocks(anon, sample_article):
    plain = anon.get(detail_url(sample_article.slug)).json()
    assert "body" not in plain
    assert anon.get(detail_url(sample_article.slug), {"include": ""}).json() == plain
    unknown = anon.get(detail_url(sample_article.slug), {"include": "everything"})
    assert unknown.status_code == 400 and list(unknown.json()) == ["include"]

    data = anon.get(detail_url(sample_article.slug), {"include": "body"}).json()
    assert data["body"] == sample_article.body and data["body"]
    assert [block["kind"] for block in data["body"]][:4] == ["paragraph", "figure", "figure", "heading"]
    code = next(block for block in data["body"] if block["kind"] == "code")
    assert code["language"] == "python" and "from fastapi import FastAPI" in code["text"]
    assert {key: value for key, value in data.items() if key != "body"} == plain


# (A NUL, a%00b, is a 400 before any view: tests/security/test_null_characters.py.)
@pytest.mark.parametrize("slug", ["no-such-article", "caf%C3%A9", "a.b", "%20", "1" * 300])
def test_unknown_slug_is_a_json_404(anon, staff_client, slug):
    for client in (anon, staff_client):
        for path in ("", "similar/"):
            response = client.get(detail_url(slug) + path)
            assert response.status_code == 404
            assert response["Content-Type"] == "application/json" and "detail" in response.json()


# -- visibility -------------------------------------------------------------------------------


def test_anonymous_clients_see_live_articles_only(anon, member_client, make_article):
    live = make_article()
    draft = make_article(needs_human_review=True)
    assert draft.state == ArticleState.DRAFT
    for client in (anon, member_client):
        assert references(client.get(LIST_URL)) == [live.reference]
        assert client.get(detail_url(live.slug)).status_code == 200
        hidden = client.get(detail_url(draft.slug))
        assert hidden.status_code == 404
        assert hidden.json() == client.get(detail_url("no-such-article")).json()
        assert client.get(detail_url(draft.slug) + "similar/").status_code == 404
        assert references(client.get(LIST_URL, {"state": "draft"})) == []


def test_staff_see_every_article_including_drafts(staff_client, make_article):
    live = make_article()
    draft = make_article(needs_human_review=True)
    assert sorted(references(staff_client.get(LIST_URL))) == sorted([live.reference, draft.reference])
    response = staff_client.get(detail_url(draft.slug))
    assert response.status_code == 200 and response.json()["state"] == "draft"
    assert staff_client.get(detail_url(draft.slug) + "similar/").status_code == 200


@pytest.mark.parametrize("state", [state for state in ArticleState.values if state != ArticleState.PUBLISHED])
def test_every_state_but_published_is_hidden_from_anonymous_clients(anon, staff_token, make_article, state):
    article = make_article()
    Article.objects.filter(pk=article.pk).update(state=state)
    assert anon.get(detail_url(article.slug)).status_code == 404
    assert references(anon.get(LIST_URL)) == []
    assert staff_token.get(detail_url(article.slug)).json()["state"] == state


def test_a_wrong_token_is_refused_with_json(make_article):
    article = make_article()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = client.get(detail_url(article.slug))
    assert response.status_code == 401 and response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"} and response["WWW-Authenticate"].startswith("Token")


# -- similar posts ----------------------------------------------------------------------------


SAMPLE_TAGS = (
    ["python services", "backend", "python"],
    ["fastapi", "pytest", "uvicorn", "ruff", "git", "logs"],
)


def test_similar_lists_up_to_ten_live_articles_best_first(anon, sample_article, make_article):
    stack, tools = SAMPLE_TAGS
    # Same title words everywhere, so only the tags tell the articles apart.
    title = "habits of careful release teams"
    twin = make_article(title=title)
    wider = [
        make_article(title=title, tools=[*tools, *(f"extra-{n}" for n in range(extra))])
        for extra in range(1, 6)
    ]
    narrower = [
        make_article(title=title, stack=["python services"], tools=tools[:shared]) for shared in range(6)
    ]
    draft = make_article(title=title, needs_human_review=True)

    response = anon.get(detail_url(sample_article.slug) + "similar/")
    assert response.status_code == 200
    items = response.json()
    assert isinstance(items, list) and len(items) == 10
    slugs = [item["slug"] for item in items]
    assert sample_article.slug not in slugs and draft.slug not in slugs
    assert slugs[0] == twin.slug
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    # More shared tools rank higher among the narrower ones; all wider ones beat the narrowest.
    narrower_ranks = [slugs.index(a.slug) for a in reversed(narrower) if a.slug in slugs]
    assert narrower_ranks == sorted(narrower_ranks)
    assert all(slugs.index(a.slug) < len(slugs) for a in wider if a.slug in slugs)
    for item in items:
        assert set(item) == {"slug", "title", "url", "score"}
        article = Article.objects.get(slug=item["slug"])
        assert item["title"] == article.title and item["url"] == article.get_absolute_url()
        assert article.state == ArticleState.PUBLISHED


def test_similar_without_shared_terms_falls_back_to_the_same_code_language_first(
    anon, sample_article, make_article
):
    unrelated = {
        "stack": ["rust"],
        "tools": ["cargo"],
        "entities": [("cargo", "tool")],
        "topic": "rust builds",
        "problem": "slow crates",
        "context": "on a laptop",
    }
    rust = make_article(title="cargo workspaces", code_language="rust", **unrelated)
    python = make_article(title="incremental compiles", **unrelated)
    items = anon.get(detail_url(sample_article.slug) + "similar/").json()
    slugs = [item["slug"] for item in items]
    # Both share nothing with the sample: fallbacks, scored 0, the same code language first.
    assert slugs == [python.slug, rust.slug]
    assert [item["score"] for item in items] == [0, 0]


def test_similar_of_a_draft_lists_live_articles_for_staff(staff_token, sample_article, make_article):
    draft = make_article(needs_human_review=True)
    other_draft = make_article(needs_human_review=True)
    items = staff_token.get(detail_url(draft.slug) + "similar/").json()
    assert [item["slug"] for item in items] == [sample_article.slug]
    assert other_draft.slug not in [item["slug"] for item in items]


# -- revisions --------------------------------------------------------------------------------


@pytest.fixture
def revised_article(sample_text, staff_token) -> Article:
    """The sample imported by the importer twice (1.5.4, 1.5.5), then by staff through the API (1.6.0)."""
    import_document(sample_text.encode(), path="first.txt")
    second = sample_text.replace("version: 1.5.4", "version: 1.5.5").replace("reading time4", "reading time5")
    assert import_document(second.encode(), path="second.txt").outcome == "updated"
    third = sample_text.replace("version: 1.5.4", "version: 1.6.0").replace("reading time4", "reading time6")
    response = staff_token.post(IMPORT_URL, data=third.encode(), content_type="text/plain")
    assert response.status_code == 200 and response.json()["outcome"] == "updated"
    return Article.objects.get(reference=SAMPLE_REFERENCE)


def test_revisions_list_every_version_newest_first(staff_client, staff, revised_article):
    response = staff_client.get(detail_url(revised_article.slug) + "revisions/")
    assert response.status_code == 200
    items = response.json()
    assert [item["number"] for item in items] == [3, 2, 1]
    assert [item["version"] for item in items] == ["1.6.0", "1.5.5", "1.5.4"]
    assert [item["author"] for item in items] == [staff.username, "import", "import"]
    stored = {revision.number: revision for revision in Revision.objects.filter(article=revised_article)}
    for item in items:
        assert set(item) == {"number", "version", "state", "kind", "created_at", "author", "note"}
        revision = stored[item["number"]]
        assert item["kind"] == revision.kind == "import"
        assert item["state"] == revision.state == ArticleState.PUBLISHED
        assert item["note"] == revision.note
        assert dt.datetime.fromisoformat(item["created_at"]) == revision.created_at


def test_revisions_are_for_staff_only(anon, member_client, revised_article):
    url = detail_url(revised_article.slug) + "revisions/"
    anonymous = anon.get(url)
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"detail"}
    member = member_client.get(url)
    assert member.status_code == 403 and set(member.json()) == {"detail"}


def test_revisions_of_a_draft_and_of_an_unknown_slug(staff_token, make_article):
    draft = make_article(needs_human_review=True)
    items = staff_token.get(detail_url(draft.slug) + "revisions/").json()
    assert [(item["number"], item["state"]) for item in items] == [(1, "draft")]
    missing = staff_token.get(detail_url("no-such-article") + "revisions/")
    assert missing.status_code == 404 and "detail" in missing.json()


# -- import -----------------------------------------------------------------------------------


def post_text(client, text: str | bytes, content_type="text/plain"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(IMPORT_URL, data=data, content_type=content_type)


def test_import_creates_updates_and_reports_unchanged(staff_client, sample_text):
    created = post_text(staff_client, sample_text)
    assert created.status_code == 201
    result = created.json()
    assert result["outcome"] == "created" and result["reference"] == SAMPLE_REFERENCE
    assert result["slug"] == META_EXAMPLE["slug"] and result["errors"] == []
    assert set(result) == {"path", "outcome", "reference", "slug", "warnings", "errors"}
    assert Article.objects.get(reference=SAMPLE_REFERENCE).slug == result["slug"]

    unchanged = post_text(staff_client, sample_text)
    assert unchanged.status_code == 200 and unchanged.json()["outcome"] == "unchanged"

    changed = sample_text.replace("version: 1.5.4", "version: 1.5.5").replace(
        "difficultyadvanced", "difficultyeasy"
    )
    updated = post_text(staff_client, changed)
    assert updated.status_code == 200 and updated.json()["outcome"] == "updated"
    assert Article.objects.get(reference=SAMPLE_REFERENCE).difficulty == "easy"


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(lambda text: text[: text.index("Similar Posts")], id="truncated"),
        pytest.param(lambda text: text.replace("referenceanp-ref-035445-8950\n", ""), id="no-reference"),
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: text.encode("utf-16"), id="not-utf-8"),
    ],
)
def test_import_of_a_broken_document_is_a_400_with_the_errors(staff_token, sample_text, document):
    response = post_text(staff_token, document(sample_text))
    assert response.status_code == 400
    result = response.json()
    assert result["outcome"] == "failed" and result["errors"]
    assert {"path", "line", "field", "message"} <= set(result["errors"][0])
    assert not Article.objects.exists()


def test_import_of_a_document_needing_review_creates_a_hidden_draft(anon, staff_token, sample_text):
    response = post_text(staff_token, sample_text.replace("needs human review: 0", "needs human review: 1"))
    assert response.status_code == 201
    slug = response.json()["slug"]
    assert Article.objects.get(slug=slug).state == ArticleState.DRAFT
    assert anon.get(detail_url(slug)).status_code == 404


def test_import_of_an_older_version_is_stale_and_changes_nothing(staff_token, sample_text):
    post_text(staff_token, sample_text)
    older = sample_text.replace("version: 1.5.4", "version: 1.5.3").replace(
        "difficultyadvanced", "difficultyeasy"
    )
    response = post_text(staff_token, older)
    assert response.status_code == 200 and response.json()["outcome"] == "stale"
    assert Article.objects.get().difficulty == "advanced"


def test_import_needs_staff(anon, member_client, sample_text):
    anonymous = post_text(anon, sample_text)
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"detail"}
    member = post_text(member_client, sample_text)
    assert member.status_code == 403 and "detail" in member.json()
    assert not Article.objects.exists()


def test_import_by_session_needs_the_csrf_token_and_by_token_does_not(staff, sample_text):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(staff)
    refused = post_text(browser, sample_text)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not Article.objects.exists()

    script = APIClient(enforce_csrf_checks=True)
    script.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    assert post_text(script, sample_text).status_code == 201


def test_import_takes_text_plain_only(staff_token, sample_text):
    response = post_text(staff_token, json.dumps({"text": sample_text}), content_type="application/json")
    assert response.status_code == 415 and "detail" in response.json()
    assert not Article.objects.exists()


@pytest.mark.parametrize("client_name", ["anon", "staff_session"])
def test_browsable_api_pages_render(request, sample_article, client_name):
    """Browsers asking for HTML get the browsable API, never a server error."""
    client = request.getfixturevalue(client_name)
    for url in (LIST_URL, detail_url(sample_article.slug), detail_url(sample_article.slug) + "similar/"):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
        assert "HTTP 200 OK" in response.content.decode()
    page = client.get(detail_url(sample_article.slug), HTTP_ACCEPT="text/html").content.decode()
    assert f"&quot;reference&quot;: &quot;{SAMPLE_REFERENCE}&quot;" in page
    assert client.get(IMPORT_URL, HTTP_ACCEPT="text/html").status_code in (401, 405)


def test_the_browsable_filter_form_names_every_filter(anon, sample_article):
    """The filters' form in the browsable API labels each field with its filter's name: filters
    that work through a method have no model field to take a label from, and django-filter then
    prints "[invalid name]"."""
    page = anon.get(LIST_URL, HTTP_ACCEPT="text/html").content.decode()
    labels = re.findall(r'<label for="id_([a-z_]+)"[^>]*>([^<]*)</label>', page)
    assert {name for name, _ in labels} == set(ArticleFilter.base_filters)
    assert [text for _, text in labels if "invalid" in text or not text.strip(": ")] == []
    assert dict(labels)["stack"] == "Stack:" and dict(labels)["search"] == "Search:"


def test_options_describe_the_routes(staff_token, sample_article):
    for url, methods in (
        (LIST_URL, {"GET"}),
        (detail_url(sample_article.slug), {"GET"}),
        (detail_url(sample_article.slug) + "similar/", {"GET"}),
        (IMPORT_URL, {"POST"}),
    ):
        response = staff_token.options(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        assert methods <= {method.strip() for method in response["Allow"].split(",")}
        assert "name" in response.json()


def test_read_only_routes_refuse_writes(staff_token, sample_article):
    for url in (LIST_URL, detail_url(sample_article.slug)):
        response = staff_token.post(url, data={"title": "x"}, format="json")
        assert response.status_code == 405 and "detail" in response.json()
    assert staff_token.delete(detail_url(sample_article.slug)).status_code == 405
    assert Article.objects.filter(pk=sample_article.pk).exists()


# -- schema and documentation -----------------------------------------------------------------


def get_schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3_and_describes_every_operation(anon):
    schema = get_schema(anon)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path, method in (
        ("/api/articles/", "get"),
        ("/api/articles/{slug}/", "get"),
        ("/api/articles/{slug}/similar/", "get"),
        ("/api/articles/{slug}/revisions/", "get"),
        ("/api/imports/", "post"),
    ):
        assert "200" in paths[path][method]["responses"], (method, path)
    assert "text/plain" in paths["/api/imports/"]["post"]["requestBody"]["content"]
    assert {"200", "201", "400"} <= set(paths["/api/imports/"]["post"]["responses"])


def test_schema_documents_every_list_parameter(anon):
    parameters = {p["name"]: p for p in get_schema(anon)["paths"]["/api/articles/"]["get"]["parameters"]}
    expected = {
        "page", "page_size", "fields", "reference", "stack", "tool", "entity", "entity_type", "difficulty",
        "code_language", "status", "needs_human_review", "has_images", "site", "search", "ordering",
        "reading_time_min", "reading_time_max", "reviewed_after", "reviewed_before",
    }  # fmt: skip
    expected |= {
        f"{score}_{end}" for score in ("quality", "freshness", "depth", "clarity") for end in ("min", "max")
    }
    assert expected <= set(parameters)
    orderings = set(parameters["ordering"]["schema"]["items"]["enum"])
    assert orderings == {f"{sign}{field}" for field in ORDERING_FIELDS for sign in ("", "-")} | {""}


def test_schema_documents_the_error_answers_and_both_list_item_shapes(anon):
    schema = get_schema(anon)
    paths = schema["paths"]
    assert {"200", "400", "404"} <= set(paths["/api/articles/"]["get"]["responses"])
    assert {"200", "404"} <= set(paths["/api/articles/{slug}/"]["get"]["responses"])
    assert {"200", "404"} <= set(paths["/api/articles/{slug}/similar/"]["get"]["responses"])
    page = paths["/api/articles/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][page["$ref"].rsplit("/", 1)[1]]
    item = page["properties"]["results"]["items"]
    shapes = schema["components"]["schemas"][item["$ref"].rsplit("/", 1)[1]]["oneOf"]
    assert {shape["$ref"].rsplit("/", 1)[1] for shape in shapes} == {"ArticleSummary", "ArticleMeta"}


def test_schema_marks_revisions_and_import_staff_only(anon):
    paths = get_schema(anon)["paths"]

    def allows_anonymous(operation):
        return {} in operation.get("security", [{}])

    assert allows_anonymous(paths["/api/articles/"]["get"])
    assert allows_anonymous(paths["/api/articles/{slug}/"]["get"])
    assert not allows_anonymous(paths["/api/imports/"]["post"])
    assert not allows_anonymous(paths["/api/articles/{slug}/revisions/"]["get"])


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_documents_the_answers_every_operation_can_give(anon):
    schema = get_schema(anon)
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        assert {"400", "401", "406", "429"} <= set(responses), (method, path)
        assert responses["429"]["headers"]["Retry-After"]["required"] is True
        if "requestBody" in operation:
            assert "415" in responses, (method, path)
        if {} not in operation["security"]:
            assert "403" in responses, (method, path)
        if "{slug}" in path:
            assert "404" in responses, (method, path)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                assert parameter["allowEmptyValue"] is True, (method, path, parameter["name"])
    writes = [(method, path) for method, path, operation in operations(schema) if method != "GET"]
    assert len(writes) == 8
    for method, path in writes:
        operation = schema["paths"][path][method.lower()]
        assert {} not in operation["security"], (method, path)  # PATCH too: writes need credentials
        assert operation["requestBody"]["content"].keys() == (
            {"text/plain"} if path == "/api/imports/" else {"application/json"}
        )


def test_the_schema_states_the_request_rules(anon):
    schema = get_schema(anon)
    components = schema["components"]["schemas"]
    patch = schema["paths"]["/api/articles/{slug}/"]["patch"]
    edit = components[patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert patch["requestBody"]["required"] is True
    assert edit["minProperties"] == 1 and edit["additionalProperties"] is False
    assert {"412"} <= set(patch["responses"]) and "409" not in patch["responses"]
    assert [p["name"] for p in patch["parameters"] if p["in"] == "header"] == ["If-Match"]
    for action in ("request-changes", "publish", "rollback", "archive"):
        operation = schema["paths"][f"/api/articles/{{slug}}/{action}/"]["post"]
        body = components[
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        ]
        assert operation["requestBody"]["required"] is True
        assert "note" in body["required"], action
        assert re.fullmatch(body["properties"]["note"]["pattern"], "x")
        assert not re.fullmatch(body["properties"]["note"]["pattern"], " \n\t")
    rollback = components["RollbackRequest"]
    assert rollback["anyOf"] == [{"required": ["revision"]}, {"required": ["version"]}]
    imports = schema["paths"]["/api/imports/"]["post"]["requestBody"]
    assert imports["required"] is True and imports["content"]["text/plain"]["schema"]["minLength"] == 1
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/articles/"]["get"]["parameters"]}
    assert parameters["quality_min"] == {"type": "integer", "minimum": 0, "maximum": 100}
    assert (
        parameters["reading_time_max"]["type"] == "integer" and parameters["reading_time_max"]["minimum"] == 0
    )
    assert parameters["page"]["minimum"] == 1 and parameters["page_size"]["minimum"] == 1
    assert parameters["fields"]["enum"] == ["full"]


@pytest.mark.parametrize("accept", ["application/xml", "text/csv"])
def test_an_accept_header_the_api_cannot_answer_is_a_406(anon, sample_article, accept):
    for url in (LIST_URL, detail_url(sample_article.slug)):
        response = anon.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 406 and response["Content-Type"] == "application/json"
        assert "detail" in response.json()


def test_the_api_root_lists_the_entry_points_for_everyone(anon):
    response = anon.get("/api/")
    assert response.status_code == 200
    assert response.json() == {
        "articles": "http://testserver/api/articles/",
        "imports": "http://testserver/api/imports/",
        "schema": "http://testserver/api/schema/",
        "docs": "http://testserver/api/docs/",
    }
    page = anon.get("/api/", HTTP_ACCEPT="text/html").content.decode()
    assert 'href="/admin/login/?next=/api/"' in page


def test_schema_passes_spectacular_validation(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=io.StringIO())
    assert "openapi: 3" in target.read_text()


EXTERNAL_HOSTS = ("cdn.jsdelivr", "unpkg", "cdnjs", "googleapis", "cloudflare")


def test_swagger_ui_is_served_from_the_apps_own_static_files(anon):
    page = anon.get("/api/docs/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "swagger-ui" in html
    for host in EXTERNAL_HOSTS:
        assert host not in html
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)
    assets = re.findall(r"""(?:src|href)=["']/static/([^"'?]+)""", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert finders.find(asset), asset

    script_url = re.search(r"""<script src=["'](/api/docs/\?[^"']*)""", html).group(1)
    script = anon.get(script_url)
    assert script.status_code == 200
    text = script.content.decode()
    assert "SwaggerUIBundle" in text and "/api/schema/" in text
    for host in EXTERNAL_HOSTS:
        assert host not in text


# -- HTTP: validators, caching, errors --------------------------------------------------------


@pytest.mark.parametrize("kind", ["detail", "list"])
def test_etag_and_last_modified_answer_304(anon, sample_article, kind):
    url = detail_url(sample_article.slug) if kind == "detail" else LIST_URL
    first = anon.get(url)
    assert first.status_code == 200
    etag, last_modified = first["ETag"], first["Last-Modified"]
    live_made_at = sample_article.release.live_revision.created_at  # when the live version was made
    assert etag and last_modified == http_date(live_made_at.timestamp())

    by_etag = anon.get(url, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.content == b""
    assert anon.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200

    by_date = anon.get(url, headers={"If-Modified-Since": last_modified})
    assert by_date.status_code == 304
    earlier = http_date(live_made_at.timestamp() - 3600)
    assert anon.get(url, headers={"If-Modified-Since": earlier}).status_code == 200


def test_etag_changes_when_the_article_changes(anon, staff_token, sample_article, sample_text):
    url = detail_url(sample_article.slug)
    etag = anon.get(url)["ETag"]
    changed = sample_text.replace("version: 1.5.4", "version: 1.5.5").replace(
        "difficultyadvanced", "difficultyeasy"
    )
    assert post_text(staff_token, changed).json()["outcome"] == "updated"
    response = anon.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response["ETag"] != etag
    assert response.json()["difficulty"] == "easy"


@pytest.mark.parametrize("route", ["list", "detail", "similar"])
def test_cache_control_is_public_for_anonymous_and_private_when_signed_in(
    anon, staff_client, sample_article, route
):
    url = {"list": LIST_URL, "detail": detail_url(sample_article.slug)}.get(route)
    url = url or detail_url(sample_article.slug) + "similar/"
    public = anon.get(url)
    assert re.fullmatch(r"public, max-age=[1-9]\d*", public["Cache-Control"])
    vary = {value.strip().lower() for value in public["Vary"].split(",")}
    assert {"cookie", "authorization"} <= vary
    private = staff_client.get(url)
    assert private.status_code == 200
    assert "private" in private["Cache-Control"] and "public" not in private["Cache-Control"]


@pytest.mark.parametrize(
    "query",
    [
        {"page_size": 0},
        {"page_size": -1},
        {"page_size": "abc"},
        {"quality_min": "99999999999999999999"},
        {"quality_max": "-99999999999999999999"},
        {"reading_time_min": "1e40"},
        {"quality_min": "1e309"},
        {"reviewed_after": "0001-01-01"},
        {"reviewed_before": "9999-12-31"},
        {"search": "' OR 1=1 --"},
        {"search": "%_\\"},
        {"stack": "<script>"},
        {"entity": "é" * 300},
        {"ordering": ""},
        {"ordering": "title,-quality"},
        {"fields": "nothing"},
    ],
)
def test_odd_list_queries_never_fail_the_server(anon, sample_article, query):
    response = anon.get(LIST_URL, query)
    assert response.status_code in (200, 400)
    assert response["Content-Type"] == "application/json"
    data = response.json()
    if response.status_code == 400:
        assert set(data) <= set(query)
    else:
        assert set(data) == {"count", "count_exact", "next", "previous", "results"}


# -- query budgets ----------------------------------------------------------------------------


@pytest.fixture
def many_articles(sample_text) -> list[Article]:
    """55 live articles with 1 to 12 tools, 1 to 8 entities and 4 to 10 images each."""
    sources = []
    for n in range(55):
        text = variant(
            sample_text,
            reference=f"bulk-{n:03d}",
            title=f"bulk article {n:03d}",
            tools=[f"tool {n % 12}-{k}" for k in range(n % 12 + 1)],
            entities=[(f"entity {n % 8}-{k}", f"type {k % 3}") for k in range(n % 8 + 1)],
            extra_images=n % 7,
        )
        sources.append(Source(f"bulk-{n:03d}.txt", text.encode("utf-8")))
    report = import_documents(sources)
    assert report.counts["created"] == 55, report.errors
    return list(Article.objects.order_by("reference"))


def test_full_list_page_of_50_takes_at_most_8_queries(anon, many_articles, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = anon.get(LIST_URL, {"fields": "full", "page_size": 50})
    items = response.json()["results"]
    assert len(items) == 50
    assert len({len(item["tools"]) for item in items}) == 12
    assert len({len(item["entities"]) for item in items}) == 8
    assert len({len(item["image_sources"]) for item in items}) == 7
    assert all(item["similar"] for item in items)


def test_summary_list_page_of_50_takes_at_most_8_queries(anon, many_articles, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = anon.get(LIST_URL, {"page_size": 50})
    assert len(response.json()["results"]) == 50


@pytest.mark.parametrize("query", [{}, {"include": "body"}])
def test_detail_takes_at_most_6_queries(anon, many_articles, django_assert_max_num_queries, query):
    article = many_articles[11]
    with django_assert_max_num_queries(6):
        response = anon.get(detail_url(article.slug), query)
    data = response.json()
    assert len(data["tools"]) == 12 and len(data["image_sources"]) == 8 and data["similar"]

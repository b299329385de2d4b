"""Every route of the URL configuration, with hostile values in every path parameter and query
parameter, as an anonymous visitor and as staff: no answer is a 5xx.

The routes come from ``get_resolver()``, walked through every include (the admin and the API
router included); each concrete URL is built from the pattern's converters (or its regex
groups), so a route this file cannot fill fails the test instead of going untested. Each path
parameter in turn gets every hostile value while the others keep a valid one (an object of the
``world`` fixture), and each query parameter a route reads gets every hostile value on a valid
URL of that route. PostgreSQL refuses a NUL in text and 64-bit overflows, so this test matters
most there; it runs on both databases.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter
from django.urls.resolvers import RegexPattern, RoutePattern
from rest_framework.authtoken.models import Token

from articles.api.filters import ArticleFilter
from articles.models import Article, ArticleState, Entity, Tag
from releases import services
from tests.articles.test_site import variant

pytestmark = pytest.mark.django_db

# The values every parameter is tried with (a path segment never holds "/" or "."; the router's
# lookups stop at them). Django decodes %00 in a path or query to U+0000.
HOSTILE = {
    "nul": "a\x00b",
    "overlong": "x" * 5000,
    "non-numeric": "abc",
    "unicode": "ünïcødé-√-中文-🙂",
    "huge number": "9" * 30,
    "overlong number": "9" * 5000,
}
ROLES = ("anonymous", "staff")

# How a path parameter is filled, by converter (routes) or by the regex of a group (re_path and
# the API router). Anything else is a route this test does not know how to fill.
CONVERTER_KINDS = {StringConverter: "text", SlugConverter: "text", PathConverter: "text", IntConverter: "int"}
GROUP_KINDS = {
    "[^/]+": "text",
    r"[^/\x00]+": "text",
    "[^/.]+": "text",
    ".*": "text",
    "[a-z0-9]+": "format",
}
CHOICE_GROUP = re.compile(r"^\w+(\|\w+)+$")  # an alternation of names: the admin's app labels

# Query parameters every route is tried with, and those particular routes read.
COMMON_QUERY = ("page", "q", "format")
ADMIN_QUERY = ("_popup", "_to_field", "_changelist_filters")  # the admin's object views read these
CHANGELIST_QUERY = ("o", "p", "e", "all")  # and its lists these, with their filters' own
ROUTE_QUERY = {
    "articles:home": ("stack", "tool", "difficulty", "code_language"),
    "articles:detail": ("revision",),
    "articles:search": (),
    "article-list": (*ArticleFilter.base_filters, "page_size", "fields", "search", "ordering"),
    "article-detail": ("include",),
    "admin:login": ("next",),
    "admin:logout": ("next",),
}


@dataclass
class Route:
    pattern: str  # as written, for messages
    name: str | None
    callback: object
    template: str  # the path with a {name} slot per parameter
    # name -> how it is filled: "text", "int", "format" or "choice:a|b|c"
    params: dict[str, str] = field(default_factory=dict)

    @property
    def methods(self) -> tuple[str, ...]:
        actions = getattr(self.callback, "actions", None)  # a viewset's method -> action
        if actions:
            return tuple(method.upper() for method in actions if method in ("get", "post", "patch"))
        if self.template.startswith("/admin/"):
            return ("GET", "POST")
        if self.template.startswith("/api/"):
            return ("GET",)
        return ("GET", "HEAD")


class Unfillable(Exception):
    pass


def routes() -> list[Route | Unfillable]:
    """Every URL pattern of the project, each with a template to fill and its name with its
    namespaces ("admin:...", "articles:...")."""
    found: list[Route | Unfillable] = []

    def walk(patterns, parts, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, [*parts, entry.pattern], inner)
            else:
                assert isinstance(entry, URLPattern)
                name = namespace + entry.name if entry.name else None
                try:
                    found.append(route_of([*parts, entry.pattern], name, entry.callback))
                except Unfillable as exc:
                    found.append(exc)

    walk(get_resolver().url_patterns, [], "")
    return found


def route_of(parts, name: str | None, callback) -> Route:
    route = Route(pattern="".join(str(part) for part in parts), name=name, callback=callback, template="")
    template = ""
    for part in parts:
        if isinstance(part, RoutePattern):
            template += fill_route(part, route)
        elif isinstance(part, RegexPattern):
            template += fill_regex(part, route)
        else:
            raise Unfillable(f"{route.pattern}: a {type(part).__name__} pattern")
    route.template = "/" + template
    return route


def fill_route(part: RoutePattern, route: Route) -> str:
    def slot(match):
        name = match.group("name")
        converter = part.converters[name]
        kind = CONVERTER_KINDS.get(type(converter))
        if kind is None and type(converter).__name__ == "FormatSuffixConverter":  # DRF's api-root
            kind = "format"
        if kind is None:
            raise Unfillable(f"{route.pattern}: converter {type(converter).__name__} of <{name}>")
        route.params[name] = kind
        return "{" + name + "}"

    text = str(part._route).replace("{", "{{").replace("}", "}}")
    return re.sub(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>", slot, text)


def fill_regex(part: RegexPattern, route: Route) -> str:
    regex = str(part._regex)
    out, index = "", 0
    regex = regex.removeprefix("^")
    regex = regex.removesuffix("$")
    while index < len(regex):
        if regex.startswith("(?P<", index):
            end = regex.index(">", index)
            name = regex[index + 4 : end]
            depth, cursor = 1, end + 1
            while depth:
                char = regex[cursor]
                if char == "\\":
                    cursor += 1
                elif char == "(":
                    depth += 1
                elif char == ")":
                    depth -= 1
                cursor += 1
            body = regex[end + 1 : cursor - 1]
            if body in GROUP_KINDS:
                route.params[name] = GROUP_KINDS[body]
            elif CHOICE_GROUP.match(body):
                route.params[name] = "choice:" + body
            else:
                raise Unfillable(f"{route.pattern}: the group {name} ({body}) of a regex")
            out += "{" + name + "}"
            index = cursor
        elif regex.startswith("\\.", index):
            out += "."
            index += 2
        elif regex.startswith("/?", index):
            out += "/"
            index += 2
        elif regex[index] in "^$*+?()[]{}|\\":
            raise Unfillable(f"{route.pattern}: regex syntax {regex[index:]!r}")
        else:
            out += regex[index]
            index += 1
    return out


# --------------------------------------------------------------------------- valid values

# (URL name, parameter) -> the value of a real object, from the world.
VALID = {
    ("admin:view_on_site", "content_type_id"): lambda w: w["article_type"],
    ("admin:view_on_site", "object_id"): lambda w: w["article"].pk,
    ("admin:auth_user_password_change", "id"): lambda w: w["staff"].pk,
    ("admin:articles_article_rollback", "number"): lambda w: 1,
    ("admin:articles_article_workflow", "action"): lambda w: "submit",
    (None, "url"): lambda w: "no-such-page",  # the admin's catch-all
    ("articles:detail", "slug"): lambda w: w["article"].slug,
    ("articles:card", "slug"): lambda w: w["article"].slug,
    ("articles:stack", "slug"): lambda w: w["stack"].slug,
    ("articles:tool", "slug"): lambda w: w["tool"].slug,
    ("articles:entity", "type"): lambda w: w["entity"].type,
    ("articles:entity", "slug"): lambda w: w["entity"].slug,
    ("article-revisions", "slug"): lambda w: w["article"].slug,
}
# The API router's article routes (detail, similar, every workflow action) take a slug.
API_ARTICLE_ROUTE = re.compile(r"^article-(detail|similar|workflow-[a-z-]+)$")


def admin_model(route: Route):
    """The model of an admin route: its ModelAdmin's, or the one its name starts with
    ("admin:articles_article_compare" is Article's)."""
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is not None:
        return model_admin.model
    for model in admin.site._registry:
        if (route.name or "").startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
            return model
    return None


def valid_value(route: Route, name: str, world) -> str:
    """A value of the parameter that names something real, so that the other parameters (and the
    query) reach the view. An id nothing in the world stands for is 1; other text must be known."""
    kind = route.params[name]
    if kind == "format":
        return "json"
    if kind.startswith("choice:"):
        return kind.removeprefix("choice:").split("|")[-1]
    model = admin_model(route)
    if name in ("object_id", "pk") and model is not None:
        return str(world["objects"][model]().pk)
    if name == "slug" and route.name and API_ARTICLE_ROUTE.match(route.name):
        return world["article"].slug
    maker = VALID.get((route.name, name))
    if maker is not None:
        return str(maker(world))
    if kind == "int":
        return "1"
    raise Unfillable(f"{route.pattern}: no valid value for <{name}> (add it to VALID)")


def build(route: Route, values: dict[str, str]) -> str:
    return route.template.format(**{name: quote(str(value), safe="") for name, value in values.items()})


@pytest.fixture
def world(sample_article, sample_text, editor, superuser):
    """A live article with a pending edit, a draft, tags, an entity, a group, a token."""
    services.article_edit(
        article=sample_article,
        user=editor,
        content={**services.pending_content(sample_article), "summary": "an edited summary"},
    )
    draft = variant(sample_text, 1, **{"needs human review: 0": "needs human review: 1"})
    Token.objects.create(user=superuser)
    live_tags = Tag.objects.filter(articles__state=ArticleState.PUBLISHED).order_by("id")
    return {
        "article": sample_article,
        "draft": draft,
        "staff": superuser,
        "article_type": ContentType.objects.get_for_model(Article).pk,
        "stack": live_tags.filter(kind=Tag.Kind.STACK).first(),
        "tool": live_tags.filter(kind=Tag.Kind.TOOL).first(),
        "entity": Entity.objects.filter(articles__state=ArticleState.PUBLISHED).order_by("id").first(),
        # Admin models -> a saved object of each (a callable: looked up when needed).
        "objects": _ObjectsOf({Group: lambda: Group.objects.get(name="Editors")}),
    }


class _ObjectsOf(dict):
    def __missing__(self, model):
        return lambda: model._default_manager.order_by("pk").first()


# --------------------------------------------------------------------------- the walk


def query_names(route: Route, staff: Client) -> tuple[str, ...]:
    names = [*COMMON_QUERY, *ROUTE_QUERY.get(route.name, ())]
    if route.template.startswith("/admin/"):
        names += ADMIN_QUERY
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is not None and route.name and route.name.endswith("_changelist"):
        # The changelist's own filters: the parameters each filter of the sidebar reads.
        names += CHANGELIST_QUERY
        response = staff.get(route.template)
        assert response.status_code == 200, route.pattern
        for spec in response.context["cl"].filter_specs:
            names += spec.expected_parameters()
    return tuple(dict.fromkeys(names))


def request(client: Client, method: str, url: str):
    """One request in a savepoint that is rolled back: each sees the same data, and a database
    error in one cannot break the next. Exceptions reach the caller (raise_request_exception)."""
    with transaction.atomic():
        if method == "POST" and url.startswith("/admin/"):
            response = client.post(url, {"note": "n", "bump": "patch", "post": "yes"})
        elif method in ("POST", "PATCH"):
            response = client.generic(method, url, '{"note": "n"}', content_type="application/json")
        else:
            response = client.generic(method, url)
        transaction.set_rollback(True)
    return response


def test_no_route_answers_5xx_to_hostile_path_or_query_values(world, settings):
    settings.READ_CACHE = False  # every request runs its view
    clients = {"anonymous": Client(), "staff": Client()}
    clients["staff"].force_login(world["staff"])
    failures, unfillable, tried = [], [], 0
    all_routes = routes()
    for route in all_routes:
        if isinstance(route, Unfillable):
            unfillable.append(str(route))
            continue
        caches["default"].clear()  # throttling counts in the cache: keep every request under the rate
        try:
            valid = {name: valid_value(route, name, world) for name in route.params}
            urls = []  # (method, url)
            for name in route.params:
                for value in HOSTILE.values():
                    urls += [(method, build(route, {**valid, name: value})) for method in route.methods]
            base = build(route, valid)
            for name in query_names(route, clients["staff"]):
                for value in HOSTILE.values():
                    urls.append(("GET", f"{base}?{urlencode({name: value})}"))
        except Unfillable as exc:
            unfillable.append(str(exc))
            continue
        assert urls or not route.params, route.pattern
        for role, client in clients.items():
            for method, url in urls:
                tried += 1
                try:
                    status = request(client, method, url).status_code
                except Exception as exc:  # the test client re-raises what the view raised
                    failures.append(f"{method} {url[:120]} as {role}: {type(exc).__name__}: {exc}"[:300])
                    continue
                if status >= 500:
                    failures.append(f"{method} {url[:120]} as {role}: {status}")
    assert unfillable == [], "routes this test cannot fill: teach it their parameters"
    assert failures == [], f"{len(failures)} of {tried} requests failed:\n" + "\n".join(failures[:60])
    assert len(all_routes) > 90 and tried > 5000  # the walk reached the admin and the API

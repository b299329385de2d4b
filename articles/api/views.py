"""The meta API: thin views over the selectors and the import service."""

import hashlib
import re

from django.db.models import F
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, routers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from articles import read_cache
from articles.api.filters import ArticleFilter, NamedFiltersBackend
from articles.api.serializers import (
    FILTER_ERRORS_SCHEMA,
    ArticleDetailSerializer,
    ArticleMetaSerializer,
    ArticleSummarySerializer,
    ErrorDetailSerializer,
    SimilarSerializer,
    represent,
)
from articles.content import content_prefetch, revision_block, tag_names
from articles.models import Article
from articles.paging import COUNT_LIMIT, CappedPaginator
from articles.selectors import article_meta, list_columns, live_dates, similar_articles, with_live_dates

META_SIMILAR = 5


class ArticlePagination(PageNumberPagination):
    """``page`` and ``page_size`` are whole numbers from 1 (else a 400 naming the parameter); a page
    past the last is a 404 and a page size over 100 gives 100; an empty value is no value.

    ``count`` is exact up to 1,000 matches, as on the reader pages; past that it is 1,000 and
    ``count_exact`` is false (``articles.paging``: counting further cost more than the rest of
    the answer). Every page is still served, and ``next`` is null on the last one."""

    django_paginator_class = CappedPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()

    def get_page_number(self, request, paginator):
        return _whole_number(request, self.page_query_param, default=1)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": min(paginator.count, paginator.count_limit),
                "count_exact": not paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        properties = answer["properties"]
        properties["count"]["description"] = (
            f"Matching items, counted up to {COUNT_LIMIT:,}; when count_exact is false there "
            f"are more than {COUNT_LIMIT:,} (every page is still served: follow next)."
        )
        answer["properties"] = {
            "count": properties.pop("count"),
            "count_exact": {"type": "boolean", "description": "Whether count is the exact number."},
            **properties,
        }
        answer["required"] = [*answer["required"], "count_exact"]
        return answer

    def get_page_size(self, request):
        return min(
            _whole_number(request, self.page_size_query_param, default=self.page_size), self.max_page_size
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Items per page, {self.page_size} unless given; more than {self.max_page_size} "
                    f"gives {self.max_page_size}."
                )
            else:
                parameter["description"] = "A page number; past the last page is a 404."
        return parameters


WHOLE_NUMBER = re.compile(r"([0-9]+)(?:\.0+)?")  # "2.0" is the JSON Schema integer 2


def _whole_number(request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    match = WHOLE_NUMBER.fullmatch(raw)
    if match is None or not match[1].strip("0"):
        raise ValidationError({name: ["Enter a whole number, 1 or more."]})
    try:
        return int(match[1])
    except ValueError:  # more digits than Python reads: past any page there is
        raise NotFound("Invalid page.") from None


class RouteMetadata(SimpleMetadata):
    """OPTIONS names the route, its renderers and parsers; bodies are described by /api/schema/.

    The views build their serializers per action, so there is no one serializer to describe.
    """

    def determine_actions(self, request, view):
        return {}


class BrowsableAPIWithoutForms(BrowsableAPIRenderer):
    """The browsable API without input forms: the import reads text/plain and edits take JSON,
    which these views describe in the schema rather than through one serializer. Its template is
    templates/rest_framework/api.html (sign-in link, nothing inline)."""

    def get_rendered_html_form(self, data, view, method, request):
        return None

    def get_raw_data_form(self, data, view, method, request):
        return None

    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        # Pygments' CSS for Markdown descriptions would be an inline <style>, which the
        # Content-Security-Policy refuses; the descriptions are plain text.
        context["code_style"] = None
        return context


class ApiRootView(routers.APIRootView):
    """The API's entry points, for everyone: the article list, the staff import, the OpenAPI schema
    and its interactive reference. Sign in (the admin's sign-in page) or send a token for more."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [JSONRenderer, BrowsableAPIWithoutForms]
    metadata_class = RouteMetadata
    ENTRY_POINTS = {
        "articles": "article-list",
        "imports": "import-list",
        "schema": "schema",
        "docs": "api-docs",
    }

    def get(self, request, *args, **kwargs):
        return Response({key: reverse(name, request=request) for key, name in self.ENTRY_POINTS.items()})


class HttpCachingMixin:
    """Validators and cache headers: anonymous reads are public, signed-in ones private, and staff
    ones, which may show drafts and pending work, are never stored anywhere.

    ETags come from ConditionalGetMiddleware (a digest of the body), which also answers 304.
    ``last_modified`` is when the live version was made, so work that is not live changes neither.
    """

    public_max_age = 60

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            if request.user.is_staff:
                response["Cache-Control"] = read_cache.UNPUBLISHED_CACHE_CONTROL
            elif request.user.is_authenticated:
                response["Cache-Control"] = "private, no-cache"
            else:
                response["Cache-Control"] = f"public, max-age={self.public_max_age}"
            last_modified = getattr(self, "last_modified", None)
            if last_modified is not None:
                response["Last-Modified"] = http_date(last_modified.timestamp())
        # Anonymous answers are public and differ from staff ones: caches must key on credentials.
        patch_vary_headers(response, ("Accept", "Cookie", "Authorization"))
        return response


INCLUDE_PARAMETER = OpenApiParameter(
    "include", OpenApiTypes.STR, enum=["body"], description="'body' adds the body blocks."
)
NOT_FOUND = OpenApiResponse(ErrorDetailSerializer, description="No article has that slug (for you).")
PARAMETER_ERRORS = OpenApiResponse(FILTER_ERRORS_SCHEMA, description="Invalid values, by parameter.")
LIST_ITEM = PolymorphicProxySerializer(
    component_name="ArticleListItem",
    serializers=[ArticleSummarySerializer, ArticleMetaSerializer],
    resource_type_field_name=None,
    many=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List articles",
        description="Live articles for anonymous clients; every article for staff.",
        responses={
            200: LIST_ITEM,
            400: PARAMETER_ERRORS,
            404: OpenApiResponse(ErrorDetailSerializer, description="No such page."),
        },
    ),
    retrieve=extend_schema(
        summary="An article's meta JSON",
        parameters=[INCLUDE_PARAMETER],
        responses={200: ArticleDetailSerializer, 400: PARAMETER_ERRORS, 404: NOT_FOUND},
    ),
)
class ArticleViewSet(HttpCachingMixin, viewsets.ReadOnlyModelViewSet):
    http_method_names = ["get", "head", "options"]
    lookup_field = "slug"
    # Any path segment reaches the view, so an unknown slug is always this API's JSON 404 (but for
    # NUL, which config/null_guard.py answers with a 400 first).
    lookup_value_regex = r"[^/\x00]+"
    filter_backends = [NamedFiltersBackend]
    filterset_class = ArticleFilter
    metadata_class = RouteMetadata
    renderer_classes = [JSONRenderer, BrowsableAPIWithoutForms]
    pagination_class = ArticlePagination
    permission_classes = [permissions.AllowAny]

    def get_queryset(self):
        queryset = with_live_dates(Article.objects.visible_to(self.request.user))
        if self.action == "list":
            if self.request.user.is_staff:
                # Drafts have no publication date: they come last.
                queryset = queryset.order_by(F("published_at").desc(nulls_last=True), "-id")
            else:
                # Live articles always have one: the order of the article_live_latest index.
                queryset = queryset.order_by("-published_at", "-id")
            if self._full_list():
                return content_prefetch(queryset)
            return list_columns(queryset)
        return queryset

    def _full_list(self) -> bool:
        return self.request.query_params.get("fields") == "full"

    def list(self, request, *args, **kwargs):
        return read_cache.serve(request, read_cache.lists(), self._list)

    def _list(self):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if self._full_list():
            similar = similar_articles([article.id for article in page], limit=META_SIMILAR)
            items = [article_meta(article, similar=similar[article.id]) for article in page]
            data = represent(ArticleMetaSerializer, items, many=True)
        else:
            data = represent(ArticleSummarySerializer, [_summary(article) for article in page], many=True)
        changed = [live_dates(article)["modified"] for article in page]
        self.last_modified = max((time for time in changed if time is not None), default=None)
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        return read_cache.serve(request, read_cache.article(slug=self._slug()), self._retrieve)

    def _retrieve(self):
        self._include()  # a bad value is a 400 before any lookup
        article = self._get_article()
        data = self._detail_data(article)
        self.last_modified = live_dates(article)["modified"]
        response = Response(data)
        response["ETag"] = self.detail_etag(article, data)
        return response

    def detail_etag(self, article: Article, data: dict) -> str:
        return _detail_etag(article, data)

    def _detail_data(self, article: Article) -> dict:
        similar = similar_articles([article.id], limit=META_SIMILAR)[article.id]
        include_body = self._include() == "body"
        return represent(
            ArticleDetailSerializer, article_meta(article, similar=similar), include_body=include_body
        )

    @extend_schema(
        summary="Similar live articles, best first",
        responses={200: SimilarSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def similar(self, request, slug=None, format=None):  # format: the router's ".json" suffix
        return read_cache.serve(request, read_cache.article(slug=self._slug()), self._similar)

    def _similar(self):
        article = self.get_queryset().filter(slug=self._slug()).first()
        if article is None:
            raise NotFound("No article has that slug.")
        return Response(represent(SimilarSerializer, similar_articles([article.id])[article.id], many=True))

    def _slug(self) -> str:
        slug = self.kwargs["slug"]
        if "\x00" in slug:  # never in a slug, and PostgreSQL refuses it in a query
            raise NotFound("No article has that slug.")
        return slug

    def _include(self) -> str:
        """``?include=``: "body" or nothing (an empty value is nothing); anything else is a 400."""
        include = self.request.query_params.get("include", "")
        if include not in ("", "body"):
            raise ValidationError({"include": [f"Select a valid choice: 'body', not {include[:40]!r}."]})
        return include

    def _get_article(self) -> Article:
        queryset = content_prefetch(self.get_queryset())
        article = queryset.filter(slug=self._slug()).first()
        if article is None:
            raise NotFound("No article has that slug.")
        return article


def _detail_etag(article: Article, data: dict) -> str:
    """The detail's ETag: its JSON and when its live version was made (pending work touches
    neither; staff's ETag also names the revision an edit starts from, ``releases.api``)."""
    digest = hashlib.md5(JSONRenderer().render(data), usedforsecurity=False)
    changed = live_dates(article)["modified"]
    digest.update(changed.isoformat().encode() if changed else b"")
    return f'"{digest.hexdigest()}"'


def _summary(article: Article) -> dict:
    stack, tools = tag_names(article)
    return {
        "slug": article.slug,
        "url": article.get_absolute_url(),
        "reference": article.reference,
        "title": article.title,
        "site": article.site,
        "state": article.state,
        "topic": article.topic,
        "difficulty": article.difficulty,
        "reading_time": article.reading_time,
        "stack": stack,
        "tools": tools,
        "revision": revision_block(article),
        "published_at": article.published_at,
    }

"""API views of the releases app: revision history and the workflow actions."""

from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from articles.api import views as articles_views
from articles.api.schema import text_pattern, trimmed_text_pattern
from articles.api.serializers import (
    ContentEditSerializer,
    ErrorDetailSerializer,
    ImportResultSerializer,
    JsonCharField,
    JsonIntegerField,
    RevisionSerializer,
)
from articles.api.views import BrowsableAPIWithoutForms, RouteMetadata
from articles.models import Article
from releases import services
from releases.importing import import_document
from releases.selectors import revisions_for


@extend_schema(
    summary="The versions kept for an article, newest first (staff only)",
    parameters=[
        # The route's slug converter: any other text is no route (404).
        OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern="^[-a-zA-Z0-9_]+$")
    ],
    responses={
        200: RevisionSerializer(many=True),
        401: OpenApiResponse(ErrorDetailSerializer, description="Not signed in."),
        403: OpenApiResponse(ErrorDetailSerializer, description="Staff only."),
        404: OpenApiResponse(ErrorDetailSerializer, description="No article has that slug."),
    },
)
class ArticleRevisionsView(articles_views.HttpCachingMixin, generics.ListAPIView):
    serializer_class = RevisionSerializer
    metadata_class = RouteMetadata
    renderer_classes = [JSONRenderer, BrowsableAPIWithoutForms]
    permission_classes = [permissions.IsAdminUser]
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        article = get_object_or_404(Article.objects.visible_to(self.request.user), slug=self.kwargs["slug"])
        return revisions_for(article)


# Notes are trimmed of whitespace (DRF) and may not hold NUL (DRF's CharField refuses it); the
# action layer (releases.services) refuses an empty note where the action requires one.
NUL = "\x00"


class NoteSerializer(serializers.Serializer):
    note = JsonCharField(
        required=False,
        allow_blank=True,
        schema_pattern=text_pattern(NUL),
        help_text="Why; kept in the audit trail.",
    )


class RequiredNoteSerializer(serializers.Serializer):
    """A note is required: the action layer refuses a missing or blank one (400), so the schema
    says so here while the serializer leaves the rule to it."""

    request_schema = {"required": ["note"]}

    note = JsonCharField(
        required=False,
        allow_blank=True,
        schema_pattern=trimmed_text_pattern(NUL),
        help_text="Why; required (something besides whitespace), kept in the audit trail.",
    )


class PublishSerializer(RequiredNoteSerializer):
    bump = serializers.ChoiceField(choices=services.BUMPS, default="patch", help_text="Which part to bump.")


class RollbackSerializer(RequiredNoteSerializer):
    """The revision to restore, by number or by version: the action layer refuses neither (400)."""

    request_schema = {"required": ["note"], "anyOf": [{"required": ["revision"]}, {"required": ["version"]}]}

    revision = JsonIntegerField(
        required=False,
        min_value=1,
        max_value=2_147_483_647,
        help_text="An earlier published revision's number.",
    )
    version = JsonCharField(
        required=False,
        max_length=40,
        trim_whitespace=False,
        schema_pattern=text_pattern(NUL),
        help_text="Or an earlier published version, e.g. 1.5.4, when only one published revision carries it.",
    )


class WorkflowResultSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    state = serializers.CharField(help_text="State of the live row: published, archived, or a review state.")
    review_state = serializers.CharField(help_text="State of the changes a reviewer works with.")
    version = serializers.CharField(allow_null=True, help_text="The live version.")
    revision = RevisionSerializer(allow_null=True, help_text="The revision the action made, if any.")


# Statuses of the workflow actions' own rules; those every operation shares (401, 406, 415, 429)
# are added by articles.api.schema.document_common_responses.
ERRORS = {
    400: OpenApiResponse(ErrorDetailSerializer, description="A note or a value is missing or invalid."),
    403: OpenApiResponse(ErrorDetailSerializer, description="Your role may not do this."),
    404: OpenApiResponse(ErrorDetailSerializer, description="No such article (for you)."),
    409: OpenApiResponse(
        ErrorDetailSerializer, description="Not allowed in the article's state, or a conflict."
    ),
}
PRECONDITION_FAILED = 412
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="Optional: the ETag you read (GET of the article, signed in), or *. When the article "
    "changed since, the edit is refused with 412 and nothing is written. Without it the edit applies "
    "to the current work.",
)


def workflow_response(article: Article, revision=None, status: int = 200) -> Response:
    data = WorkflowResultSerializer(
        {
            "slug": article.slug,
            "state": article.state,
            "review_state": services.review_state(article),
            "version": article.version,
            "revision": revision,
        }
    ).data
    return Response(data, status=status)


class ArticleWorkflowViewSet(viewsets.GenericViewSet):
    """Workflow actions on one article. Permissions and states are checked by the services."""

    lookup_field = "slug"
    lookup_value_regex = articles_views.ArticleViewSet.lookup_value_regex
    permission_classes = [permissions.IsAuthenticated]
    metadata_class = RouteMetadata
    renderer_classes = [JSONRenderer, BrowsableAPIWithoutForms]
    parser_classes = [parsers.JSONParser]
    filter_backends = []
    pagination_class = None

    def get_queryset(self):
        return Article.objects.visible_to(self.request.user)

    def _run(self, serializer_class, call):
        article = self.get_object()
        serializer = serializer_class(data=self.request.data)
        if not serializer.is_valid():
            first = next(iter(serializer.errors.items()))
            detail = f"{first[0]}: {first[1][0]}"
            return Response({"detail": detail, "errors": serializer.errors}, status=400)
        # A refusal (services.WorkflowError) is answered by releases.api_errors.exception_handler.
        outcome = call(article, serializer.validated_data)
        revision = outcome if hasattr(outcome, "number") else None
        article.refresh_from_db()
        return workflow_response(article, revision)

    @extend_schema(
        summary="Submit the draft for review",
        request=NoteSerializer,
        responses={200: WorkflowResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, slug=None, format=None):
        return self._run(
            NoteSerializer,
            lambda article, data: services.article_submit(
                article=article, user=request.user, note=data.get("note", "")
            ),
        )

    @extend_schema(
        summary="Approve the changes in review",
        request=NoteSerializer,
        responses={200: WorkflowResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, slug=None, format=None):
        return self._run(
            NoteSerializer,
            lambda article, data: services.article_approve(
                article=article, user=request.user, note=data.get("note", "")
            ),
        )

    @extend_schema(
        summary="Send the changes back with a note",
        request=RequiredNoteSerializer,
        responses={200: WorkflowResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, slug=None, format=None):
        return self._run(
            RequiredNoteSerializer,
            lambda article, data: services.article_request_changes(
                article=article, user=request.user, note=data.get("note", "")
            ),
        )

    @extend_schema(
        summary="Publish the approved changes with a version bump",
        request=PublishSerializer,
        responses={200: WorkflowResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, slug=None, format=None):
        return self._run(
            PublishSerializer,
            lambda article, data: services.article_publish(
                article=article, user=request.user, note=data.get("note", ""), bump=data["bump"]
            ),
        )

    @extend_schema(
        summary="Restore an earlier published version",
        request=RollbackSerializer,
        responses={200: WorkflowResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request, slug=None, format=None):
        return self._run(
            RollbackSerializer,
            lambda article, data: services.article_rollback(
                article=article,
                user=request.user,
                revision=data.get("revision"),
                version=data.get("version"),
                note=data.get("note", ""),
            ),
        )

    @extend_schema(
        summary="Take the article down (kept; publish again to restore)",
        request=RequiredNoteSerializer,
        responses={200: WorkflowResultSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, slug=None, format=None):
        return self._run(
            RequiredNoteSerializer,
            lambda article, data: services.article_archive(
                article=article, user=request.user, note=data.get("note", "")
            ),
        )


class PlainTextParser(parsers.BaseParser):
    """A request body of ``text/plain``, handed on as bytes: the importer decodes it."""

    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class ArticleViewSet(articles_views.ArticleViewSet):
    """The meta API with its writes: PATCH makes pending work.

    Reads are the articles app's; writes go through the action layer.
    """

    http_method_names = ["get", "head", "options", "patch", "post"]
    parser_classes = [parsers.JSONParser]

    @extend_schema(
        summary="Edit the article's pending work (editors)",
        description="Changes become a new pending revision; readers keep the live version until a "
        "reviewer publishes. Send If-Match with the ETag you read (signed in) to have the edit refused "
        "(412 Precondition Failed) when someone changed the article since; without it the edit applies "
        "to the current work. A PATCH that changes nothing makes no revision.",
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],
        parameters=[IF_MATCH],
        request=ContentEditSerializer,
        responses={
            200: WorkflowResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Invalid fields: each with its messages, or 'detail' and 'problems'.",
            ),
            403: OpenApiResponse(ErrorDetailSerializer, description="Your role may not edit."),
            404: articles_views.NOT_FOUND,
            PRECONDITION_FAILED: OpenApiResponse(
                ErrorDetailSerializer, description="If-Match names no current ETag of the article."
            ),
        },
    )
    def partial_update(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        article = self._get_article()
        serializer = ContentEditSerializer(data=request.data)
        unknown = sorted(set(request.data) - set(serializer.fields)) if isinstance(request.data, dict) else []
        if unknown:
            raise ValidationError({name: ["This field cannot be edited."] for name in unknown})
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data:
            raise ValidationError({"detail": "Send at least one field to change."})
        return article_patch(
            request,
            article,
            dict(serializer.validated_data),
            request.headers.get("If-Match"),
            lambda: self.detail_etag(article, self._detail_data(article)),
        )

    def detail_etag(self, article, data) -> str:
        """Signed-in clients' ETag also names the revision an edit would start from, so If-Match
        catches pending work saved since; anonymous clients' depends on live content only."""
        etag = super().detail_etag(article, data)
        if not self.request.user.is_authenticated:
            return etag
        working = services.working_revision(article)
        return f'{etag[:-1]}-r{working.number if working else 0}"'


class ImportViewSet(viewsets.ViewSet):
    """POST /api/imports/: one page-text document in, one import result out.

    Imports are a collection of their own, apart from ``/api/articles/{slug}/``, so no article
    slug can ever collide with the route.
    """

    permission_classes = [permissions.IsAdminUser]
    parser_classes = [PlainTextParser]
    metadata_class = RouteMetadata
    renderer_classes = [JSONRenderer, BrowsableAPIWithoutForms]

    @extend_schema(
        summary="Import one page-text document",
        description="Staff only. The body is one document as text/plain. 201 when it created an "
        "article, 200 when it updated one or changed nothing, 400 when it failed. The answer comes "
        "once the import is committed durably.",
        request={"text/plain": {"type": "string", "minLength": 1}},
        responses={
            201: OpenApiResponse(ImportResultSerializer, description="It created an article."),
            200: OpenApiResponse(ImportResultSerializer, description="It updated one, or changed nothing."),
            400: OpenApiResponse(ImportResultSerializer, description="It failed: the errors say why."),
        },
    )
    def create(self, request):
        data = request.data if isinstance(request.data, bytes) else b""
        result = import_document(data, path="<request>", user=request.user)
        code = {"created": status.HTTP_201_CREATED, "failed": status.HTTP_400_BAD_REQUEST}.get(
            result.outcome, status.HTTP_200_OK
        )
        return Response(ImportResultSerializer(result.as_dict()).data, status=code)


def article_patch(request, article: Article, changes: dict, if_match: str | None, current_etag) -> Response:
    """PATCH /api/articles/{slug}/: edit the pending draft; live content stays as it is.

    ``if_match`` is the If-Match header (RFC 9110 13.1.1): ``*``, or the ETags the client read, one of
    which must be the article's current one (strong comparison: a weak ETag never matches);
    ``current_etag()`` gives it. Otherwise 412 Precondition Failed, and nothing is written. The edit
    then starts from the revision that ETag names, so work saved in between is a 412 as well.
    """
    base_number = None
    working = services.working_revision(article)
    if if_match:
        tags = parse_etags(if_match)
        if tags != ["*"] and current_etag() not in tags:
            return _precondition_failed()
        base_number = working.number if working else None
    content = {**services.pending_content(article), **changes}
    try:
        revision = services.article_edit(
            article=article, user=request.user, content=content, base_number=base_number
        )
    except services.EditConflict:
        return _precondition_failed()
    article.refresh_from_db()
    return workflow_response(article, revision)


def _precondition_failed() -> Response:
    return Response(
        {
            "detail": "The article changed since you read it (If-Match names no current ETag of it). "
            "Read it again and reapply your changes."
        },
        status=PRECONDITION_FAILED,
    )

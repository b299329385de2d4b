"""API views of the releases app: revision history and the workflow actions."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from articles.api import views as articles_views
from articles.api.serializers import (
    ContentEditSerializer,
    ErrorDetailSerializer,
    ImportResultSerializer,
    RevisionSerializer,
)
from articles.api.views import BrowsableAPIWithoutForms, RouteMetadata
from articles.models import Article
from releases import services
from releases.importing import import_document
from releases.selectors import revisions_for


@extend_schema(
    summary="The versions kept for an article, newest first (staff only)",
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
    permission_classes = [permissions.IsAdminUser]
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        article = get_object_or_404(Article.objects.visible_to(self.request.user), slug=self.kwargs["slug"])
        return revisions_for(article)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, help_text="Why; kept in the audit trail.")


class RequiredNoteSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, help_text="Why; required, kept in the audit trail.")


class PublishSerializer(RequiredNoteSerializer):
    bump = serializers.ChoiceField(choices=services.BUMPS, default="patch", help_text="Which part to bump.")


class RollbackSerializer(RequiredNoteSerializer):
    revision = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2_147_483_647,
        help_text="An earlier published revision's number.",
    )
    version = serializers.CharField(
        required=False,
        max_length=40,
        help_text="Or an earlier published version, e.g. 1.5.4, when only one published revision carries it.",
    )

    def validate(self, attrs):
        if attrs.get("revision") is None and not attrs.get("version"):
            raise serializers.ValidationError(
                {"revision": ["Name the revision (or the version) to restore."]}
            )
        return attrs


class WorkflowResultSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    state = serializers.CharField(help_text="State of the live row: published, archived, or a review state.")
    review_state = serializers.CharField(help_text="State of the changes a reviewer works with.")
    version = serializers.CharField(allow_null=True, help_text="The live version.")
    revision = RevisionSerializer(allow_null=True, help_text="The revision the action made, if any.")


ERRORS = {
    400: OpenApiResponse(ErrorDetailSerializer, description="A note or a value is missing or invalid."),
    403: OpenApiResponse(ErrorDetailSerializer, description="Your role may not do this."),
    404: OpenApiResponse(ErrorDetailSerializer, description="No such article (for you)."),
    409: OpenApiResponse(
        ErrorDetailSerializer, description="Not allowed in the article's state, or a conflict."
    ),
}


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


def error_response(error: services.WorkflowError) -> Response:
    body = {"detail": error.message}
    if getattr(error, "problems", None):
        body["problems"] = error.problems
    return Response(body, status=error.status)


class ArticleWorkflowViewSet(viewsets.GenericViewSet):
    """Workflow actions on one article. Permissions and states are checked by the services."""

    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    permission_classes = [permissions.IsAuthenticated]
    metadata_class = RouteMetadata
    renderer_classes = [JSONRenderer, BrowsableAPIWithoutForms]
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
        try:
            outcome = call(article, serializer.validated_data)
        except services.WorkflowError as error:
            return error_response(error)
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
                article=article, user=request.user, note=data["note"]
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
                article=article, user=request.user, note=data["note"], bump=data["bump"]
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
                note=data["note"],
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
                article=article, user=request.user, note=data["note"]
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

    @extend_schema(
        summary="Edit the article's pending work (editors)",
        description="Changes become a new pending revision; readers keep the live version until a "
        "reviewer publishes. Send If-Match with the ETag you read to refuse the edit (409) when "
        "someone changed the article since; without it the edit applies to the current work. "
        "A PATCH that changes nothing makes no revision.",
        request=ContentEditSerializer,
        responses={
            200: WorkflowResultSerializer,
            400: OpenApiTypes.OBJECT,
            401: OpenApiResponse(ErrorDetailSerializer, description="Not signed in."),
            403: OpenApiTypes.OBJECT,
            404: articles_views.NOT_FOUND,
            409: OpenApiTypes.OBJECT,
        },
    )
    def partial_update(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        article = self._get_article()
        serializer = ContentEditSerializer(data=request.data, partial=True)
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
        request={"text/plain": OpenApiTypes.STR},
        responses={201: ImportResultSerializer, 200: ImportResultSerializer, 400: ImportResultSerializer},
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

    ``if_match`` is the ETag the client read; ``current_etag()`` gives the article's ETag now.
    """
    base_number = None
    working = services.working_revision(article)
    if if_match:
        if if_match.strip() not in ("*", current_etag()):
            return Response(
                {
                    "detail": "The article changed since you read it (If-Match does not match its ETag). "
                    "Read it again and reapply your changes."
                },
                status=409,
            )
        base_number = working.number if working else None
    content = {**services.pending_content(article), **changes}
    try:
        revision = services.article_edit(
            article=article, user=request.user, content=content, base_number=base_number
        )
    except services.WorkflowError as error:
        return error_response(error)
    article.refresh_from_db()
    return workflow_response(article, revision)

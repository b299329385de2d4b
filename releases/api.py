"""API views of the releases app."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions
from rest_framework.generics import get_object_or_404

from articles.api.serializers import RevisionSerializer
from articles.models import Article
from releases.selectors import revisions_for


@extend_schema(summary="The versions kept for an article, newest first (staff only)")
class ArticleRevisionsView(generics.ListAPIView):
    serializer_class = RevisionSerializer
    permission_classes = [permissions.IsAdminUser]
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        article = get_object_or_404(Article.objects.visible_to(self.request.user), slug=self.kwargs["slug"])
        return revisions_for(article)

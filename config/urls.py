"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from articles.api.views import ApiRootView
from config.health import health
from releases.api import ArticleRevisionsView, ArticleViewSet, ArticleWorkflowViewSet, ImportViewSet

router = DefaultRouter()
router.APIRootView = ApiRootView  # GET /api/: the entry points, for everyone
router.register("articles", ArticleViewSet, basename="article")
router.register("articles", ArticleWorkflowViewSet, basename="article-workflow")
router.register("imports", ImportViewSet, basename="import")

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/articles/<slug:slug>/revisions/", ArticleRevisionsView.as_view(), name="article-revisions"),
    path("api/", include(router.urls)),
    path("", include("articles.urls")),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.not_found"
handler500 = "config.errors.failed"

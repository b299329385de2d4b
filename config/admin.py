"""The admin site, with the review queue's size on its index page."""

from django.contrib import admin


class KnowledgeBaseAdminSite(admin.AdminSite):
    site_header = "Release knowledge base"
    site_title = "Knowledge base admin"
    index_title = "Editorial desk"

    def index(self, request, extra_context=None):
        from releases.selectors import review_queue

        extra = {"review_queue_count": review_queue().count(), **(extra_context or {})}
        return super().index(request, extra)

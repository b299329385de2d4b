"""The admin site: the editorial desk's counts and recent actions on its index page, throttled sign-in."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from config.signin.forms import ThrottledAuthenticationForm


class KnowledgeBaseAdminSite(admin.AdminSite):
    site_header = "Release knowledge base"
    site_title = "Knowledge base admin"
    index_title = "Editorial desk"
    login_form = ThrottledAuthenticationForm

    def index(self, request, extra_context=None):
        from releases.selectors import audit_trail_recent, desk_counts

        extra = {
            "desk": desk_counts(request.user) if request.user.has_perm("articles.view_article") else None,
            "recent_events": audit_trail_recent()[:10]
            if request.user.has_perm("releases.view_auditevent")
            else [],
            **(extra_context or {}),
        }
        return super().index(request, extra)

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        """The sign-in page; a throttled attempt gets the form back with HTTP 429 and Retry-After."""
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        retry_after = getattr(form, "retry_after", 0)
        if retry_after:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response

"""HEAD answered like GET (RFC 9110): the same status and headers, the ETag included."""

from django.middleware.http import ConditionalGetMiddleware as DjangoConditionalGetMiddleware
from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.http import parse_http_date_safe


class ConditionalGetMiddleware(DjangoConditionalGetMiddleware):
    """Django's ConditionalGetMiddleware, for HEAD as well as GET.

    Django leaves HEAD alone because a HEAD answer's body may already be empty. Here every view
    renders the GET body for HEAD too (the server drops it on the way out), so the ETag is the
    GET's, and If-None-Match gets the same 304. An empty body gets no ETag (as for GET).
    """

    def process_response(self, request, response):
        if request.method != "HEAD":
            return super().process_response(request, response)
        if self.needs_etag(response) and not response.has_header("ETag"):
            set_response_etag(response)
        etag = response.get("ETag")
        last_modified = response.get("Last-Modified")
        last_modified = last_modified and parse_http_date_safe(last_modified)
        if etag or last_modified:
            return get_conditional_response(
                request, etag=etag, last_modified=last_modified, response=response
            )
        return response

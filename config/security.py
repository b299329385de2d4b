"""Security headers Django does not set itself: a strict Content-Security-Policy and friends."""

from urllib.parse import urlsplit

from django.conf import settings


def image_sources(hosts: list[str], media_url: str) -> str:
    """The CSP's img-src: this site, data: URLs (the API docs' icons), the hosts article images
    come from (``IMAGE_HOSTS``) and the origin of uploads when ``MEDIA_URL`` is on another host."""
    sources = ["'self'", "data:", *hosts]
    media = urlsplit(media_url)
    if media.scheme in ("http", "https") and media.netloc:
        sources.append(f"{media.scheme}://{media.netloc}")
    return " ".join(dict.fromkeys(sources))


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {image_sources(settings.IMAGE_HOSTS, settings.MEDIA_URL)}",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy (no inline script or style anywhere) and a Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

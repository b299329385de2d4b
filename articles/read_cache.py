"""The anonymous read cache: whole answers for readers and API clients who are not signed in.

Entries are keyed by Django's own cache helpers (``learn_cache_key`` / ``get_cache_key``: the
absolute URL and the values of the headers the answer ``Vary``s on), and each entry carries the
versions of the *namespaces* it was built from:

- ``article:<slug>``: one article's reader page, its API detail and its similar endpoint;
- ``lists``: everything that lists articles (home, browse pages, search, the API's list, the feed
  and the sitemap);
- ``all``: every entry (a similar-posts rebuild, a backup restore).

A namespace's version is a random token kept in the cache itself (``read:ns:<name>``). The
versions an answer depends on are read (one ``get_many``) *before* the answer is built, so a
change that commits while it is being built leaves the entry stale, never wrong. A hit is an
entry whose namespaces all still hold the tokens it recorded; a namespace that is missing (never
made, evicted, or bumped) gets a new random token, so it can only make entries invalid, never
valid. A hit costs three cache reads (versions, the URL's Vary list, the entry) and no SQL query.

Invalidating is deleting namespace keys, after the writing transaction commits
(``articles.changes.articles_changed`` registers it with ``transaction.on_commit``): no row
every writer must lock, and work readers cannot see (drafts, pending revisions, reviews,
comments, schedules) deletes nothing. A live change deletes its articles' namespaces, those of
the articles that show them as similar posts, and ``lists``; the rest of the site stays cached.

A process that dies between a commit and its bump leaves the entries of those namespaces as they
were until they expire: at most ``READ_CACHE_TIMEOUT`` seconds of a previous live version. That
never shows a draft: an article that was never live answers anonymous clients with a 404, and
only 200 answers are stored, so there is no entry of it to go stale.

Only what can be shared is stored: never an answer that sets a cookie, is ``private`` or
``no-store``, ``Vary: *``, or whose rendering asked for a CSRF token (CsrfViewMiddleware adds
that cookie after the view returns, so it is checked here). Signed-in users and requests with
credentials are never served from the cache and never stored. Cacheable answers say
``X-Read-Cache: hit`` or ``miss``.

Entries are kept apart by the build that made them (``settings.BUILD_ID``, config/build.py):
after a deploy, no process serves a page of the old templates or static names; the namespaces
are shared by every build, so a live change invalidates the old build's entries too.

The namespaces must be seen by every process that writes or reads (web workers, the importer,
``publish_scheduled``): the cache is ``settings.READ_CACHE_ALIAS``, a file cache on the machine
by default and Redis (``CACHE_URL``) across machines. ``READ_CACHE=0`` turns it off.
"""

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import cc_delim_re, get_cache_key, get_max_age, has_vary_header, learn_cache_key

# What staff see and readers do not (a draft, a preview of a revision, pending work) is kept by no
# cache, shared or the browser's: the reader page of a draft or preview, staff's API answers.
UNPUBLISHED_CACHE_CONTROL = "private, no-store"

HEADER = "X-Read-Cache"
KEY_PREFIX = "read"
NAMESPACE_PREFIX = "read:ns:"
LISTS = "lists"
ALL = "all"


def enabled() -> bool:
    return settings.READ_CACHE


def _cache():
    return caches[settings.READ_CACHE_ALIAS]


# -- namespaces ----------------------------------------------------------------------------------


SLUG_KEY = re.compile(r"[A-Za-z0-9_-]{1,120}")


def article_namespace(slug: str) -> str:
    """``article:<slug>``; any other text an address carries (spaces, long) as its digest, so that
    every key is valid for every backend."""
    if not SLUG_KEY.fullmatch(slug):
        slug = "~" + hashlib.sha256(slug.encode()).hexdigest()
    return f"article:{slug}"


def _namespace_key(name: str) -> str:
    return NAMESPACE_PREFIX + name


def versions(names: Iterable[str]) -> dict[str, str]:
    """The current token of each namespace (by cache key), making missing ones: one ``get_many``,
    and one ``add`` per missing namespace."""
    cache = _cache()
    keys = [_namespace_key(name) for name in dict.fromkeys([*names, ALL])]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            token = secrets.token_hex(8)
            # Another process may have made it meanwhile: then its token is the one to keep.
            found[key] = token if cache.add(key, token, None) else (cache.get(key) or token)
    return found


def invalidate(names: Iterable[str]) -> None:
    """Make every entry built from these namespaces stale: their tokens are deleted, and the next
    reader makes new ones."""
    keys = [_namespace_key(name) for name in dict.fromkeys(names)]
    if keys:
        _cache().delete_many(keys)


# -- serving -------------------------------------------------------------------------------------


def cacheable(request: HttpRequest) -> bool:
    """Anonymous reads: no session user, no credentials of any kind (a token that does not work
    must still be refused)."""
    return (
        enabled()
        and request.method in ("GET", "HEAD")
        and "HTTP_AUTHORIZATION" not in request.META
        and not request.user.is_authenticated
    )


def _lookup(request: HttpRequest, names: list[str]) -> tuple[HttpResponse | None, dict[str, str]]:
    """The stored answer when it is still current, and the namespaces' tokens as of now."""
    cache = _cache()
    current = versions(names)
    key = get_cache_key(request, _entry_prefix(), method="GET", cache=cache)
    entry = cache.get(key) if key is not None else None
    if entry is None or any(current.get(name) != token for name, token in entry["versions"].items()):
        return None, current
    response = HttpResponse(entry["content"], status=entry["status"])
    for name, value in entry["headers"]:
        response[name] = value
    return response, current


def _entry_prefix() -> str:
    """Stored answers are this build's own (config/build.py); the namespaces are everyone's."""
    return f"{KEY_PREFIX}.{settings.BUILD_ID}"


def cache_control_directives(response: HttpResponseBase) -> set[str]:
    """The names of an answer's Cache-Control directives, lower-cased (``private="Set-Cookie"``
    is ``private``)."""
    return {
        part.strip().split("=")[0].lower() for part in cc_delim_re.split(response.get("Cache-Control", ""))
    }


def storable(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether an answer may be served to every anonymous client."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if has_vary_header(response, "*"):
        return False
    if cache_control_directives(response) & {"private", "no-store", "no-cache"} or get_max_age(response) == 0:
        return False
    # The view asked for a CSRF token: the middleware will set a cookie on this answer.
    return not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")


def _store(request: HttpRequest, response: HttpResponse, current: dict[str, str]) -> None:
    if request.method != "GET" or not storable(request, response):
        return
    cache = _cache()
    timeout = settings.READ_CACHE_TIMEOUT
    key = learn_cache_key(request, response, timeout, _entry_prefix(), cache=cache)
    headers = [(name, value) for name, value in response.items() if name.lower() != HEADER.lower()]
    entry = {
        "versions": current,
        "status": response.status_code,
        "content": response.content,
        "headers": headers,
    }
    cache.set(key, entry, timeout)


def serve(request: HttpRequest, names: list[str], build: Callable[[], HttpResponse]) -> HttpResponse:
    """The answer to ``request`` from the cache, or built by ``build`` and stored when it may be.

    An answer that is rendered later (DRF's) is stored once rendered, with the headers its view
    adds on the way out.
    """
    if not cacheable(request):
        return build()
    request = getattr(request, "_request", request)  # the HttpRequest under a DRF Request
    cached, current = _lookup(request, names)
    if cached is not None:
        cached[HEADER] = "hit"
        return cached
    response = build()
    response[HEADER] = "miss"
    if getattr(response, "is_rendered", True):
        _store(request, response, current)
    else:
        response.add_post_render_callback(lambda rendered: _store(request, rendered, current))
    return response


def anonymous_page(namespaces: Callable[..., list[str]]):
    """Decorate a reader view: ``namespaces(**view_kwargs)`` names what its answer shows."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            return serve(request, namespaces(**kwargs), lambda: view(request, *args, **kwargs))

        return wrapper

    return decorator


def lists(**_kwargs) -> list[str]:
    return [LISTS]


def article(*, slug: str, **_kwargs) -> list[str]:
    return [article_namespace(slug)]

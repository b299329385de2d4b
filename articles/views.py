"""Reader pages: thin views over the selectors; templates show every piece of text as text."""

from functools import lru_cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.paginator import InvalidPage
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from articles import read_cache, selectors, seo
from articles.cards import card_png
from articles.models import Tag
from articles.paging import CappedPaginator


def _page(request, queryset):
    """The requested page of a list, counted up to 1,000 (``articles.paging``); 404 for a page
    number that is not one of its pages, so that no address serves a copy of page 1 (no ``page``
    at all is page 1)."""
    try:
        return CappedPaginator(queryset, selectors.READER_PAGE_SIZE).page(request.GET.get("page", 1))
    except InvalidPage:
        raise Http404("No such page of this list.") from None


@require_safe
@read_cache.anonymous_page(read_cache.lists)
def home(request):
    filters = {
        name: request.GET.get(name, "").strip() for name in ("stack", "tool", "difficulty", "code_language")
    }
    page = _page(request, selectors.live_articles(**filters))
    choices = selectors.filter_choices()
    head = seo.home_head(request, page=page, filters=filters, choices=choices)
    return render(
        request,
        "articles/home.html",
        {"page": page, "filters": filters, "choices": choices, "query": "", "seo": head},
    )


@require_safe
@read_cache.anonymous_page(read_cache.article)
def article_detail(request, slug):
    article, content, preview = selectors.article_page(
        slug=slug, user=request.user, revision=request.GET.get("revision")
    )
    similar = selectors.similar_articles([article.id], limit=5)[article.id]
    head = seo.article_head(request, article=article, content=content, **selectors.live_dates(article))
    response = render(
        request,
        "articles/detail.html",
        {"article": article, "meta": content, "similar": similar, "preview": preview, "seo": head},
    )
    if preview:  # a draft, or a revision staff asked for: only staff get here
        response["Cache-Control"] = read_cache.UNPUBLISHED_CACHE_CONTROL
    return response


@require_safe
@read_cache.anonymous_page(read_cache.lists)
def stack_page(request, slug):
    return _tag_page(request, Tag.Kind.STACK, slug)


@require_safe
@read_cache.anonymous_page(read_cache.lists)
def tool_page(request, slug):
    return _tag_page(request, Tag.Kind.TOOL, slug)


def _tag_page(request, kind, slug):
    tag, articles = selectors.tag_page(kind=kind, slug=slug)
    heading = f"{'Stack' if kind == Tag.Kind.STACK else 'Tool'}: {tag.name}"
    about = f"the {'stack' if kind == Tag.Kind.STACK else 'tool'} {tag.name}"
    return _browse(request, heading, about, articles)


@require_safe
@read_cache.anonymous_page(read_cache.lists)
def entity_page(request, type, slug):
    entity, articles = selectors.entity_page(type=type, slug=slug)
    heading = f"{entity.type.capitalize()}: {entity.name}"
    return _browse(request, heading, f"{entity.name} ({entity.type})", articles)


def _browse(request, heading, about, articles):
    page = _page(request, articles)
    head = seo.browse_head(request, heading=heading, about=about, page=page)
    return render(request, "articles/browse.html", {"heading": heading, "page": page, "seo": head})


@require_safe
@read_cache.anonymous_page(read_cache.lists)
def search(request):
    query = request.GET.get("q", "").strip()[:200]
    page = _page(request, selectors.search_live_articles(query))
    snippets = selectors.search_snippets(query, page.object_list)
    for article in page.object_list:
        article.search_snippet = snippets.get(article.id, "")
    correction = selectors.search_correction(query) if query and not page.object_list else None
    head = seo.search_head(request, query=query, page=page)
    return render(
        request,
        "articles/search.html",
        {"page": page, "query": query, "correction": correction, "seo": head},
    )


@require_safe
def search_suggest(request):
    """Titles of the best matches of what is typed in the search box (``?q=rollb``), as JSON:
    ``{"query": ..., "results": [{"title": ..., "url": ...}]}``; fewer than 3 characters find
    nothing. Read by static/js/search-suggest.js."""
    query = request.GET.get("q", "").strip()[:200]
    results = selectors.search_suggestions(query) if len(query) >= SUGGEST_MIN_CHARS else []
    response = JsonResponse({"query": query, "results": results})
    response["Cache-Control"] = "public, max-age=60"
    return response


SUGGEST_MIN_CHARS = 3


@require_safe
def card(request, slug):
    """The article's 1200x630 social card, drawn once per version of the article."""
    article, content, _ = selectors.article_page(slug=slug, user=None)
    response = HttpResponse(card_png(article, content), content_type="image/png")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for on their own: the site's icon from its static files."""
    response = HttpResponse(_favicon_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@lru_cache(maxsize=1)
def _favicon_bytes() -> bytes:
    return Path(finders.find("favicon.ico")).read_bytes()

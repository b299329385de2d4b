"""What the reader pages tell crawlers, link previews and feed readers about themselves.

One home for the page title rule (at most 70 characters), canonical addresses, descriptions,
Open Graph tags and the article's schema.org JSON-LD, so every page says it the same way.
Templates render what these functions return; they decide nothing.
"""

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

SITE_NAME = "Release knowledge base"
SITE_DESCRIPTION = "Technical articles on releasing software safely, reviewed before they go live."
TITLE_MAX = 70
DESCRIPTION_MAX = 200
ELLIPSIS = "…"
_TITLE_SUFFIX = f" · {SITE_NAME}"
# Separators a shortened text does not end on, before its ellipsis.
_TRAILING = " ,;:·-–—"
# Characters that would let text end or open an element inside <script>: JSON escapes them.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters with an
    ellipsis when it is longer (a single word longer than that is cut inside)."""
    text = " ".join(str(text or "").split())
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = text[:room]
    if text[room] != " " and " " in cut:  # the cut falls inside a word: leave that word out
        cut = cut[: cut.rindex(" ")]
    cut = cut.rstrip(_TRAILING)
    return (cut or text[:room]) + ELLIPSIS


def page_title(text: str) -> str:
    """The ``<title>`` of a page about ``text``: with the site's name when both fit in 70
    characters, else ``text`` alone, shortened to 70 on a word boundary."""
    text = " ".join(str(text or "").split())
    if not text:
        return SITE_NAME
    if len(text) + len(_TITLE_SUFFIX) <= TITLE_MAX:
        return text + _TITLE_SUFFIX
    return shorten(text, TITLE_MAX)


def absolute_url(request: HttpRequest, path: str, params: dict[str, Any] | None = None) -> str:
    """``path`` on this site as an absolute URL, with the query ``params`` that are not empty,
    in the order given."""
    query = urlencode([(name, value) for name, value in (params or {}).items() if value not in (None, "")])
    return request.build_absolute_uri(path + (f"?{query}" if query else ""))


def _page_number(page) -> int | None:
    """The page's number when it is not the first: the first page's address has no ``page``."""
    return page.number if page is not None and page.number > 1 else None


def _page_note(page) -> str:
    if page is None or page.number <= 1:
        return ""
    if page.paginator.capped:
        return f" Page {page.number}."
    return f" Page {page.number} of {page.paginator.num_pages}."


def _count(page) -> str:
    if page.paginator.capped:
        return f"more than {page.paginator.count_limit:,} articles"
    total = page.paginator.count
    return f"{total} article{'' if total == 1 else 's'}"


def listing(
    request: HttpRequest,
    *,
    title: str,
    description: str,
    path: str,
    params: dict[str, Any] | None = None,
    page=None,
    noindex: bool = False,
) -> dict[str, Any]:
    """The head of a list page: its title, description, and self-referencing canonical URL that
    keeps the query that chooses what the page shows (``params``, then ``page`` after the first)."""
    page_number = _page_number(page)
    if page_number:
        title = f"{title}, page {page_number}"
    return {
        "title": title,
        "description": shorten(description + _page_note(page), DESCRIPTION_MAX),
        "canonical": absolute_url(request, path, {**(params or {}), "page": page_number}),
        "noindex": noindex,
    }


def home_head(request: HttpRequest, *, page, filters: dict[str, str], choices: dict) -> dict[str, Any]:
    names = {
        "stack": dict(choices.get("stacks") or []),
        "tool": dict(choices.get("tools") or []),
    }
    chosen = [
        f"{label} {names.get(key, {}).get(value, value)}"
        for key, label in (
            ("stack", "stack"),
            ("tool", "tool"),
            ("difficulty", "difficulty"),
            ("code_language", "code language"),
        )
        if (value := filters.get(key))
    ]
    if chosen:
        title = f"Latest articles: {', '.join(chosen)}"
        description = f"The latest articles for {', '.join(chosen)}: {_count(page)}, newest first."
    else:
        title = "Latest articles"
        description = f"{SITE_DESCRIPTION} The latest of {_count(page)}, newest first."
    return listing(
        request,
        title=title,
        description=description,
        path=reverse("articles:home"),
        params=filters,
        page=page,
    )


def browse_head(request: HttpRequest, *, heading: str, about: str, page) -> dict[str, Any]:
    return listing(
        request,
        title=heading,
        description=f"Articles about {about} in the {SITE_NAME.lower()}: {_count(page)}, newest first.",
        path=request.path,
        page=page,
    )


def search_head(request: HttpRequest, *, query: str, page) -> dict[str, Any]:
    if query:
        title = f"Search: {query}"
        description = f"Search results for “{query}”: {_count(page)}."
    else:
        title = "Search"
        description = f"Search the {SITE_NAME.lower()}: titles, topics, summaries and checklists."
    # Result pages are kept out of indexes; their canonical still names the query they answer.
    return listing(
        request,
        title=title,
        description=description,
        path=reverse("articles:search"),
        params={"q": query},
        page=page,
        noindex=True,
    )


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds") if moment else None


def article_head(
    request: HttpRequest,
    *,
    article,
    content: dict[str, Any],
    published: dt.datetime | None,
    modified: dt.datetime | None,
) -> dict[str, Any]:
    """The head of an article page: title, description, canonical URL, Open Graph values and the
    schema.org ``TechArticle``. ``published`` and ``modified`` are when the article first went live
    and when the version readers see was made: work that is not live does not change them."""
    title = content.get("title") or article.title
    canonical = absolute_url(request, article.get_absolute_url())
    card = absolute_url(request, reverse("articles:card", kwargs={"slug": article.slug}))
    description = shorten(content.get("summary") or content.get("topic") or "", DESCRIPTION_MAX)
    topic = " ".join(str(content.get("topic") or "").split())
    site = {
        "@type": "Organization",
        "name": SITE_NAME,
        "url": absolute_url(request, reverse("articles:home")),
    }
    data = {
        "@context": "https://schema.org",
        "@type": "TechArticle",
        "headline": title,
        "description": description,
        "image": card,
        "url": canonical,
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "author": site,
        "publisher": site,
        "inLanguage": "en",
    }
    if published:
        data["datePublished"] = _iso(published)
    if modified or published:
        data["dateModified"] = _iso(modified or published)
    keywords = [*(content.get("stack") or []), *(content.get("tools") or [])]
    if keywords:
        data["keywords"] = ", ".join(keywords)
    if content.get("difficulty"):
        data["proficiencyLevel"] = content["difficulty"]
    if content.get("reading_time"):
        data["timeRequired"] = f"PT{content['reading_time']}M"
    return {
        "title": title,
        "description": description,
        "canonical": canonical,
        "image": card,
        "image_alt": f"{title} — {topic}" if topic else title,
        "published_time": data.get("datePublished"),
        "modified_time": data.get("dateModified"),
        "tags": keywords,
        "structured_data": data,
    }


def json_for_script(data: Any) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` are
    written as ``\\u003c`` and so on, so no text can close the element or open a comment."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)

"""Reads of articles: one function per question the site and the API ask."""

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, Exists, OuterRef, Subquery, Value
from django.http import Http404
from django.shortcuts import get_object_or_404

from articles import search
from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, Entity, Tag
from articles.similarity import neighbours_for

SIMILAR_LIMIT = 10


def articles_with_content(queryset=None):
    """Articles with everything ``article_meta`` reads, in a fixed number of queries."""
    return content_prefetch(queryset if queryset is not None else Article.objects.all())


def article_meta(article: Article, *, similar: list[dict] | None = None) -> dict[str, Any]:
    """The meta JSON of an article: the post-meta box plus identity, state and similar posts."""
    content = content_from_article(article)
    meta = {
        "slug": article.slug,
        "url": article.get_absolute_url(),
        "state": article.state,
        "published_at": article.published_at,
        # When the live version was made (read through ``with_live_dates``), never the row's
        # updated_at, which work that is not live also moves.
        "updated_at": live_dates(article)["modified"],
    }
    for key in content:
        if key not in ("body", "body_text"):
            meta[key] = content[key]
    meta["similar"] = similar if similar is not None else []
    meta["body"] = content["body"]
    return meta


def similar_articles(article_ids: list[int], *, limit: int = SIMILAR_LIMIT) -> dict[int, list[dict]]:
    """Up to ``limit`` similar live articles of each article, best first, in one indexed query."""
    return neighbours_for(article_ids, limit=limit)


READER_PAGE_SIZE = 20


def live_articles(*, stack: str = "", tool: str = "", difficulty: str = "", code_language: str = ""):
    """Live articles, newest first, narrowed by the reader's filters; tags ready for a list."""
    queryset = Article.objects.live()
    if stack:
        queryset = queryset.tagged(Tag.Kind.STACK, stack)
    if tool:
        queryset = queryset.tagged(Tag.Kind.TOOL, tool)
    if difficulty:
        queryset = queryset.filter(difficulty=difficulty)
    if code_language:
        queryset = queryset.filter(code_language=code_language)
    return _for_lists(queryset)


# Columns an item of a list (site or API summary) never shows; some are large.
LIST_DEFERRED = ("body", "body_text", "payload", "outline", "checklist", "notes", "extra", "summary", "brief")


def _for_lists(queryset):
    return list_columns(queryset.order_by("-published_at", "-id"))


def list_columns(queryset):
    """What a list item shows (site or API summary): no body or other large part, and the tags."""
    return queryset.defer(*LIST_DEFERRED).with_tag_links()


def tag_page(*, kind: str, slug: str) -> tuple[Tag, Any]:
    """A stack or tool tag and its live articles; 404 when no live article carries it.

    A tag only drafts (or archived articles) carry is not shown: its name is theirs until they
    go live.
    """
    live_links = ArticleTag.objects.filter(tag=OuterRef("pk"), article__state=ArticleState.PUBLISHED)
    tag = get_object_or_404(_carried(Tag.objects.all(), live_links), kind=kind, slug=slug)
    return tag, _for_lists(Article.objects.live().with_tag(tag.pk))


def _carried(queryset, live_links):
    """The tags (or entities) of ``queryset`` that at least one live article carries.

    Asked as "the first live article that carries it" (a LIMIT 1 subquery per row), which the
    planner answers from the row's first links. As EXISTS it may instead hash every link of the
    tag against the list of all live articles (at 100,000 articles, 145 ms for the home page's
    96 tags instead of 3, and 23 ms instead of 0.1 for one tag).

    Any carrier will do, so the subquery has no order: a link's default order (its article's,
    newest first) made the planner walk the newest live articles and probe each for the tag (at
    100,000 articles, about 5 ms for the home page's 96 tags instead of 1.6).
    """
    carrier = Subquery(live_links.order_by().values("article_id")[:1])
    return queryset.alias(carrier=carrier).filter(carrier__isnull=False)


def entity_page(*, type: str, slug: str) -> tuple[Entity, Any]:
    """An entity and the live articles that name it; 404 when no live article names it (an
    entity only drafts name stays unknown to readers, like a tag)."""
    live_links = ArticleEntity.objects.filter(entity=OuterRef("pk"), article__state=ArticleState.PUBLISHED)
    entity = get_object_or_404(_carried(Entity.objects.all(), live_links), type=type, slug=slug)
    links = ArticleEntity.objects.filter(article=OuterRef("pk"), entity=entity)
    return entity, _for_lists(Article.objects.live().filter(Exists(links)))


def search_live_articles(query: str):
    """Live articles that match ``query``, best first (``articles.search``: the API's search too)."""
    return list_columns(search.search(Article.objects.live(), query))


def search_snippets(query: str, articles) -> dict[int, str]:
    """HTML snippets (matched words marked, the rest escaped) of one page of search results."""
    return search.snippets(query, [article.id for article in articles])


def search_correction(query: str) -> str | None:
    """A corrected query to offer when ``query`` found nothing ("did you mean")."""
    return search.correction(query)


def search_suggestions(query: str) -> list[dict]:
    """Titles and addresses of the best live matches of a query being typed."""
    return search.suggest_titles(Article.objects.live(), query)


def filter_choices() -> dict[str, list]:
    """The values the home page's filters offer: tags in use and the distinct scalar values."""
    live_links = ArticleTag.objects.filter(tag=OuterRef("pk"), article__state=ArticleState.PUBLISHED)
    tags = (
        _carried(Tag.objects.all(), live_links).order_by("kind", "name").values_list("kind", "slug", "name")
    )
    values = _live_values(("difficulty", "code_language"))
    return {
        "stacks": [(slug, name) for kind, slug, name in tags if kind == Tag.Kind.STACK],
        "tools": [(slug, name) for kind, slug, name in tags if kind == Tag.Kind.TOOL],
        "difficulties": values["difficulty"],
        "code_languages": values["code_language"],
    }


def _live_values(fields: tuple[str, ...]) -> dict[str, list[str]]:
    """The distinct values live articles have in each of ``fields`` (NULL left out), in the
    database's order, in one query.

    Each field's index (``article_difficulty``: value, state, id) is walked from one value to the
    next, one probe per value, and a value is kept when one more probe finds a live article with
    it: a few index lookups, where ``SELECT DISTINCT`` over the live articles reads every one of
    them (at 100,000 articles, 0.3 ms instead of 56 ms for each field).
    """
    quote = connection.ops.quote_name
    table, state = quote(Article._meta.db_table), quote(Article._meta.get_field("state").column)
    steps, selects = [], []
    for number, field in enumerate(fields):
        column, values = quote(Article._meta.get_field(field).column), f"{field}_values"
        steps.append(
            f"{values}(value) AS (SELECT MIN({column}) FROM {table} UNION ALL "
            f"SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > {values}.value) "
            f"FROM {values} WHERE {values}.value IS NOT NULL)"
        )
        selects.append(
            f"SELECT {number} AS field, value FROM {values} WHERE value IS NOT NULL AND EXISTS "
            f"(SELECT 1 FROM {table} WHERE {column} = {values}.value AND {state} = %s)"
        )
    sql = (
        f"WITH RECURSIVE {', '.join(steps)} "
        f"SELECT field, value FROM ({' UNION ALL '.join(selects)}) AS live ORDER BY field, value"
    )
    found: dict[str, list[str]] = {field: [] for field in fields}
    with connection.cursor() as cursor:
        cursor.execute(sql, [ArticleState.PUBLISHED] * len(fields))
        for number, value in cursor.fetchall():
            found[fields[number]].append(value)
    return found


# The app that keeps revisions registers when an article's live version was made, as an expression
# over Article (NULL when none is live). articles itself knows nothing of revisions.
live_version_made_at: Callable[[], Any] | None = None


def with_live_dates(queryset):
    """Articles annotated with ``live_made_at``, when the version readers see was made: the dates
    readers are shown (the page's modified time, the feed, the sitemap) follow the live version,
    never work that is not live yet."""
    if live_version_made_at is None:
        return queryset.annotate(live_made_at=Value(None, output_field=DateTimeField()))
    return queryset.annotate(live_made_at=live_version_made_at())


def live_dates(article: Article) -> dict[str, Any]:
    """When an article read through ``with_live_dates`` first went live and when its live version
    was made (its first publication when that is unknown); both None when it never went live."""
    published = article.published_at
    return {"published": published, "modified": getattr(article, "live_made_at", None) or published}


# The app that keeps revisions registers how to read one for a staff preview:
# (article, "12" or "1.5.4") -> content or None. articles itself knows nothing of revisions.
revision_previewer: Callable[[Article, str], dict | None] | None = None


def article_page(*, slug: str, user, revision: str | None = None) -> tuple[Article, dict[str, Any], bool]:
    """What the article page shows: (article, content, is_preview).

    Everyone gets the live content; staff may preview any revision by version, and see
    articles that are not live. Others get a 404 for anything not live.
    """
    queryset = with_live_dates(articles_with_content(Article.objects.visible_to(user)))
    article = get_object_or_404(queryset, slug=slug)
    if revision and user is not None and user.is_staff and revision_previewer is not None:
        content = revision_previewer(article, revision)
        if content is None:
            raise Http404("No revision of this article has that version.")
        return article, content, True
    return article, content_from_article(article), not article.is_live

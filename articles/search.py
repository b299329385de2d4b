"""Full-text search of articles: the one search of the reader site and the API.

The query language is that of web search engines (PostgreSQL's ``websearch_to_tsquery``):
words must all appear (in any form: English stemming, so "secrets rotation" finds "rotating
secrets"), ``"a quoted phrase"`` must appear as written, ``-word`` or ``-"a phrase"`` must not
appear, and ``or`` between words accepts either side. So that a query being typed finds
something, its last word also matches as the start of a word ("rollb" finds "rollback") when
it has at least ``PREFIX_MIN`` characters and is not quoted or excluded. Anything else in
the text (operators of either engine, ``*``, ``^``, ``NEAR(``, ``title:``, unbalanced quotes)
is only a separator between words: every text is a valid query, and a query with no word to
look for finds nothing.

The text is parsed once, here, into words, phrases, exclusions and alternatives, and each
engine is given the same query:

- PostgreSQL: ``websearch_to_tsquery('english', …)`` over a canonical text made of the parsed
  words (plus ``to_tsquery('english', 'word:*')`` for the last word's prefix), matched against
  ``articles_article.search_vector``, a stored generated ``tsvector`` (migration 0012: title A;
  topic, summary and ``labels`` B; outline, checklist and body C) with two GIN indexes: one of
  live articles, which readers' searches use (migration 0016), and one of every article, for
  staff.
- SQLite: an FTS5 query over ``article_fts`` (porter stemming), which triggers on
  ``articles_article`` keep in step with the row. English stop words are dropped from the
  query as PostgreSQL drops them.

Ranking, best first (ties: the newest article, by id)::

    score = text × (0.8 + 0.1 × quality / 100 + 0.1 × freshness / 100)

    text  = PostgreSQL: ts_rank_cd({0.1, 0.2, 0.4, 1.0}, search_vector, query, 32)
            SQLite:     b / (1 + b), b = −bm25(article_fts, 1.0, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2)

``text`` is in [0, 1) on both engines (normalisation 32 of ts_rank_cd is rank / (rank + 1));
a match in the title counts 1, in the topic, summary, tags or entities 0.4, in the outline,
checklist or body 0.2, and ts_rank_cd also rewards the query's words standing close together.
Quality and freshness (0-100, 50 when unknown) move a score by at most ±10 %: they order
articles that match about equally well and never lift a weak match over a clearly better one.

Snippets: the matched words marked with ``<mark>`` and everything else escaped (the text is
untrusted), made for the rows of one page only (``snippets``), from the summary and the start
of the body (``SNIPPET_SOURCE_CHARS``) on PostgreSQL, from the best column on SQLite.
"""

import difflib
import html
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Exists, F, FloatField, OuterRef
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, Entity, Tag

MAX_QUERY_CHARS = 500  # a longer text is cut here (a query of 10,000 characters is a query)
MAX_ITEMS = 16  # words, phrases and exclusions of one query beyond these are ignored
MAX_PHRASE_WORDS = 8
PREFIX_MIN = 3  # a shorter last word is not matched as a prefix: it would match too much
SNIPPET_SOURCE_CHARS = 3000
SUGGEST_LIMIT = 8

# The Snowball English stop words PostgreSQL's 'english' configuration drops (SQLite keeps
# every word, so the query drops them there).
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom this
    that these those am is are was were be been being have has had having do does did doing a an
    the and but if or because as until while of at by for with about against between into through
    during before after above below to from up down in out on off over under again further then
    once here there when where why how all any both each few more most other some such no nor not
    only own same so than too very s t can will just don should now""".split()
)

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'(?P<neg>(?<![^\s(])-)?(?:"(?P<phrase>[^"]*)(?P<closed>"?)|(?P<word>[^\W_]+))')
# Marks around matched words in snippets: control characters, which no stored text holds
# (articles.content refuses them), so they cannot be forged by an article's text.
_START, _STOP = "\x01", "\x02"
_MARKED = re.compile(f"{_START}([^{_START}{_STOP}]*){_STOP}")


@dataclass(frozen=True)
class Item:
    """A word, a phrase (several words in a row) or a word's start; maybe excluded."""

    words: tuple[str, ...]
    negated: bool = False
    prefix: bool = False


@dataclass
class Query:
    """A parsed query: alternatives (``or``), each a list of items that must all hold."""

    alternatives: list[list[Item]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.alternatives)

    def words(self) -> list[str]:
        """The words looked for (not excluded), in order."""
        items = [item for items in self.alternatives for item in items if not item.negated]
        return [word for item in items for word in item.words]


def parse(text: str) -> Query:
    """The query a text means (see the module's docstring); empty when it looks for nothing."""
    text = (text or "")[:MAX_QUERY_CHARS]
    alternatives: list[list[Item]] = [[]]
    count = 0
    last_match = None
    for match in _TOKEN.finditer(text):
        if count >= MAX_ITEMS:
            break
        negated = match["neg"] is not None
        if match["word"] is not None:
            word = match["word"].lower()
            if word == "or" and not negated:
                if alternatives[-1]:
                    alternatives.append([])
                continue
            words = (word,)
        else:
            words = tuple(word.lower() for word in _WORD.findall(match["phrase"]))[:MAX_PHRASE_WORDS]
            if not words:
                continue
        alternatives[-1].append(Item(words, negated=negated))
        count += 1
        last_match = match
    # The last word is matched as a prefix too: it may be a word being typed.
    last = alternatives[-1][-1] if alternatives[-1] else None
    if (
        last is not None
        and last_match is not None
        and last_match["word"] is not None
        and not last.negated
        and len(last.words[0]) >= PREFIX_MIN
    ):
        alternatives[-1][-1] = Item(last.words, prefix=True)
    # An alternative must look for something: exclusions alone would read the whole table.
    return Query([items for items in alternatives if any(not item.negated for item in items)])


# --------------------------------------------------------------------------- PostgreSQL


def _websearch_text(query: Query) -> str:
    """The query as websearch_to_tsquery text, but for a prefix item (which it cannot say)."""

    def item_text(item: Item) -> str:
        body = item.words[0] if len(item.words) == 1 else '"' + " ".join(item.words) + '"'
        return ("-" if item.negated else "") + body

    return " or ".join(
        " ".join(item_text(item) for item in items if not item.prefix) for items in query.alternatives
    )


def _pg_tsquery(query: Query) -> tuple[str, list]:
    """SQL of the tsquery and its parameters."""
    prefix = next((item for items in query.alternatives for item in items if item.prefix), None)
    if prefix is None:
        return "websearch_to_tsquery('english', %s)", [_websearch_text(query)]
    if len(query.alternatives) == 1:
        return (
            "(websearch_to_tsquery('english', %s) && to_tsquery('english', %s))",
            [_websearch_text(query), f"{prefix.words[0]}:*"],
        )
    # ``a or b rollb``: the prefix belongs to the last alternative only.
    first = Query(query.alternatives[:-1])
    last = Query([query.alternatives[-1]])
    return (
        "(websearch_to_tsquery('english', %s) || (websearch_to_tsquery('english', %s)"
        " && to_tsquery('english', %s)))",
        [_websearch_text(first), _websearch_text(last), f"{prefix.words[0]}:*"],
    )


_PG_WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'"
_BOOST = (
    "(0.8 + 0.001 * coalesce(articles_article.quality, 50)"
    " + 0.001 * coalesce(articles_article.freshness, 50))"
)


def _pg_search(queryset, query: Query):
    tsquery, params = _pg_tsquery(query)
    matches = RawSQL(f"articles_article.search_vector @@ {tsquery}", params, output_field=BooleanField())
    score = RawSQL(
        f"ts_rank_cd({_PG_WEIGHTS}, articles_article.search_vector, {tsquery}, 32) * {_BOOST}",
        params,
        output_field=FloatField(),
    )
    return queryset.filter(matches).alias(search_rank=score)


# --------------------------------------------------------------------------- SQLite

_BM25 = "bm25(article_fts, 1.0, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2)"


def fts5_query(query: Query) -> str:
    """The query in FTS5's syntax: every word quoted, so nothing in it is an operator."""

    def item_text(item: Item) -> str:
        return '"' + " ".join(item.words) + '"' + (" *" if item.prefix else "")

    alternatives = []
    for items in query.alternatives:
        positive = [item for item in items if not item.negated and not _only_stop_word(item)]
        if not positive:
            continue
        text = "(" + " AND ".join(item_text(item) for item in positive) + ")"
        text += "".join(f" NOT {item_text(item)}" for item in items if item.negated)
        alternatives.append(text)
    return " OR ".join(alternatives)


def _only_stop_word(item: Item) -> bool:
    return len(item.words) == 1 and not item.prefix and item.words[0] in STOP_WORDS


def _sqlite_search(queryset, query: Query):
    match = fts5_query(query)
    if not match:  # only stop words: PostgreSQL finds nothing either
        return None
    score = RawSQL(f"(-{_BM25} / (1.0 - {_BM25})) * {_BOOST}", [], output_field=FloatField())
    joined = queryset.extra(
        tables=["article_fts"],
        where=["article_fts.rowid = articles_article.id", "article_fts MATCH %s"],
        params=[match],
    )
    return joined.alias(search_rank=score)


# --------------------------------------------------------------------------- the selector


def search(queryset, text: str, *, order: bool = True):
    """The articles of ``queryset`` that match ``text``, best first (by the alias ``search_rank``).

    ``order=False`` leaves the queryset's ordering to the caller (an explicit ``ordering`` of
    the API). A text that looks for nothing matches nothing. The rank is an alias, not a
    selected column: selected, it was computed again above any join the caller adds (the API's
    live dates), so every match's vector was carried through the sort, some 2 kB a row, which
    spilled to disk at 8,000 matches (60 ms of the API's 180).
    """
    query = parse(text)
    if not query:
        return queryset.none()
    if connection.vendor == "postgresql":
        found = _pg_search(queryset, query)
    else:
        found = _sqlite_search(queryset, query)
        if found is None:
            return queryset.none()
    if order:
        found = found.order_by(F("search_rank").desc(), "-id")
    return found


def snippets(text: str, article_ids: list[int]) -> dict[int, str]:
    """HTML snippets of these articles for ``text``: matched words in ``<mark>``, the rest
    escaped. One query, for one page's rows."""
    query = parse(text)
    if not query or not article_ids:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tsquery, params = _pg_tsquery(query)
            options = f"StartSel={_START}, StopSel={_STOP}, MinWords=15, MaxWords=35, MaxFragments=2"
            cursor.execute(
                f"SELECT id, ts_headline('english', left(coalesce(summary, '') || E'\\n' || body_text, "
                f"{SNIPPET_SOURCE_CHARS}), {tsquery}, %s) FROM articles_article WHERE id = ANY(%s)",
                [*params, options, list(article_ids)],
            )
        else:
            match = fts5_query(query)
            if not match:
                return {}
            marks = ", ".join(["%s"] * len(article_ids))
            cursor.execute(
                f"SELECT rowid, snippet(article_fts, -1, %s, %s, '…', 24) FROM article_fts "
                f"WHERE article_fts MATCH %s AND rowid IN ({marks})",
                [_START, _STOP, match, *article_ids],
            )
        return {pk: mark_up(snippet) for pk, snippet in cursor.fetchall() if snippet}


def mark_up(snippet: str) -> SafeString:
    """Escape a snippet and turn its match marks into ``<mark>`` elements."""
    escaped = html.escape(" ".join(snippet.split()), quote=True)
    return mark_safe(_MARKED.sub(r"<mark>\1</mark>", escaped).replace(_START, "").replace(_STOP, ""))


def suggest_titles(queryset, text: str, limit: int = SUGGEST_LIMIT) -> list[dict]:
    """Titles of the best matches of a query being typed (its last word a prefix)."""
    found = search(queryset, text).values("title", "slug")[:limit]
    return [{"title": row["title"], "url": Article(slug=row["slug"]).get_absolute_url()} for row in found]


# --------------------------------------------------------------------------- did you mean

CORRECTION_CUTOFF = 0.75  # difflib similarity a replacement word needs
MAX_CORRECTED_WORDS = 6


def correction(text: str) -> str | None:
    """A corrected query for a text that found nothing: each word looked for that no title, tag
    or entity name holds replaced by the most similar word they hold. None when nothing changes.

    Candidates are titles, tag and entity names similar to each word (pg_trgm's word similarity
    and its trigram indexes on PostgreSQL; on SQLite, the embedded engine of small sites, the
    names and live titles are read and compared here).
    """
    query = parse(text)
    words = list(dict.fromkeys(query.words()))[:MAX_CORRECTED_WORDS]
    if not words:
        return None
    replacements = {}
    for word in words:
        if word in STOP_WORDS or len(word) < 3 or word.isdigit():
            continue
        vocabulary = _vocabulary(word)
        if word in vocabulary:
            continue
        best = difflib.get_close_matches(word, vocabulary, n=1, cutoff=CORRECTION_CUTOFF)
        if best:
            replacements[word] = best[0]
    if not replacements:
        return None

    def replace(match: re.Match) -> str:
        return replacements.get(match[0].lower(), match[0])

    return _WORD.sub(replace, text[:MAX_QUERY_CHARS]).strip()


def _vocabulary(word: str) -> set[str]:
    """Words of titles, tags and entity names that may be ``word`` misspelt (lower-cased)."""
    if connection.vendor == "postgresql":
        sources = ((Article.objects.live(), "title"), (_live_tags(), "name"), (_live_entities(), "name"))
        parts = []
        for rows, column in sources:
            table = rows.model._meta.db_table
            similar = RawSQL(f"%s <%% {table}.{column}", [word], output_field=BooleanField())
            parts.append(rows.filter(similar).order_by().values_list(column, flat=True)[:50])
        names = list(parts[0].union(*parts[1:], all=True))
    else:
        names = [
            *Article.objects.live().values_list("title", flat=True).iterator(),
            *_live_tags().values_list("name", flat=True),
            *_live_entities().values_list("name", flat=True),
        ]
    return {found.lower() for name in names for found in _WORD.findall(name)}


def _live_tags():
    """Tags live articles carry: a name only drafts carry is not shown to readers."""
    live = ArticleTag.objects.filter(tag=OuterRef("pk"), article__state=ArticleState.PUBLISHED)
    return Tag.objects.filter(Exists(live))


def _live_entities():
    live = ArticleEntity.objects.filter(entity=OuterRef("pk"), article__state=ArticleState.PUBLISHED)
    return Entity.objects.filter(Exists(live))

"""How two articles score: each article's weighted terms, the IDF table that weighs them, the
quantised vector they make, and the bonus for the same code language and difficulty.

Weights are whole multiples of 1/SCALE, so every score is an exact sum whatever order it is
added up in: a refresh and a rebuild reach the same scores and break ties the same way.
docs/similar-posts.md gives the formula.
"""

import math
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models.fields.json import KT

from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, SimilarityIndex

WEIGHTS = {"tag": 1.0, "entity": 1.0, "problem": 2.0, "context": 0.5, "word": 0.6}  # docs/similar-posts.md
SAME_LANGUAGE_BONUS = 0.05
SAME_DIFFICULTY_BONUS = 0.03
SCALE = 2**14  # weights are quantised to 1/SCALE (they fit an int16), scores to 1/SCALE²
UNIT = SCALE * SCALE
LANGUAGE_POINTS = round(SAME_LANGUAGE_BONUS * UNIT)
DIFFICULTY_POINTS = round(SAME_DIFFICULTY_BONUS * UNIT)

WORD_RE = re.compile(r"[a-z0-9][a-z0-9+#]*")
STOPWORDS = frozenset(
    """a an and are as at be by for from how in into is it its of on or that the this to with
    without we our your you guide practical checklist production notes lessons quick reference
    maintenance handbook field deep dive what when why using use""".split()
)


@dataclass
class Features:
    id: int
    live: bool
    language: str
    difficulty: str
    terms: dict[str, float] = field(default_factory=dict)


def _words(*texts: str | None) -> list[str]:
    """Distinct words, sorted: sums over terms then add in the same order in every process."""
    words = set()
    for text in texts:
        words.update(w for w in WORD_RE.findall((text or "").lower()) if len(w) > 2 and w not in STOPWORDS)
    return sorted(words)


# The outline's problem and context are read as text: decoding each whole outline costs more.
ARTICLE_COLUMNS = (
    "pk", "state", "title", "topic", KT("outline__problem"), KT("outline__context"),
    "code_language", "difficulty",
)  # fmt: skip


def _text_terms(title, topic, problem, context) -> dict[str, float]:
    terms = {f"w:{word}": WEIGHTS["word"] for word in _words(title, topic)}
    if problem:
        terms[f"p:{problem}"] = WEIGHTS["problem"]
    if context:
        terms[f"c:{context}"] = WEIGHTS["context"]
    return terms


def load_features(article_ids: Iterable[int]) -> dict[int, Features]:
    """Term weights (before IDF) of a few hundred articles, in three queries."""
    ids = list(article_ids)
    features = {}
    for pk, state, title, topic, problem, context, language, difficulty in (
        Article.objects.filter(pk__in=ids).order_by().values_list(*ARTICLE_COLUMNS)
    ):
        terms = _text_terms(title, topic, problem, context)
        features[pk] = Features(pk, state == ArticleState.PUBLISHED, language or "", difficulty or "", terms)
    for article_id, tag_id in (
        ArticleTag.objects.filter(article_id__in=ids).order_by().values_list("article_id", "tag_id")
    ):
        features[article_id].terms[f"t:{tag_id}"] = WEIGHTS["tag"]
    for article_id, entity_id in (
        ArticleEntity.objects.filter(article_id__in=ids).order_by().values_list("article_id", "entity_id")
    ):
        features[article_id].terms[f"e:{entity_id}"] = WEIGHTS["entity"]
    return features


def _bonus_points(language_a, difficulty_a, language_b, difficulty_b):
    """The bonus in score points (1/UNIT) of two articles by their codes (see _code); arrays work."""
    return LANGUAGE_POINTS * ((language_a == language_b) & (language_a != 0)) + DIFFICULTY_POINTS * (
        (difficulty_a == difficulty_b) & (difficulty_a != 0)
    )


def _code(value: str | None) -> int:
    """A code language or difficulty as a number, the same in every process (0: none)."""
    return ((zlib.crc32(value.encode()) & 0x7FFFFFFF) or 1) if value else 0


def _order(entries: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(points, id) best first; equal scores go to the lower id, so every run agrees."""
    return sorted(entries, key=lambda entry: (-entry[0], entry[1]))


@dataclass(frozen=True)
class Weights:
    """The IDF of every term the last rebuild saw, over its live_count live articles."""

    idf: dict[str, float]
    live_count: int

    @property
    def unseen(self) -> float:
        """The IDF of a term no article carried then: as rare as a term on one article."""
        return math.log((1 + self.live_count) / 2) + 1

    def of(self, term: str) -> float:
        return self.idf.get(term, self.unseen)


def quantise(terms: dict[str, float], weights: Weights) -> dict[str, int]:
    """An article's vector: each term's base weight times its IDF, normalised, in whole 1/SCALE.

    The same arithmetic as _quantised (the rebuild's), value for value: an exactly rounded sum
    of squares, then IEEE division and round-half-even, so both give the same integers."""
    values = {term: base * weights.of(term) for term, base in terms.items()}
    norm = math.sqrt(math.fsum([value * value for value in values.values()]))
    if not norm:
        return {}
    vector = {}
    for term, value in values.items():
        if points := round(value / norm * SCALE):
            vector[term] = points
    return vector


_weights_cache: dict = {}


def current_weights() -> Weights | None:
    """The stored IDF table, read again only when a rebuild replaced it."""
    row = SimilarityIndex.objects.order_by("-pk").values_list("pk", "live_count", "built_at").first()
    if row is None:
        return None
    if _weights_cache.get("key") != row:  # a rolled-back rebuild's id can come again (SQLite)
        _weights_cache.update(key=row, weights=Weights(SimilarityIndex.objects.get(pk=row[0]).idf, row[1]))
    return _weights_cache["weights"]

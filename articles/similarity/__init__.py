"""Similar posts: which live articles are most related to each article, and keeping that fresh.

Each article is a sparse vector of weighted terms: its stack and tool tags, its entities, the
problem and context of its outline, and the distinctive words of its title and topic. Every
term counts, weighed by its rarity (inverse document frequency over live articles): the terms
that define a topic in a real knowledge base are common, and it is their combination that
makes two articles related. Two articles score the cosine of their vectors, plus a small bonus
for the same code language and the same difficulty. docs/similar-posts.md gives the formula,
why it was chosen and what it costs.

Weights are whole multiples of 1/SCALE, so every score is an exact sum whatever order it is
added up in: a refresh and a rebuild reach the same scores and break ties the same way.

The DEPTH best of every article are stored in SimilarArticle (pages show the first NEIGHBOURS)
and read with one indexed query. rebuild_all() recomputes everything with sparse matrix
products, in chunks, and leaves an inverted index (SimilarPosting), each list's floor
(SimilarState) and each article's terms (SimilarVector). refresh() uses them to score the
articles that changed against every other article exactly, and to update the lists they
leave, enter or rank in; its lists are the ones a rebuild with the same weights gives.

The modules, each on one idea:

- ``scoring``: an article's terms and weights, the IDF table, quantised vectors, the bonuses.
- ``lists``: the stored lists (SimilarArticle): their length, rows, fallback, and reading them.
- ``stored_index``: what a refresh works from: postings, floors and attributes, vectors.
- ``rebuild``: the full rebuild, with sparse matrix products, in chunks.
- ``incremental``: the incremental refresh of the articles that changed, its queue (so a
  request never waits out a long refresh) and its deferral.

This package's names below are its entry point for the rest of the project.
"""

from articles.similarity.incremental import deferred, rebuild_all, refresh
from articles.similarity.lists import DEPTH, MIN_NEIGHBOURS, NEIGHBOURS, neighbours_for, without_lists
from articles.similarity.scoring import SAME_DIFFICULTY_BONUS, SAME_LANGUAGE_BONUS

__all__ = [
    "DEPTH",
    "MIN_NEIGHBOURS",
    "NEIGHBOURS",
    "SAME_DIFFICULTY_BONUS",
    "SAME_LANGUAGE_BONUS",
    "deferred",
    "neighbours_for",
    "rebuild_all",
    "refresh",
    "without_lists",
]

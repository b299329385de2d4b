"""The API's output serializers are built once per process and shared by every request
(``articles.api.serializers.represent``): what they render is what a new serializer renders."""

import pytest
from rest_framework import serializers

from articles.api import serializers as api_serializers
from articles.api.serializers import (
    ArticleDetailSerializer,
    ArticleMetaSerializer,
    ArticleSummarySerializer,
    SimilarSerializer,
    represent,
)
from articles.content import content_prefetch
from articles.models import Article
from articles.selectors import article_meta
from corpus.generator import synthesize
from releases.importing import Source, import_documents

pytestmark = pytest.mark.django_db


@pytest.fixture
def metas(sample_article):
    documents = list(synthesize(12, seed=5))
    report = import_documents([Source(d.filename, d.text.encode()) for d in documents])
    assert report.failed == 0
    articles = content_prefetch(Article.objects.order_by("pk"))
    return [article_meta(article, similar=[]) for article in articles]


def test_a_shared_serializer_renders_what_a_new_one_renders(metas):
    assert len(metas) == 13
    # In turns, with and without the body, so that nothing one rendering leaves is seen by the next.
    for include_body in (False, True, False):
        for meta in metas:
            fresh = ArticleDetailSerializer(meta, context={"include_body": include_body}).data
            assert represent(ArticleDetailSerializer, meta, include_body=include_body) == fresh
            assert ("body" in fresh) is include_body
    assert represent(ArticleMetaSerializer, metas, many=True) == ArticleMetaSerializer(metas, many=True).data
    summaries = [{**meta, "published_at": None} for meta in metas]
    assert represent(ArticleSummarySerializer, summaries, many=True) == (
        ArticleSummarySerializer(summaries, many=True).data
    )
    similar = [{"slug": "a", "title": "A", "url": "/articles/a/", "score": 0.5}]
    assert represent(SimilarSerializer, similar, many=True) == SimilarSerializer(similar, many=True).data


def test_the_fields_are_built_once(metas, monkeypatch):
    api_serializers._output_serializer.cache_clear()
    built = []
    original = serializers.Serializer.get_fields
    monkeypatch.setattr(
        serializers.Serializer, "get_fields", lambda self: (built.append(type(self)), original(self))[1]
    )
    represent(ArticleDetailSerializer, metas[0], include_body=True)
    first = len(built)
    assert ArticleDetailSerializer in built and first > 1  # with its nested serializers
    for meta in metas:
        represent(ArticleDetailSerializer, meta, include_body=True)
    assert len(built) == first

"""The data model in the database (docs/data-model.md): what keeps the part tables consistent
without database-level foreign keys, and what the live-list index carries."""

import pytest
from django.db import connection
from django.db.models import ProtectedError

from articles.models import Article, ArticleEntity, ArticleTag, Entity, ImageSource, Tag
from articles.writing import PartsWriter
from releases.importing import import_document
from tests.conftest import SAMPLE_PATH

pytestmark = pytest.mark.django_db


def part_counts(article_id: int) -> tuple[int, int, int]:
    return (
        ArticleTag.objects.filter(article_id=article_id).count(),
        ArticleEntity.objects.filter(article_id=article_id).count(),
        ImageSource.objects.filter(article_id=article_id).count(),
    )


@pytest.fixture
def imported():
    result = import_document(SAMPLE_PATH.read_bytes(), path=SAMPLE_PATH.name)
    assert result.outcome == "created", result.errors
    return Article.objects.get(pk=result.article_id)


def test_an_imported_article_cannot_be_deleted_so_its_parts_stay(imported):
    before = part_counts(imported.pk)
    assert all(before), before

    with pytest.raises(ProtectedError):
        imported.delete()

    assert Article.objects.filter(pk=imported.pk).exists()
    assert part_counts(imported.pk) == before


def test_tags_and_entities_in_use_cannot_be_deleted(imported):
    tag = Tag.objects.filter(article_tags__article=imported).first()
    entity = Entity.objects.filter(article_entities__article=imported).first()

    for shared in (tag, entity):
        with pytest.raises(ProtectedError):
            shared.delete()
        assert type(shared).objects.filter(pk=shared.pk).exists()


def test_deleting_an_article_without_revisions_deletes_its_parts(imported):
    bare = Article.objects.create(reference="bare-1", slug="bare-1", title="Bare", site="example")
    content = {
        "stack": ["python"],
        "tools": ["pytest"],
        "entities": [{"type": "tool", "name": "pytest"}],
        "image_sources": [{"source": "docs", "url": "https://example.com/a.png", "caption": "A"}],
    }
    PartsWriter().write([(bare.pk, content)])
    assert part_counts(bare.pk) == (2, 1, 1)
    others = part_counts(imported.pk)

    bare.delete()

    assert part_counts(bare.pk) == (0, 0, 0)
    assert part_counts(imported.pk) == others  # nobody else's parts went with it
    assert Tag.objects.filter(name="pytest").exists()  # shared rows stay


def test_an_unused_tag_can_be_deleted():
    tag = Tag.objects.create(kind=Tag.Kind.TOOL, name="unused", slug="unused")
    tag.delete()
    assert not Tag.objects.filter(name="unused").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no covering indexes")
def test_the_live_list_index_is_newest_live_first_with_the_filter_columns():
    """The index every newest-first list of live articles reads (docs/data-model.md)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'article_live_latest'")
        (definition,) = cursor.fetchone()
    assert "(state, published_at DESC, id DESC)" in definition
    assert definition.endswith("INCLUDE (difficulty, code_language)")

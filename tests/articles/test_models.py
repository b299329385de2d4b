"""The data model in the database (docs/data-model.md): what keeps the part tables consistent
without database-level foreign keys, and what the live-list index carries."""

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.urls import NoReverseMatch, reverse
from hypothesis import given
from hypothesis import strategies as st

from articles.models import (
    Article,
    ArticleEntity,
    ArticleTag,
    Entity,
    ImageSource,
    Tag,
    article_url,
    entity_url,
    tag_url,
)
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


def test_tag_links_are_each_articles_tags_in_document_order(django_assert_num_queries, monkeypatch):
    """``with_tag_links`` gives every article its own tags, in the document's order, whatever the
    chunk they are read in; an article read without it finds them with one query."""
    import articles.models
    from tests.articles.test_search import add

    tags = {
        "t-1": (("kubernetes", "django"), ("pytest",)),
        "t-2": (("react",), ("terraform", "git", "vault")),
        "t-3": (("django",), ("git",)),
    }
    for reference, (stack, tools) in tags.items():
        add(reference, f"Article {reference}", stack=stack, tools=tools)
    monkeypatch.setattr(articles.models, "TAG_LINK_CHUNK", 2)  # three articles: two chunks

    with django_assert_num_queries(3):  # the articles, then one query per chunk
        found = {article.reference: article for article in Article.objects.with_tag_links()}
        read = {ref: [(link.kind, link.name) for link in found[ref].tag_links] for ref in tags}
    for reference, (stack, tools) in tags.items():
        assert [name for kind, name in read[reference] if kind == "stack"] == list(stack)
        assert [name for kind, name in read[reference] if kind == "tool"] == list(tools)
    urls = {link.get_absolute_url() for link in found["t-2"].tag_links}
    assert urls == {"/stack/react/", "/tools/terraform/", "/tools/git/", "/tools/vault/"}

    plain = Article.objects.get(reference="t-3")
    with django_assert_num_queries(1):
        assert [link.name for link in plain.tag_links] == ["django", "git"]
        assert [link.name for link in plain.tag_links] == ["django", "git"]  # read once


@pytest.mark.parametrize("slug", ["a", "running-reliable-jobs-2", "under_score"])
def test_written_out_addresses_are_the_urlconfs(slug):
    """article_url and tag_url spell out what reversing the URLconf's names gives."""
    assert article_url(slug) == reverse("articles:detail", kwargs={"slug": slug})
    assert tag_url(Tag.Kind.STACK, slug) == reverse("articles:stack", kwargs={"slug": slug})
    assert tag_url(Tag.Kind.TOOL, slug) == reverse("articles:tool", kwargs={"slug": slug})
    assert Article(slug=slug).get_absolute_url() == article_url(slug)


def test_a_reloaded_article_reads_its_tags_again():
    from tests.articles.test_search import add

    add("t-reload", "Reloaded", stack=("django",), tools=())
    article = Article.objects.with_tag_links().get(reference="t-reload")
    assert [link.name for link in article.tag_links] == ["django"]
    tag = Tag.objects.create(kind=Tag.Kind.TOOL, name="pytest", slug="pytest")
    ArticleTag.objects.create(article=article, tag=tag, position=1)

    article.refresh_from_db(fields=["title"])  # a partial reload keeps what was read
    assert [link.name for link in article.tag_links] == ["django"]
    article.refresh_from_db()
    assert [link.name for link in article.tag_links] == ["django", "pytest"]


def test_parts_are_read_with_the_articles_or_fresh_each_time(
    imported, django_assert_num_queries, monkeypatch
):
    """``with_parts`` reads tags, entities and image sources for a chunk of articles in one query;
    an article read without it reads them when asked, and again when asked again."""
    import articles.models

    entities = list(
        ArticleEntity.objects.filter(article=imported)
        .order_by("position")
        .values_list("entity__name", "entity__type")
    )
    images = list(
        ImageSource.objects.filter(article=imported).order_by("position").values_list("url", flat=True)
    )
    tags = list(
        ArticleTag.objects.filter(article=imported)
        .order_by("position")
        .values_list("tag__kind", "tag__name", "tag__slug")
    )
    assert entities and images and tags
    monkeypatch.setattr(articles.models, "TAG_LINK_CHUNK", 1)
    with django_assert_num_queries(2):  # the article; its tags, entities and image sources
        (read,) = Article.objects.filter(pk=imported.pk).with_parts()
        entity_rows, image_rows = read.part_rows()
        tag_links = read.tag_links
    assert [(link.kind, link.name, link.slug) for link in tag_links] == tags
    assert entity_rows == entities
    assert [row["url"] for row in image_rows] == images
    assert set(image_rows[0]) == set(articles.models.IMAGE_COLUMNS)

    ImageSource.objects.filter(article=imported).update(caption="changed")
    with django_assert_num_queries(0):  # read with the article: kept, as a prefetch is
        assert read.part_rows()[1][0]["caption"] != "changed"
    plain = Article.objects.get(pk=imported.pk)
    with django_assert_num_queries(3):  # two reads of one query each (nothing kept), one update
        assert plain.part_rows()[1][0]["caption"] == "changed"
        ImageSource.objects.filter(article=imported).update(caption="again")
        assert plain.part_rows()[1][0]["caption"] == "again"
    read.refresh_from_db()
    assert read.part_rows()[1][0]["caption"] == "again"


@given(
    entity_type=st.one_of(
        st.sampled_from(["stack", "python services", "a/b", "", "ça?#%", "tool "]), st.text()
    ),
    slug=st.one_of(st.sampled_from(["django", "b-2_x", "", "a b"]), st.text()),
)
def test_an_entitys_address_is_the_urlconfs_for_any_type_and_slug(entity_type, slug):
    """entity_url quotes as reversing ``articles:entity`` does, and is "" where that fails."""
    try:
        expected = reverse("articles:entity", kwargs={"type": entity_type, "slug": slug})
    except NoReverseMatch:
        expected = ""
    assert entity_url(entity_type, slug) == expected
    if expected:
        assert Entity(type=entity_type, slug=slug).get_absolute_url() == expected

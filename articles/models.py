"""What an article is: the live content of every field of the post-meta box, and its parts.

Storage follows how each part is read (docs/data-model.md says why):
- rows for what is filtered, browsed and compared across articles: stack and tool tags,
  entities, image sources (which also carry an optional upload);
- JSON for what is only ever read whole with its article: outline, payload, checklist,
  notes, extra meta and the typed body blocks.
"""

import re
from dataclasses import dataclass
from itertools import islice
from urllib.parse import quote

from django.db import connections, models, router
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.expressions import OrderBy
from django.db.models.query import ModelIterable
from django.urls.converters import SlugConverter
from django.utils.http import RFC3986_SUBDELIMS

from articles.derived import (  # noqa: F401 (the app's models are found here)
    SimilarArticle,
    SimilarityIndex,
    SimilarPending,
    SimilarPosting,
    SimilarState,
    SimilarVector,
)

SCORE_FIELDS = ("quality", "freshness", "depth", "clarity")
FLAG_FIELDS = ("ai_generated_style", "has_images", "image_heavy", "needs_human_review")


class ArticleState(models.TextChoices):
    """Workflow state. Only ``published`` articles are live: shown to readers and anonymous clients."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REVIEWED = "reviewed", "Reviewed"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Tag(models.Model):
    """A shared, normalised stack or tool tag (``python services``, ``pytest``)."""

    class Kind(models.TextChoices):
        STACK = "stack", "Stack"
        TOOL = "tool", "Tool"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="As written in the post-meta box, lower-cased.")
    slug = models.SlugField(max_length=220)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="tag_unique_kind_name"),
            models.UniqueConstraint(fields=["kind", "slug"], name="tag_unique_kind_slug"),
        ]

    def __str__(self):
        return f"{self.kind}: {self.name}"

    def get_absolute_url(self):
        return tag_url(self.kind, self.slug)


def tag_url(kind: str, slug: str) -> str:
    """The reader page of a stack or tool tag (``articles:stack`` and ``articles:tool``)."""
    return f"/{'stack' if kind == Tag.Kind.STACK else 'tools'}/{slug}/"


def article_url(slug: str) -> str:
    """The reader page of an article (``articles:detail``).

    Written out, as ``tag_url`` is, rather than reversed: a list shows up to 100 articles and
    their similar posts, and reversing each address was some 5 % of an uncached list's time. A
    test holds both rules equal to the URLconf's reversal.
    """
    return f"/articles/{slug}/"


@dataclass(frozen=True, slots=True)
class TagLink:
    """A tag as an article shows it (``Article.tag_links``): a plain value, not a model instance.

    Lists show some seven tags for each of up to 100 articles; a link row and a tag instance
    for each were most of an uncached list's Python time (at 50 articles, 9 ms of about 20).
    """

    kind: str
    name: str
    slug: str

    def get_absolute_url(self) -> str:
        return tag_url(self.kind, self.slug)


class Entity(models.Model):
    """A named thing an article is about, with its type (``python services`` / ``stack``)."""

    name = models.CharField(max_length=200)
    type = models.CharField(max_length=100)
    slug = models.SlugField(max_length=220)

    class Meta:
        ordering = ["type", "name"]
        verbose_name_plural = "entities"
        constraints = [
            models.UniqueConstraint(fields=["type", "name"], name="entity_unique_type_name"),
            models.UniqueConstraint(fields=["type", "slug"], name="entity_unique_type_slug"),
        ]

    def __str__(self):
        return f"{self.name} ({self.type})"

    def get_absolute_url(self):
        return entity_url(self.type, self.slug)


_SLUG = re.compile(SlugConverter.regex)  # what the route's <slug:slug> accepts


def entity_url(entity_type: str, slug: str) -> str:
    """The reader page of an entity (``articles:entity``), or "" when its type or slug makes no
    address (an empty type, or one holding a "/"). Quoted as the URLconf's reversal quotes it,
    without reversing (some five times per article page); a test holds the two equal for any
    type and slug."""
    if not entity_type or "/" in entity_type or not _SLUG.fullmatch(slug):
        return ""
    return quote(f"/entities/{entity_type}/{slug}/", safe=RFC3986_SUBDELIMS + "/~:@")


# The API's descending orderings (``ordering=-<name>``): each has an index of live articles in
# that order. Ascending ones read the plain index of the field (NULL sorts last there already).
LIVE_ORDERINGS = ("quality", "view_count", "reading_time", "last_reviewed", "published_at", "title")
LIVE = Q(state=ArticleState.PUBLISHED)


class LiveOrderIndex(models.Index):
    """An index in the order of a list, unknown values last (``F(...).desc(nulls_last=True)``).

    PostgreSQL needs ``NULLS LAST`` written in the index for a query ordered so to read it in
    order. SQLite refuses the clause in an index, and sorts NULL lowest anyway, so that a
    descending index already has them last: there the clause is left out.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = [
            OrderBy(expression.expression, descending=expression.descending)
            if isinstance(expression, OrderBy)
            else expression
            for expression in self.expressions
        ]
        index = models.Index(*plain, name=self.name, condition=self.condition)
        return index.create_sql(model, schema_editor, using=using, **kwargs)


class ArticleQuerySet(models.QuerySet):
    def live(self):
        """Articles readers and anonymous API clients may see: published ones only."""
        return self.filter(state=ArticleState.PUBLISHED)

    def visible_to(self, user):
        """Staff see every article, whatever its state; everyone else sees live ones only."""
        if user is not None and user.is_active and user.is_staff:
            return self.all()
        return self.live()

    def tagged(self, kind: str, slug: str):
        """Articles that carry the stack or tool tag ``slug``; none when there is no such tag.

        The tag's id is looked up first (one small query) and the links are filtered by it, not
        joined to the tag table: the planner then knows from its statistics how many articles
        carry that tag, and for a common one hashes both lists instead of probing every article
        (a browse page's count at 100,000 articles: 25 ms instead of 290).
        """
        tag_id = Tag.objects.filter(kind=kind, slug=slug).values_list("pk", flat=True).first()
        return self.none() if tag_id is None else self.with_tag(tag_id)

    def with_tag(self, tag_id: int):
        """Articles that carry the tag with this id."""
        return self.filter(Exists(ArticleTag.objects.filter(article=OuterRef("pk"), tag_id=tag_id)))

    def with_tag_links(self):
        """These articles with their ``tag_links`` read in one query per 1,000 articles."""
        clone = self._chain()
        clone._iterable_class = _WithTagLinks
        return clone

    def with_parts(self):
        """These articles with their ``tag_links`` and ``part_rows`` (entities and image sources)
        read in three queries per 1,000 articles."""
        clone = self._chain()
        clone._iterable_class = _WithParts
        return clone


TAG_LINK_CHUNK = 1000


class _WithTagLinks(ModelIterable):
    """Articles, each given its ``tag_links`` as they come (``with_tag_links``)."""

    def __iter__(self):
        articles = super().__iter__()
        while chunk := list(islice(articles, TAG_LINK_CHUNK)):
            self.attach(chunk, using=self.queryset.db)
            yield from chunk

    @staticmethod
    def attach(articles, using) -> None:
        attach_tag_links(articles, using=using)


class _WithParts(_WithTagLinks):
    """Articles, each given its ``tag_links`` and ``part_rows`` as they come (``with_parts``)."""

    @staticmethod
    def attach(articles, using) -> None:
        attach_parts(articles, using=using)


def attach_tag_links(articles, using=None) -> None:
    """Give each article its stack and tool tags in document order (``Article.tag_links``)."""
    attach_parts(articles, using=using, parts=False)


IMAGE_COLUMNS = ("source", "url", "caption", "image", "width", "height")
_TAGS, _ENTITIES, _IMAGES = 0, 1, 2


def attach_parts(articles, using=None, *, tags: bool = True, parts: bool = True) -> None:
    """Give each article its tags (``tag_links``) and its entities, as (name, type), and image
    sources, as dicts of ``IMAGE_COLUMNS`` (``image``: the stored file's name), in document
    order (``part_rows``); ``tags`` or ``parts`` false leaves those out.

    Plain values, not instances: building a link, an entity and an image instance for each was,
    in a profile, about a sixth of an uncached article page's Python. One query, a UNION ALL of
    the link tables in SQL written here: three ORM queries, each compiled and sent on its own,
    were about a sixth of an uncached article page's time at 100,000 articles, and compiling
    the tags' query alone was about a millisecond of a list page's.
    """
    ids = [article.pk for article in articles]
    if not ids:
        return
    entities = {pk: [] for pk in ids}
    images = {pk: [] for pk in ids}
    links = {pk: [] for pk in ids}
    connection = connections[using or router.db_for_read(ArticleTag)]
    sql, branches = _parts_sql(connection, len(ids), tags=tags, parts=parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, ids * branches)
        for kind, article_id, _position, one, two, three, image, width, height in cursor.fetchall():
            if kind == _TAGS:
                links[article_id].append(TagLink(one, two, three))
            elif kind == _ENTITIES:
                entities[article_id].append((one, two))
            else:
                images[article_id].append(
                    dict(zip(IMAGE_COLUMNS, (one, two, three, image, width, height), strict=True))
                )
    for article in articles:
        if parts:
            article._part_rows = (entities[article.pk], images[article.pk])
        if tags:
            article._tag_links = links[article.pk]


def attach_part_rows(articles, using=None) -> None:
    """Give each article its entities and image sources (``part_rows``), not its tags."""
    attach_parts(articles, using=using, tags=False)


def _parts_sql(connection, count: int, *, tags: bool, parts: bool) -> tuple[str, int]:
    """The SQL of ``attach_parts`` and its number of branches, each taking the ``count`` ids:
    rows of (part, article id, position, three texts, image, width, height), in order of part,
    article and position."""
    name = connection.ops.quote_name
    marks = ", ".join(["%s"] * count)
    no_number = "CAST(NULL AS INTEGER)"

    def linked(kind: int, link, target, columns: tuple[str, ...]) -> str:
        fields = [f"t.{name(column)}" for column in columns] + ["NULL"] * (3 - len(columns))
        return (
            f"SELECT {kind}, l.article_id, l.position, {', '.join(fields)}, NULL, {no_number}, {no_number} "
            f"FROM {name(link._meta.db_table)} l JOIN {name(target._meta.db_table)} t "
            f"ON t.id = l.{name(link._meta.get_field(target._meta.model_name).column)} "
            f"WHERE l.article_id IN ({marks})"
        )

    branches = []
    if tags:
        branches.append(linked(_TAGS, ArticleTag, Tag, ("kind", "name", "slug")))
    if parts:
        branches.append(linked(_ENTITIES, ArticleEntity, Entity, ("name", "type")))
        branches.append(
            f"SELECT {_IMAGES}, article_id, position, {', '.join(name(c) for c in IMAGE_COLUMNS)} "
            f"FROM {name(ImageSource._meta.db_table)} WHERE article_id IN ({marks})"
        )
    return " UNION ALL ".join(branches) + " ORDER BY 1, 2, 3", len(branches)


class Article(models.Model):
    """The live version of an article. A pending draft lives in a newer revision (releases app)."""

    # Identity
    reference = models.CharField(
        max_length=200, unique=True, help_text="The source's identity for the article across imports."
    )
    site = models.CharField(max_length=100, help_text="Site named by the post-meta header.")
    slug = models.SlugField(max_length=255, unique=True, help_text="Made from the title once; never changes.")
    title = models.CharField(max_length=500)

    # Post-meta scalars. NULL means the document did not carry the entry.
    topic = models.TextField(null=True, blank=True)
    summary = models.TextField(null=True, blank=True)
    brief = models.TextField(null=True, blank=True, help_text="The post-meta box's 'ai brief'.")
    code_language = models.CharField(max_length=50, null=True, blank=True)
    difficulty = models.CharField(max_length=50, null=True, blank=True)
    reading_time = models.PositiveIntegerField(null=True, blank=True, help_text="Minutes.")
    view_count = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The imported figure; reader visits are not counted."
    )
    source_hash = models.CharField(
        max_length=200, null=True, blank=True, help_text="The source's checksum: stored, not verified."
    )

    # Scores 0-100, NULL when the document has no score record.
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    freshness = models.PositiveSmallIntegerField(null=True, blank=True)
    depth = models.PositiveSmallIntegerField(null=True, blank=True)
    clarity = models.PositiveSmallIntegerField(null=True, blank=True)

    # The revision block as the post-meta box shows it.
    revision_status = models.CharField(max_length=50, null=True, blank=True)
    version = models.CharField(max_length=40, null=True, blank=True, help_text="MAJOR.MINOR.PATCH")
    last_reviewed = models.DateField(null=True, blank=True)

    # Flags, NULL when the document has no flags record.
    ai_generated_style = models.BooleanField(null=True, blank=True)
    has_images = models.BooleanField(null=True, blank=True)
    image_heavy = models.BooleanField(null=True, blank=True)
    needs_human_review = models.BooleanField(null=True, blank=True)

    # Parts read whole with the article.
    outline = models.JSONField(null=True, blank=True, help_text="context, problem, stack, recommended_action")
    payload = models.JSONField(
        null=True, blank=True, help_text="source_id, generator, paragraphs, scenario, seed"
    )
    checklist = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    extra = models.JSONField(
        default=dict, blank=True, help_text="Unknown meta entries, key -> list of values."
    )
    body = models.JSONField(default=list, blank=True, help_text="Typed body blocks in order.")
    body_text = models.TextField(blank=True, help_text="The body exactly as written.")
    # Derived from the content: the stack and tool tags and entity names, one a line, so that
    # full-text search indexes them from this row alone (articles/search.py).
    labels = models.TextField(
        blank=True, default="", editable=False, help_text="Stack, tools and entity names, for search."
    )

    # Tags and entities, ordered per article.
    tags = models.ManyToManyField(Tag, through="ArticleTag", related_name="articles")
    entities = models.ManyToManyField(Entity, through="ArticleEntity", related_name="articles")

    # Workflow and import bookkeeping.
    state = models.CharField(
        max_length=20,
        choices=ArticleState.choices,
        default=ArticleState.DRAFT,
        help_text="State of the content on this row: published (live), archived, or the review state "
        "of an article that was never published.",
    )
    published_at = models.DateTimeField(null=True, blank=True, help_text="When it first went live.")
    source_digest = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the last imported, normalised text."
    )
    source_version = models.CharField(
        max_length=40, blank=True, help_text="Revision version of the last imported document."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            # Newest live articles first; on PostgreSQL it also carries the filter values, so
            # the facets the home page offers are read from it alone (an index-only scan).
            models.Index(
                fields=["state", "-published_at", "-id"],
                include=["difficulty", "code_language"],
                name="article_live_latest",
            ),
            models.Index(fields=["title"], name="article_title"),
            models.Index(fields=["view_count"], name="article_view_count"),
            models.Index(fields=["reading_time"], name="article_reading_time"),
            models.Index(fields=["last_reviewed"], name="article_last_reviewed"),
            models.Index(fields=["quality"], name="article_quality"),
            models.Index(fields=["freshness"], name="article_freshness"),
            models.Index(fields=["depth"], name="article_depth"),
            models.Index(fields=["clarity"], name="article_clarity"),
            models.Index(fields=["needs_human_review", "state"], name="article_review_queue"),
            # Declared here rather than with db_index=True on the fields: on PostgreSQL that also
            # builds a second, pattern-matching index per text column, which no query uses and
            # every import would have to write.
            models.Index(fields=["site"], name="article_site"),
            # Also with state and id: the home page's facets step from one value to the next
            # through them, and a filter on a value counts its live articles in id order, which
            # merges with a tag's or entity's list of article ids (docs/scaling.md).
            models.Index(fields=["code_language", "state", "id"], name="article_code_language"),
            models.Index(fields=["difficulty", "state", "id"], name="article_difficulty"),
            # The live articles' ids in order: a tag's or entity's page counts its live articles
            # by merging this with the tag's (or entity's) list of article ids, both index-only,
            # instead of fetching each article's row to see whether it is live (docs/scaling.md).
            models.Index(fields=["id"], name="article_live_id", condition=LIVE),
            models.Index(fields=["revision_status"], name="article_revision_status"),
            models.Index(fields=["source_digest"], name="article_source_digest"),
            # Live lists in a descending order (``ordering=-quality``): read in the order of the
            # index until a page is full, never sorted whole.
            *(
                LiveOrderIndex(
                    F(name).desc(nulls_last=True), F("id").desc(), name=f"article_live_{name}", condition=LIVE
                )
                for name in LIVE_ORDERINGS
            ),
        ]
        constraints = [
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__lte": 100}),
                    name=f"article_{name}_0_100",
                )
                for name in SCORE_FIELDS
            ),
            models.CheckConstraint(condition=~Q(reference=""), name="article_reference_not_empty"),
            models.CheckConstraint(condition=~Q(slug=""), name="article_slug_not_empty"),
            models.CheckConstraint(condition=Q(state__in=ArticleState.values), name="article_state_valid"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return article_url(self.slug)

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None:  # a whole reload forgets the parts read, as it forgets prefetched rows
            self.__dict__.pop("_tag_links", None)
            self.__dict__.pop("_part_rows", None)

    def part_rows(self) -> tuple[list[tuple[str, str]], list[dict]]:
        """The entities, as (name, type), and the image sources, as dicts of ``IMAGE_COLUMNS``,
        in document order: as read with the article's queryset (``with_parts``), else read now
        and not kept, so that a writer that reads an article again sees what it wrote."""
        rows = self.__dict__.get("_part_rows")
        if rows is None:
            attach_part_rows([self], using=self._state.db)
            rows = self.__dict__.pop("_part_rows")
        return rows

    @property
    def tag_links(self) -> list[TagLink]:
        """The stack and tool tags in document order: read with the article's queryset
        (``with_tag_links``), else by one query here."""
        if not hasattr(self, "_tag_links"):
            attach_tag_links([self], using=self._state.db)
        return self._tag_links

    @property
    def is_live(self) -> bool:
        return self.state == ArticleState.PUBLISHED

    @property
    def has_released_version(self) -> bool:
        """Published or archived: the row holds a released version, so new changes wait beside
        it (in a pending revision: releases.models.Release)."""
        return self.state in (ArticleState.PUBLISHED, ArticleState.ARCHIVED)


# How the part tables (tags, entities and image sources of an article) point at their article.
# PostgreSQL checks a foreign key with one query per inserted row, and an article brings some
# twenty part rows: those checks were a fifth of the database's work in a bulk import. The rows
# are written only by articles.writing, in the same transaction as their article; articles are
# never deleted while they have revisions (Revision.article is PROTECT), and deletes through
# Django still cascade (on_delete works without the database's constraint). Tags and entities
# are PROTECTed the same way.
PART_KEYS = {"on_delete": models.CASCADE, "db_index": False, "db_constraint": False}


class ArticleTag(models.Model):
    """An article's stack or tool tag, at its position in the document's list."""

    # Each foreign key is the first column of a composite index below, which serves its lookups:
    # a separate index of its own would only cost every import another write.
    # Part rows have no database-level foreign keys (PART_KEYS): only articles.writing writes
    # them, in the transaction that writes their article.
    article = models.ForeignKey(Article, related_name="article_tags", **PART_KEYS)
    tag = models.ForeignKey(
        Tag, on_delete=models.PROTECT, related_name="article_tags", db_index=False, db_constraint=False
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["article", "position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "tag"], name="articletag_unique"),
        ]
        indexes = [models.Index(fields=["tag", "article"], name="articletag_by_tag")]

    def __str__(self):
        return f"{self.article_id} #{self.position}: {self.tag_id}"


class ArticleEntity(models.Model):
    """An entity an article names, at its position in the document's list."""

    # As for ArticleTag: the composite indexes below serve lookups by either key.
    article = models.ForeignKey(Article, related_name="article_entities", **PART_KEYS)
    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, related_name="article_entities", db_index=False, db_constraint=False
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["article", "position"]
        verbose_name_plural = "article entities"
        constraints = [
            models.UniqueConstraint(fields=["article", "entity"], name="articleentity_unique"),
        ]
        indexes = [models.Index(fields=["entity", "article"], name="articleentity_by_entity")]

    def __str__(self):
        return f"{self.article_id} #{self.position}: {self.entity_id}"


def image_upload_to(instance, filename):
    return f"articles/{instance.article_id}/{filename}"


class ImageSource(models.Model):
    """One of an article's image sources, in document order, with an optional uploaded copy."""

    # Served by the unique (article, position) index.
    article = models.ForeignKey(Article, related_name="image_sources", **PART_KEYS)
    position = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000, help_text="http or https only.")
    caption = models.TextField(blank=True)
    image = models.ImageField(
        upload_to=image_upload_to, width_field="width", height_field="height", null=True, blank=True
    )
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["article", "position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "position"], name="imagesource_unique_position"),
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="imagesource_url_http",
            ),
        ]

    def __str__(self):
        return self.caption or self.url

"""Shared names: renaming a stack or tool tag, or an entity, everywhere it is used, as new
revisions of every article that carries it (live and pending), each with its audit event; never
a silent rewrite of live rows."""

from django.db import transaction

from articles.changes import articles_changed
from articles.models import Article, ArticleState, Entity, Tag
from articles.writing import article_apply_content, tag_slug
from releases.errors import InvalidContent
from releases.models import AuditAction, Release, RevisionKind

from .rules import _require
from .steps import _add_revision, _audit, _go_live, _locked, _make_pending, _with_revision_block
from .versions import _next_published_version


@transaction.atomic
def tag_rename(*, tag: Tag, user, name: str, note: str = "") -> int:
    """Rename a stack or tool tag everywhere it is used (see ``_rename_in_articles``)."""
    _require(user, "releases.publish_article", "rename tags on live articles")
    _require(user, "articles.change_tag", "rename tags")
    name = " ".join((name or "").split()).lower()
    if not name:
        raise InvalidContent("A tag needs a name.", [{"line": None, "field": "name", "message": "is empty"}])
    tag = Tag.objects.select_for_update().get(pk=tag.pk)
    old = tag.name
    if name == old:
        return 0
    key = "stack" if tag.kind == Tag.Kind.STACK else "tools"
    if Tag.objects.filter(kind=tag.kind, name=name).exclude(pk=tag.pk).exists():
        raise InvalidContent(f"There is already a {tag.kind} tag named {name!r}.", [])
    live = Article.objects.filter(article_tags__tag=tag).values_list("pk", flat=True)
    carriers = _carriers(live, lambda content: old in (content.get(key) or []))
    tag.name, tag.slug = name, tag_slug(name)
    tag.save(update_fields=["name", "slug"])
    articles_changed([], live=True)  # the tag's page moves, even with no live article on it

    def renamed(content: dict) -> dict:
        names = [name if item == old else item for item in content.get(key) or []]
        return {**content, key: list(dict.fromkeys(names))}

    note = note or f"{tag.kind} tag renamed from {old!r} to {name!r}"
    return _rename_in_articles(carriers, renamed, user=user, note=note, action=AuditAction.RENAME_TAG)


@transaction.atomic
def entity_rename(*, entity: Entity, user, name: str, note: str = "") -> int:
    """Rename an entity everywhere it is named (see ``_rename_in_articles``)."""
    _require(user, "releases.publish_article", "rename entities on live articles")
    _require(user, "articles.change_entity", "rename entities")
    name = " ".join((name or "").split())
    if not name:
        raise InvalidContent(
            "An entity needs a name.", [{"line": None, "field": "name", "message": "is empty"}]
        )
    entity = Entity.objects.select_for_update().get(pk=entity.pk)
    old, type_ = entity.name, entity.type
    if name == old:
        return 0
    if Entity.objects.filter(type=type_, name=name).exclude(pk=entity.pk).exists():
        raise InvalidContent(f"There is already a {type_} entity named {name!r}.", [])
    was = {"name": old, "type": type_}
    live = Article.objects.filter(article_entities__entity=entity).values_list("pk", flat=True)
    carriers = _carriers(live, lambda content: was in (content.get("entities") or []))
    entity.name, entity.slug = name, tag_slug(name)
    entity.save(update_fields=["name", "slug"])
    articles_changed([], live=True)  # the entity's page moves, even with no live article on it

    def renamed(content: dict) -> dict:
        entities = [{**item, "name": name} if item == was else item for item in content.get("entities") or []]
        unique = list({(item["type"], item["name"]): item for item in reversed(entities)}.values())[::-1]
        return {**content, "entities": unique}

    note = note or f"{type_} entity renamed from {old!r} to {name!r}"
    return _rename_in_articles(carriers, renamed, user=user, note=note, action=AuditAction.RENAME_ENTITY)


def _carriers(live_ids, names_it) -> list[int]:
    """Articles whose live row carries a name (``live_ids``) or whose pending work does."""
    ids = set(live_ids)
    pending = Release.objects.filter(pending_revision__isnull=False).select_related("pending_revision")
    ids |= {release.article_id for release in pending if names_it(release.pending_revision.content)}
    return sorted(ids)


def _rename_in_articles(article_ids, renamed, *, user, note: str, action: str) -> int:
    """A shared name changed: every live revision that carries it is followed by a published one
    with the new name (next patch version; an archived article stays down), and pending work by a
    new pending revision, each with its audit event. Returns how many articles changed."""
    changed = 0
    for article_id in article_ids:
        article, release = _locked(Article(pk=article_id))
        touched = False
        live = release.live_revision
        if live is not None and renamed(live.content) != live.content:
            content = _with_revision_block(
                renamed(live.content), version=_next_published_version(article, live.version, "patch")
            )
            made = _add_revision(
                article, kind=RevisionKind.RENAME, state=ArticleState.PUBLISHED, content=content, user=user,
                note=note, base=live,
            )  # fmt: skip
            if article.state == ArticleState.PUBLISHED:
                _go_live(article, release, made)
            else:  # archived: it stays down, and shows the new name when it comes back
                release.live_revision = made
                release.save()
                article_apply_content(article, made.content)
                articles_changed([article.pk], live=False)
            _audit(article, action, user=user, from_state=article.state, to_state=article.state, note=note,
                   revision=made)  # fmt: skip
            touched = True
        pending = release.pending_revision
        if pending is not None and renamed(pending.content) != pending.content:
            content = renamed(pending.content)
            made = _add_revision(
                article, kind=RevisionKind.RENAME, state=release.review_state, content=content, user=user,
                note=note, base=pending,
            )  # fmt: skip
            _make_pending(article, release, made, release.review_state, edited=False)
            _audit(article, action, user=user, from_state=release.review_state, to_state=release.review_state,
                   note=note, revision=made)  # fmt: skip
            touched = True
        changed += touched
    return changed

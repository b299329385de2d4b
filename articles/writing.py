"""Writing an article's content to its row and parts, for the importer and the workflow alike."""

import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.bulk import bulk_insert_rows
from articles.content import article_field_values
from articles.models import Article, ArticleEntity, ArticleTag, Entity, ImageSource, Tag


def tag_slug(name: str) -> str:
    return slugify(name)[:200] or hashlib.sha1(name.encode()).hexdigest()[:12]


class PartsWriter:
    """Writes tags, entities and image sources of many articles in a few statements.

    It caches the ids of shared tags and entities; one instance serves a whole import run.
    """

    def __init__(self):
        self._tag_ids: dict[tuple[str, str], int] = {}
        self._entity_ids: dict[tuple[str, str], int] = {}

    def replace(self, pairs: list[tuple[int, dict]]) -> None:
        """Rewrite the parts of existing articles (by id) from their content, uploads included:
        the content is the whole truth (a revision carries its uploads)."""
        ids = [article_id for article_id, _ in pairs]
        ArticleTag.objects.filter(article_id__in=ids).delete()
        ArticleEntity.objects.filter(article_id__in=ids).delete()
        ImageSource.objects.filter(article_id__in=ids).delete()
        self.write(pairs)

    def write(self, pairs: list[tuple[int, dict]]) -> None:
        """Write the parts of articles that have none yet: pairs of (article id, content)."""
        tag_ids = self._resolve_tags(pairs)
        entity_ids = self._resolve_entities(pairs)
        links, entity_links, images = [], [], []
        for article_id, content in pairs:
            seen = set()
            for kind, key in ((Tag.Kind.STACK, "stack"), (Tag.Kind.TOOL, "tools")):
                for position, name in enumerate(content.get(key) or []):
                    tag_id = tag_ids[(kind, name)]
                    if tag_id not in seen:
                        seen.add(tag_id)
                        links.append((article_id, tag_id, position))
            seen = set()
            for position, entity in enumerate(content.get("entities") or []):
                entity_id = entity_ids[(entity["type"], entity["name"])]
                if entity_id not in seen:
                    seen.add(entity_id)
                    entity_links.append((article_id, entity_id, position))
            for position, image in enumerate(content.get("image_sources") or []):
                caption = image.get("caption") or ""
                upload, width, height = image.get("upload") or "", image.get("width"), image.get("height")
                images.append(
                    (
                        article_id,
                        position,
                        image.get("source") or "",
                        image["url"],
                        caption,
                        upload,
                        width,
                        height,
                    )
                )
        bulk_insert_rows(ArticleTag, ("article_id", "tag_id", "position"), links)
        bulk_insert_rows(ArticleEntity, ("article_id", "entity_id", "position"), entity_links)
        bulk_insert_rows(
            ImageSource,
            ("article_id", "position", "source", "url", "caption", "image", "width", "height"),
            images,
        )

    def _resolve_tags(self, pairs) -> dict[tuple[str, str], int]:
        wanted = {
            (kind, name)
            for _, content in pairs
            for kind, key in ((Tag.Kind.STACK, "stack"), (Tag.Kind.TOOL, "tools"))
            for name in content.get(key) or []
        }
        return self._resolve(
            Tag,
            self._tag_ids,
            wanted,
            lambda kind, name: Tag(kind=kind, name=name, slug=tag_slug(name)),
            ("kind", "name"),
        )

    def _resolve_entities(self, pairs) -> dict[tuple[str, str], int]:
        wanted = {
            (entity["type"], entity["name"])
            for _, content in pairs
            for entity in content.get("entities") or []
        }
        return self._resolve(
            Entity,
            self._entity_ids,
            wanted,
            lambda type_, name: Entity(type=type_, name=name, slug=tag_slug(name)),
            ("type", "name"),
        )

    def _resolve(self, model, cache, wanted, build, key_fields):
        """Ids of shared rows, creating missing ones; safe against a concurrent importer."""
        missing = wanted - cache.keys()
        if missing:
            found = self._lookup(model, key_fields, missing)
            absent = missing - found.keys()
            if absent:
                model.objects.bulk_create([build(*key) for key in sorted(absent)], ignore_conflicts=True)
                found.update(self._lookup(model, key_fields, absent))
            still = missing - found.keys()
            if still:
                # Same name slugifying to a taken slug: fall back to a slug with a short digest.
                for key in sorted(still):
                    row = build(*key)
                    row.slug = f"{row.slug[:200]}-{hashlib.sha1(key[1].encode()).hexdigest()[:8]}"
                    row.save()
                    found[key] = row.pk
            # Only after the transaction commits may ids enter the run-wide cache.
            transaction.on_commit(lambda found=found: cache.update(found))
            return {**cache, **found}
        return cache

    @staticmethod
    def _lookup(model, key_fields, keys) -> dict[tuple[str, str], int]:
        first, second = key_fields
        found = {}
        by_first: dict[str, list[str]] = {}
        for a, b in keys:
            by_first.setdefault(a, []).append(b)
        for a, names in by_first.items():
            rows = model.objects.filter(**{first: a, f"{second}__in": names}).values_list(first, second, "id")
            found.update({(x, y): pk for x, y, pk in rows})
        return found


def update_row(article: Article, values: dict[str, Any]) -> None:
    """Write these column values to the article's row and to the instance in hand."""
    Article.objects.filter(pk=article.pk).update(**values)
    for name, value in values.items():
        setattr(article, name, value)


def article_apply_content(article: Article, content: dict[str, Any]) -> None:
    """Make ``content`` the article's row and parts (the caller saves workflow fields)."""
    update_row(article, {**article_field_values(content), "updated_at": timezone.now()})
    PartsWriter().replace([(article.id, content)])

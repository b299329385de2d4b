"""An article's whole content as one JSON-able dict, and the rules that hang on it.

The same dict is what the importer writes, what a revision stores as its snapshot, and what
publishing or rolling back applies to the live article, so each rule here has one home.
"""

import datetime as dt
import re
from typing import Any

from django.db import models

from articles.models import FLAG_FIELDS, SCORE_FIELDS, Article, ArticleEntity, ArticleTag, ImageSource
from articles.parsing import ParsedPage, Problem, check_url

MAX_READING_TIME = 2_147_483_647  # the column is a 32-bit integer on every database
MAX_PARTS = 32_767  # stack, tools, entities, image sources: their positions are small integers
VERSION_RE = re.compile(r"^(\d{1,9})\.(\d{1,9})\.(\d{1,9})$")

# Keys of the content dict, in the order of the meta JSON.
CONTENT_KEYS = (
    "title", "site", "reference", "topic", "summary", "brief", "outline", "stack", "tools",
    "code_language", "difficulty", "reading_time", "view_count", "scores", "revision", "hash",
    "flags", "checklist", "entities", "image_sources", "payload", "notes", "extra", "body", "body_text",
)  # fmt: skip

# Content keys stored as columns of the same name on Article.
_SAME_NAME = (
    "title", "site", "topic", "summary", "brief", "code_language", "difficulty", "reading_time",
    "view_count", "outline", "payload", "checklist", "notes", "extra", "body", "body_text",
)  # fmt: skip


def version_key(version: str | None) -> tuple[int, int, int] | None:
    """Numeric sort key of a MAJOR.MINOR.PATCH version (1.10.0 sorts after 1.9.0); None if absent."""
    match = VERSION_RE.match(version or "")
    return tuple(int(part) for part in match.groups()) if match else None


def content_version(content: dict[str, Any]) -> str:
    """The revision version a content dict carries, or '' when it has none."""
    return (content.get("revision") or {}).get("version") or ""


def content_from_page(page: ParsedPage) -> dict[str, Any]:
    """The content dict of a parsed document (dates as ISO strings, lists in document order)."""
    revision = None
    if page.revision is not None:
        revision = dict(page.revision)
        if isinstance(revision.get("last_reviewed"), dt.date):
            revision["last_reviewed"] = revision["last_reviewed"].isoformat()
    return {
        "title": page.title,
        "site": page.site,
        "reference": page.reference,
        "topic": page.topic,
        "summary": page.summary,
        "brief": page.brief,
        "outline": page.outline,
        "stack": list(page.stack),
        "tools": list(page.tools),
        "code_language": page.code_language,
        "difficulty": page.difficulty,
        "reading_time": page.reading_time,
        "view_count": page.view_count,
        "scores": page.scores,
        "revision": revision,
        "hash": page.hash,
        "flags": page.flags,
        "checklist": list(page.checklist),
        "entities": [dict(entity) for entity in page.entities],
        "image_sources": [dict(image) for image in page.image_sources],
        "payload": page.payload,
        "notes": list(page.notes),
        "extra": {key: list(values) for key, values in page.extra.items()},
        "body": [block.as_dict() for block in page.body],
        "body_text": page.body_text,
    }


def is_live_eligible(content: dict[str, Any]) -> bool:
    """A document goes live on import when its source reviewed it and asks for no human review."""
    revision = content.get("revision") or {}
    flags = content.get("flags") or {}
    return revision.get("status") == "reviewed" and flags.get("needs_human_review") is False


def article_field_values(content: dict[str, Any]) -> dict[str, Any]:
    """Column values of Article for a content dict (tags, entities and images excepted)."""
    values = {name: content.get(name) for name in _SAME_NAME}
    for name in ("checklist", "notes", "body"):
        values[name] = values[name] or []
    values["extra"] = values["extra"] or {}
    values["body_text"] = values["body_text"] or ""
    values["reference"] = content["reference"]
    values["source_hash"] = content.get("hash")
    scores = content.get("scores") or {}
    for name in SCORE_FIELDS:
        values[name] = scores.get(name)
    flags = content.get("flags") or {}
    for name in FLAG_FIELDS:
        values[name] = flags.get(name)
    revision = content.get("revision") or {}
    values["revision_status"] = revision.get("status")
    values["version"] = revision.get("version")
    last_reviewed = revision.get("last_reviewed")
    values["last_reviewed"] = dt.date.fromisoformat(last_reviewed) if last_reviewed else None
    return values


# The max_length of each of Article's columns (None when it has none), read once: asking
# Article._meta for the field of every value of every document took most of validate_content's time.
_MAX_LENGTHS = {field.name: getattr(field, "max_length", None) for field in Article._meta.concrete_fields}


def validate_content(content: dict[str, Any], values: dict[str, Any] | None = None) -> list[Problem]:
    """Problems that the format allows but the database would refuse (text longer than a column).

    ``values``: the content's article_field_values, when the caller has them already.
    """
    problems = []
    for name, value in (values if values is not None else article_field_values(content)).items():
        max_length = _MAX_LENGTHS[name]
        if max_length and isinstance(value, str) and len(value) > max_length:
            problems.append(
                Problem(
                    None, name.replace("_", " "), f"is {len(value)} characters long; at most {max_length}"
                )
            )
    reading_time = content.get("reading_time")
    if reading_time is not None and reading_time > MAX_READING_TIME:
        problems.append(Problem(None, "reading time", f"is larger than {MAX_READING_TIME:,}"))
    for kind, label in (
        ("stack", "stack"),
        ("tools", "tools"),
        ("entities", "entities"),
        ("image_sources", "image sources"),
    ):
        if len(content.get(kind) or []) > MAX_PARTS:
            problems.append(Problem(None, label, f"has {len(content[kind]):,} items; at most {MAX_PARTS:,}"))
    for kind in ("stack", "tools"):
        names = content.get(kind) or []
        if names and max(map(len, names)) > 200:  # rarely: then say which
            for index, name in enumerate(names, start=1):
                if len(name) > 200:
                    problems.append(Problem(None, f"{kind}[{index}]", "is longer than 200 characters"))
    for index, entity in enumerate(content.get("entities") or [], start=1):
        if len(entity.get("name") or "") > 200 or len(entity.get("type") or "") > 100:
            problems.append(Problem(None, f"entities[{index}]", "name or type is too long (200/100)"))
        if not entity.get("name") or not entity.get("type"):
            problems.append(Problem(None, f"entities[{index}]", "needs both a name and a type"))
    for index, image in enumerate(content.get("image_sources") or [], start=1):
        url, message = check_url(image.get("url") or "")
        if url is None:
            problems.append(Problem(None, f"image sources[{index}].url", message))
        if len(image.get("url") or "") > 2000:
            problems.append(Problem(None, f"image sources[{index}].url", "is longer than 2000 characters"))
        if len(image.get("source") or "") > 200:
            problems.append(Problem(None, f"image sources[{index}].source", "is longer than 200 characters"))
    return problems


def tag_names(article: Article) -> tuple[list[str], list[str]]:
    """An article's stack and tool tag names in document order, from prefetched links."""
    links = sorted(article.article_tags.all(), key=lambda link: link.position)
    return (
        [link.tag.name for link in links if link.tag.kind == "stack"],
        [link.tag.name for link in links if link.tag.kind == "tool"],
    )


def revision_block(article: Article) -> dict[str, Any] | None:
    """The post-meta box's revision record of an article, or None when it has none."""
    if article.revision_status is None and article.version is None and article.last_reviewed is None:
        return None
    return {
        "status": article.revision_status,
        "version": article.version,
        "last_reviewed": article.last_reviewed.isoformat() if article.last_reviewed else None,
    }


def _image_dict(image) -> dict[str, Any]:
    data = {"source": image.source or None, "url": image.url, "caption": image.caption or None}
    if image.image:
        data.update(upload=image.image.name, width=image.width, height=image.height)
    return data


def content_from_article(article: Article) -> dict[str, Any]:
    """The content dict of a saved article, read from its row and prefetched parts."""
    stack, tools = tag_names(article)
    entities = sorted(article.article_entities.all(), key=lambda link: link.position)
    images = sorted(article.image_sources.all(), key=lambda image: image.position)
    has_scores = any(getattr(article, name) is not None for name in SCORE_FIELDS)
    has_flags = any(getattr(article, name) is not None for name in FLAG_FIELDS)
    content = {name: getattr(article, name) for name in _SAME_NAME}
    content.update(
        reference=article.reference,
        hash=article.source_hash,
        stack=stack,
        tools=tools,
        entities=[{"name": link.entity.name, "type": link.entity.type} for link in entities],
        image_sources=[_image_dict(image) for image in images],
        scores={name: getattr(article, name) for name in SCORE_FIELDS} if has_scores else None,
        flags={name: getattr(article, name) for name in FLAG_FIELDS} if has_flags else None,
        revision=revision_block(article),
    )
    return {key: content[key] for key in CONTENT_KEYS}


def content_prefetch(queryset: models.QuerySet) -> models.QuerySet:
    """Prefetch what content_from_article reads: three queries for any number of articles.

    Tags and entities come with their link rows (one join each) instead of one more query each,
    ordered by their own keys so the join does not pull in the article table to sort.
    """
    return queryset.prefetch_related(
        models.Prefetch(
            "article_tags", queryset=ArticleTag.objects.select_related("tag").order_by("position")
        ),
        models.Prefetch(
            "article_entities", queryset=ArticleEntity.objects.select_related("entity").order_by("position")
        ),
        models.Prefetch("image_sources", queryset=ImageSource.objects.order_by("position")),
    )

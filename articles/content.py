"""An article's whole content as one JSON-able dict, and the rules that hang on it.

The same dict is what the importer writes, what a revision stores as its snapshot, and what
publishing or rolling back applies to the live article, so each rule here has one home.
"""

import datetime as dt
import re
from typing import Any

from django.db import models

from articles.models import FLAG_FIELDS, SCORE_FIELDS, Article, Tag
from articles.parsing import MAX_ERRORS, ParsedPage, Problem, check_url, parse_version, version_problem

MAX_READING_TIME = 2_147_483_647  # the column is a 32-bit integer on every database
MAX_PARTS = 32_767  # stack, tools, entities, image sources: their positions are small integers

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
    return parse_version(version)


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
    values["labels"] = content_labels(content)
    return values


def content_labels(content: dict[str, Any]) -> str:
    """The ``labels`` column: stack and tool tags and entity names, one a line (full-text search
    weighs them with the topic and summary; articles/search.py)."""
    names = [*(content.get("stack") or []), *(content.get("tools") or [])]
    names.extend(entity.get("name") for entity in content.get("entities") or [] if isinstance(entity, dict))
    return "\n".join(name for name in names if isinstance(name, str))


# --------------------------------------------------------------------------- validation

# The characters no string of a content dict may hold: Unicode category Cc (the C0 controls,
# DEL and the C1 controls) but tab and line feed. CR is among the bytes below: clean_content
# turns CRLF and lone CR into LF, so a CR found there only sends the content down the slow,
# repairing path. U+2028 and U+2029 (line and paragraph separators) are not controls: allowed.
_CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
_BAD_IN_TEXT = re.compile(rf"[{_CONTROLS}]")
_BAD_IN_LINE = re.compile(rf"[\n{_CONTROLS}]")  # one-line strings: no line feed either
# The same characters as UTF-8 bytes: the C0 controls and DEL are single bytes, the C1 controls
# (U+0080 to U+009F) are 0xC2 then 0x80 to 0x9F.
_BAD_BYTES_IN_TEXT = bytes((*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F))
_BAD_BYTES_IN_LINE = bytes((*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F))
_C1_BYTES = re.compile(rb"\xc2[\x80-\x9f]")
_SCALARS = frozenset({int, float, bool, type(None)})  # values that hold no string

# Content keys whose every string is one line: the parser reads each from one line (or from one
# bullet of a list or record) and the pages show them inline. Elsewhere (body text, body blocks,
# checklist, notes, payload, extra values) a line feed is allowed. Dict keys are always one line.
SINGLE_LINE_KEYS = frozenset(
    {
        "title", "site", "reference", "topic", "summary", "brief", "outline", "stack", "tools",
        "code_language", "difficulty", "reading_time", "view_count", "scores", "revision", "hash",
        "flags", "entities", "image_sources",
    }
)  # fmt: skip

# Extra-meta keys a Django template could resolve to something other than the entry. A template
# looks ``extra.items`` up as the key "items" before the dict method, so an entry named like a
# method of dict hides that method (``{% for key, values in extra.items %}`` then loops over the
# entry's values and fails); the template language refuses names starting with "_". The names
# are the public attributes of dict: clear, copy, fromkeys, get, items, keys, pop, popitem,
# setdefault, update, values. Any key starting with "_" is refused as well.
RESERVED_EXTRA_KEYS = frozenset(name for name in dir(dict) if not name.startswith("_"))

_LABEL_LIMIT = 60  # characters of a user-chosen key shown in a problem's field


def clean_content(
    content: dict[str, Any], *, values: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """A normalised copy of a content dict and the problems that keep it from being stored.

    The copy has CRLF and lone CR turned into LF in every string, dict keys included (lists and
    tuples are copied as lists; other values are kept). The problems, each ``Problem(None,
    field, message)`` with ``field`` a path such as ``"title"``, ``"checklist[2]"`` (counting
    from 1), ``"entities[1].name"``, ``"image sources[1].url"`` or ``"extra.see also[1]"``:

    - a control character (Unicode category Cc but tab and line feed) in any string;
    - a line feed in a one-line field (see ``SINGLE_LINE_KEYS``) or in any dict key;
    - an extra-meta key in ``RESERVED_EXTRA_KEYS`` or starting with "_";
    - a revision version that is not MAJOR.MINOR.PATCH with parts of at most nine digits
      (``articles.parsing.version_problem``);
    - what the database would refuse: text longer than its column, a reading time past a
      32-bit integer, too many parts, entities without a name or type, bad image URLs.

    ``values``: the content's ``article_field_values``, when the caller has them already (they
    are worked out again when normalising changed the content). Like ``article_field_values``,
    raises TypeError, KeyError or ValueError for content not of the shape of
    ``content_from_page`` (callers that take JSON from outside check its shape first).

    Content without any CR or control character, nearly every document, costs a copy and two
    scans: one over all its one-line strings joined, one over the others (see ``_holds_bad``).
    """
    cleaned = dict(content)
    lines: list[str] = list(cleaned)  # the one-line strings, dict keys included
    texts: list[str] = []
    for key, value in cleaned.items():
        kind = type(value)
        if kind is str:
            (lines if key in SINGLE_LINE_KEYS else texts).append(value)
        elif kind not in _SCALARS:
            cleaned[key] = _copy(value, lines if key in SINGLE_LINE_KEYS else texts, lines)
    problems: list[Problem] = []
    if _holds_bad(lines, _BAD_BYTES_IN_LINE) or _holds_bad(texts, _BAD_BYTES_IN_TEXT):
        # Rare: copy again string by string, repairing line ends and naming each bad string.
        cleaned = {}
        for key, value in content.items():
            label = _label(str(key).replace("_", " "))
            name = _repair(key, True, label, problems, "its name ")
            cleaned[name] = _repair(value, key in SINGLE_LINE_KEYS, label, problems, keep_keys=key == "extra")
        values = None  # (the line ends may have changed)
    problems.extend(_reserved_key_problems(cleaned.get("extra")))
    problems.extend(_version_problems(cleaned.get("revision")))
    if values is None:
        values = article_field_values(cleaned)
    problems.extend(_storage_problems(cleaned, values))
    if len(problems) > MAX_ERRORS:
        kept = problems[: MAX_ERRORS - 1]
        note = f"too many problems: only the first {len(kept)} are listed"
        problems = [*kept, Problem(None, "content", note)]
    return cleaned, problems


def validate_content(content: dict[str, Any], values: dict[str, Any] | None = None) -> list[Problem]:
    """The problems ``clean_content`` finds in a content dict (its normalised copy is dropped).

    ``values``: the content's article_field_values, when the caller has them already.
    """
    return clean_content(content, values=values)[1]


def _holds_bad(strings: list, bad_bytes: bytes) -> bool:
    """True when a string of ``strings`` holds a CR, a control, or a line feed if ``bad_bytes`` has it.

    Deleting bytes from the UTF-8 text is several times faster than a regular-expression search
    for a class of characters; only text with a character from U+0080 to U+00BF (rare) needs
    one more search, for a C1 control.
    """
    try:
        text = "\t".join(strings)
    except TypeError:  # a dict key that is not a string: those are not checked
        text = "\t".join(string for string in strings if isinstance(string, str))
    raw = text.encode("utf-8", "surrogatepass")
    return len(raw.translate(None, bad_bytes)) < len(raw) or (
        b"\xc2" in raw and _C1_BYTES.search(raw) is not None
    )


def _copy(value: Any, strings: list, keys: list) -> Any:
    """A copy of a JSON-like value; appends its strings to ``strings``, its dict keys to ``keys``.

    Lists of strings, the usual lists, go in as one string joined by tabs (allowed anywhere).
    Exact type tests first: this runs for every list and record of every imported document.
    """
    kind = type(value)
    if kind is dict:
        copied = dict(value)
        keys.extend(copied)
        for key, item in copied.items():
            kind = type(item)
            if kind is str:
                strings.append(item)
            elif kind not in _SCALARS:
                copied[key] = _copy(item, strings, keys)
        return copied
    if kind is list or kind is tuple:
        if not value:
            return []
        if type(value[0]) is str:
            try:
                strings.append("\t".join(value))
            except TypeError:  # not all strings after all
                pass
            else:
                return list(value)
        copies = []
        for item in value:
            if type(item) is dict:  # entities, image sources, body blocks: inline, for speed
                item = dict(item)
                keys.extend(item)
                for key, field_value in item.items():
                    kind = type(field_value)
                    if kind is str:
                        strings.append(field_value)
                    elif kind not in _SCALARS:
                        item[key] = _copy(field_value, strings, keys)
                copies.append(item)
            else:
                copies.append(_copy(item, strings, keys))
        return copies
    if kind is str or isinstance(value, str):
        strings.append(value)
        return value
    if isinstance(value, dict):
        return _copy(dict(value), strings, keys)
    if isinstance(value, list | tuple):
        return _copy(list(value), strings, keys)
    return value


def _repair(
    value: Any, single: bool, path: str, problems: list[Problem], what: str = "", *, keep_keys: bool = False
) -> Any:
    """The slow path of clean_content: copy ``value``, normalising and checking each string.

    ``path`` names ``value`` in problems; ``what`` starts their message ("its name " for a key);
    ``keep_keys``: the dict's keys are the user's own (extra meta), shown as written.
    """
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
        problems.extend(Problem(None, path, what + message) for message in _text_messages(text, single))
        return text
    if isinstance(value, dict):
        copied = {}
        for key, item in value.items():
            name = key
            if isinstance(key, str):
                name = key.replace("\r\n", "\n").replace("\r", "\n") if "\r" in key else key
                label = f"{path}.{_label(name if keep_keys else name.replace('_', ' '))}"
                problems.extend(
                    Problem(None, label, "its name " + message) for message in _text_messages(name, True)
                )
            else:
                label = f"{path}.{key!r}"
            copied[name] = _repair(item, single, label, problems)
        return copied
    if isinstance(value, list | tuple):
        return [_repair(item, single, f"{path}[{index}]", problems) for index, item in enumerate(value, 1)]
    return value


def _text_messages(text: str, single: bool) -> list[str]:
    """What is wrong with one string (already with LF line ends): at most two messages."""
    messages = []
    line_feed = text.find("\n") if single else -1
    if line_feed >= 0:
        messages.append(f"must be one line, but holds a line break at character {line_feed + 1}")
    found = _BAD_IN_TEXT.search(text)
    if found is not None:
        others = dict.fromkeys(_BAD_IN_TEXT.findall(text, found.end()))
        others.pop(found.group(), None)
        also = f" (and also {', '.join(map(_code, list(others)[:5]))})" if others else ""
        messages.append(
            f"holds the control character {_code(found.group())} at character {found.start() + 1}{also}; "
            "control characters other than tab and line feed are not allowed"
        )
    return messages


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def _label(key: str) -> str:
    """A user-chosen key as a problem shows it: controls and line feeds written as U+XXXX, cut short."""
    label = _BAD_IN_LINE.sub(lambda match: _code(match.group()), key)
    return label if len(label) <= _LABEL_LIMIT else label[:_LABEL_LIMIT] + "…"


def _reserved_key_problems(extra: Any) -> list[Problem]:
    """Extra-meta keys a template would take for a dict method or attribute (RESERVED_EXTRA_KEYS)."""
    problems = []
    for key in extra if isinstance(extra, dict) else ():
        if isinstance(key, str) and (key in RESERVED_EXTRA_KEYS or key.startswith("_")):
            why = "starts with '_'" if key.startswith("_") else "is the name of a dict method"
            message = f"is a reserved name for an extra meta entry (it {why}); rename the entry"
            problems.append(Problem(None, f"extra.{_label(key)}", message))
    return problems


def _version_problems(revision: Any) -> list[Problem]:
    """A revision version the parser would refuse (an empty one counts as none)."""
    version = revision.get("version") if isinstance(revision, dict) else None
    if not version:
        return []
    message = version_problem(version) if isinstance(version, str) else "must be text such as 1.5.4"
    return [Problem(None, "revision.version", message)] if message else []


# The max_length of each of Article's columns (None when it has none), read once: asking
# Article._meta for the field of every value of every document took most of validate_content's time.
_MAX_LENGTHS = {field.name: getattr(field, "max_length", None) for field in Article._meta.concrete_fields}


def _storage_problems(content: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
    """Problems that the format allows but the database would refuse (text longer than a column).

    ``values``: the content's article_field_values.
    """
    problems = []
    for name, value in values.items():
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
    """An article's stack and tool tag names in document order (``Article.tag_links``)."""
    links = article.tag_links
    return (
        [link.name for link in links if link.kind == Tag.Kind.STACK],
        [link.name for link in links if link.kind == Tag.Kind.TOOL],
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


def _image_dict(row: dict[str, Any]) -> dict[str, Any]:
    data = {"source": row["source"] or None, "url": row["url"], "caption": row["caption"] or None}
    if row["image"]:
        data.update(upload=row["image"], width=row["width"], height=row["height"])
    return data


def content_from_article(article: Article) -> dict[str, Any]:
    """The content dict of a saved article, read from its row and its parts (read with it by
    ``content_prefetch``, else by one query each here)."""
    stack, tools = tag_names(article)
    entities, images = article.part_rows()
    has_scores = any(getattr(article, name) is not None for name in SCORE_FIELDS)
    has_flags = any(getattr(article, name) is not None for name in FLAG_FIELDS)
    content = {name: getattr(article, name) for name in _SAME_NAME}
    content.update(
        reference=article.reference,
        hash=article.source_hash,
        stack=stack,
        tools=tools,
        entities=[{"name": name, "type": type_} for name, type_ in entities],
        image_sources=[_image_dict(image) for image in images],
        scores={name: getattr(article, name) for name in SCORE_FIELDS} if has_scores else None,
        flags={name: getattr(article, name) for name in FLAG_FIELDS} if has_flags else None,
        revision=revision_block(article),
    )
    return {key: content[key] for key in CONTENT_KEYS}


def content_prefetch(queryset: models.QuerySet) -> models.QuerySet:
    """What content_from_article reads, read with the articles: three queries for up to 1,000
    articles (tags, entities and image sources as plain values, ``ArticleQuerySet.with_parts``)."""
    return queryset.with_parts()

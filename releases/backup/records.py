"""Reading and checking one article line of a backup (format version 2, or version 1 from
before the revision pointers, whose pointers ``derive_release`` derives): every field checked,
every revision's content through the one content validator, times converted; a line that
cannot be restored raises _Invalid naming the field."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from articles.content import clean_content
from articles.models import Article, ArticleState
from articles.parsing import version_problem
from releases.backup.file_format import _ROW_TIMES, POINTERS, VERSION
from releases.models import AuditAction, ReviewState, Revision, RevisionKind

_V1_ROW_TIMES = ("edited_at", *_ROW_TIMES)
_STATES = frozenset(ArticleState.values)
_RELEASED = (ArticleState.PUBLISHED, ArticleState.ARCHIVED)


class _Invalid(Exception):
    """A backup line that cannot be restored: which field, and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class _Record:
    row: dict[str, Any]
    content: dict[str, Any]
    revisions: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    release: dict[str, Any]  # the pointers as revision numbers of the backup, review_state, edited_at

    @property
    def reference(self) -> str:
        return self.content["reference"]

    def projection(self) -> dict[str, Any]:
        """The content the row shows: the live revision's, else the pending one's (an article
        never published), else (no revision at all) the backup's row content."""
        number = self.release["live_revision"] or self.release["pending_revision"]
        if number is None:
            return self.content
        return next(revision["content"] for revision in self.revisions if revision["number"] == number)

    def usernames(self) -> set[str]:
        names = {revision["author"] for revision in self.revisions} | {event["user"] for event in self.audit}
        return {name for name in names if name}

    def last_change(self) -> dt.datetime | None:
        times = [item["created_at"] for item in (*self.revisions, *self.audit)]
        return max(times, default=None)


def derive_release(
    state: str, pending_state: str | None, edited_at: dt.datetime | None, revisions: Iterable[dict]
) -> dict[str, Any]:
    """An article's pointers (revision numbers) from the state its row kept before the pointers
    existed, as migration releases 0007 derives them: live is the latest revision made in state
    published (of a published or archived article); pending, the latest revision that is not a
    conflict when the article had a pending state or was never published; conflict, the latest
    revision when it is flagged so and is not the pending one.

    ``revisions``: dicts with ``number``, ``state`` and ``conflict``.
    """
    latest_first = sorted(revisions, key=lambda revision: revision["number"], reverse=True)
    released = state in _RELEASED
    live = next((r["number"] for r in latest_first if r["state"] == ArticleState.PUBLISHED), None)
    review_state = pending_state if released else state
    pending = None
    if review_state in ReviewState.values and latest_first:
        pending = next((r["number"] for r in latest_first if not r["conflict"]), latest_first[0]["number"])
    latest = latest_first[0] if latest_first else None
    conflict = latest["number"] if latest and latest["conflict"] and latest["number"] != pending else None
    return {
        "live_revision": live if released else None,
        "pending_revision": pending,
        "conflict_revision": conflict,
        "review_state": review_state if pending is not None else "",
        "edited_at": edited_at,
    }


def _parse_record(data: Any, version: int = VERSION) -> _Record:
    """Check one article line of a backup of format ``version`` and convert its times; raises
    _Invalid naming the field."""
    if not isinstance(data, dict):
        raise _Invalid("line", "is not a JSON object")
    row = _expect(data, "article", dict, "article")
    content = _expect(data, "content", dict, "content")
    revisions = _expect(data, "revisions", list, "revisions")
    audit = _expect(data, "audit", list, "audit")
    parsed_row = _parse_row(row, version)
    parsed_content = _parse_content(content)
    parsed_revisions = _parse_revisions(revisions, parsed_content)
    numbers = {revision["number"] for revision in parsed_revisions}
    if version == 1:
        release = derive_release(
            parsed_row["state"], parsed_row["pending_state"], parsed_row["edited_at"], parsed_revisions
        )
    else:
        release = _parse_release(_expect(data, "release", dict, "release"), numbers)
    record = _Record(parsed_row, parsed_content, parsed_revisions, _parse_audit(audit), release)
    for index, event in enumerate(record.audit):
        if event["revision"] is not None and event["revision"] not in numbers:
            raise _Invalid(
                f"audit[{index}].revision", f"names revision {event['revision']}, which the line lacks"
            )
    return record


def _parse_row(row: dict, version: int) -> dict[str, Any]:
    slug = _expect(row, "slug", str, "article.slug")
    if not slug or len(slug) > Article._meta.get_field("slug").max_length:
        raise _Invalid("article.slug", "must be 1 to 255 characters")
    parsed = {"slug": slug}
    parsed["state"] = _state(row.get("state"), "article.state")
    if version == 1:
        pending = row.get("pending_state")
        parsed["pending_state"] = None if pending is None else _state(pending, "article.pending_state")
    for name in ("source_digest", "source_version"):
        value = _expect(row, name, str, f"article.{name}")
        if len(value) > Article._meta.get_field(name).max_length:
            raise _Invalid(f"article.{name}", "is too long")
        parsed[name] = value
    for name in _V1_ROW_TIMES if version == 1 else _ROW_TIMES:
        optional = name in ("edited_at", "published_at")
        parsed[name] = _time(row.get(name), f"article.{name}", optional=optional)
    return parsed


def _parse_content(content: dict) -> dict[str, Any]:
    for name in ("reference", "site", "title"):
        if not isinstance(content.get(name), str) or not content[name]:
            raise _Invalid(f"content.{name}", "is missing or empty")
    for name in ("stack", "tools", "checklist", "notes"):
        value = content.get(name) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Invalid(f"content.{name}", "must be a list of strings")
    for name, keys in (("entities", ("name", "type")), ("image_sources", ("url",))):
        value = content.get(name) or []
        if not isinstance(value, list):
            raise _Invalid(f"content.{name}", "must be a list of objects")
        for index, item in enumerate(value, start=1):
            if not isinstance(item, dict) or not all(isinstance(item.get(key), str) for key in keys):
                raise _Invalid(f"content.{name}[{index}]", f"must be an object with {' and '.join(keys)}")
    for name in ("scores", "flags", "revision", "outline", "payload"):
        if content.get(name) is not None and not isinstance(content[name], dict):
            raise _Invalid(f"content.{name}", "must be an object or null")
    return _clean(content, "content")


def _clean(content: dict, where: str) -> dict[str, Any]:
    """The content normalised by the one content validator, or _Invalid naming its first problem."""
    try:
        cleaned, problems = clean_content(content)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise _Invalid(where, f"cannot be stored: {exc}") from None
    if problems:
        problem = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise _Invalid(f"{where}.{problem.field}", problem.message + more)
    return cleaned


def _parse_revisions(revisions: list, content: dict[str, Any]) -> list[dict[str, Any]]:
    """The revisions by number, each content checked like the row's and of the same article."""
    parsed, seen = [], set()
    for index, revision in enumerate(revisions):
        where = f"revisions[{index}]"
        if not isinstance(revision, dict):
            raise _Invalid(where, "is not an object")
        number = revision.get("number")
        if not _is_number(number):
            raise _Invalid(f"{where}.number", "must be a whole number from 1")
        if number in seen:
            raise _Invalid(f"{where}.number", f"revision {number} appears twice")
        seen.add(number)
        parents = {}
        for name in ("base_number", "merged_number"):
            parents[name] = revision.get(name)
            if parents[name] is not None and not _is_number(parents[name]):
                raise _Invalid(f"{where}.{name}", "must be a whole number from 1 or null")
        if revision.get("kind") not in RevisionKind.values:
            raise _Invalid(f"{where}.kind", f"must be one of {', '.join(RevisionKind.values)}")
        version = _expect(revision, "version", str, f"{where}.version")
        if len(version) > Revision._meta.get_field("version").max_length:
            raise _Invalid(f"{where}.version", "is too long")
        if version and version_problem(version):
            raise _Invalid(f"{where}.version", version_problem(version))
        if not isinstance(revision.get("conflict"), bool):
            raise _Invalid(f"{where}.conflict", "must be true or false")
        author = _username(revision.get("author"), f"{where}.author")
        snapshot = _expect(revision, "content", dict, f"{where}.content")
        for name in ("reference", "site"):
            if snapshot.get(name) != content[name]:
                raise _Invalid(
                    f"{where}.content.{name}",
                    f"{snapshot.get(name)!r} is not the article's {content[name]!r}",
                )
        parsed.append(
            {
                "number": number,
                "kind": revision["kind"],
                "state": _state(revision.get("state"), f"{where}.state"),
                "version": version,
                **parents,
                "conflict": revision["conflict"],
                "author": author,
                "author_name": _name_kept(revision.get("author_name"), author, f"{where}.author_name"),
                "created_at": _time(revision.get("created_at"), f"{where}.created_at"),
                "note": _expect(revision, "note", str, f"{where}.note"),
                "content": _clean(snapshot, f"{where}.content"),
            }
        )
    return sorted(parsed, key=lambda revision: revision["number"])


def _parse_release(release: dict, numbers: set[int]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name in POINTERS:
        value = release.get(name)
        if value is not None and not _is_number(value):
            raise _Invalid(f"release.{name}", "must be a revision number or null")
        if value is not None and value not in numbers:
            raise _Invalid(f"release.{name}", f"names revision {value}, which the line lacks")
        parsed[name] = value
    review_state = release.get("review_state")
    if review_state != "" and review_state not in ReviewState.values:
        raise _Invalid("release.review_state", f"{review_state!r} is not a review state (or empty)")
    if (parsed["pending_revision"] is None) != (review_state == ""):
        raise _Invalid(
            "release.review_state",
            "must be empty when no revision is pending, and a review state when one is",
        )
    parsed["review_state"] = review_state
    parsed["edited_at"] = _time(release.get("edited_at"), "release.edited_at", optional=True)
    return parsed


def _parse_audit(events: list) -> list[dict[str, Any]]:
    parsed = []
    for index, event in enumerate(events):
        where = f"audit[{index}]"
        if not isinstance(event, dict):
            raise _Invalid(where, "is not an object")
        if event.get("action") not in AuditAction.values:
            raise _Invalid(f"{where}.action", f"must be one of {', '.join(AuditAction.values)}")
        revision = event.get("revision")
        if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
            raise _Invalid(f"{where}.revision", "must be a revision number or null")
        states = {}
        for name in ("from_state", "to_state"):
            value = _expect(event, name, str, f"{where}.{name}")
            if value and value not in _STATES:
                raise _Invalid(f"{where}.{name}", f"{value!r} is not a workflow state")
            states[name] = value
        user = _username(event.get("user"), f"{where}.user")
        parsed.append(
            {
                "action": event["action"],
                **states,
                "user": user,
                "user_name": _name_kept(event.get("user_name"), user, f"{where}.user_name"),
                "created_at": _time(event.get("created_at"), f"{where}.created_at"),
                "note": _expect(event, "note", str, f"{where}.note"),
                "revision": revision,
            }
        )
    return parsed


def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _name_kept(value: Any, username: str | None, field: str) -> str:
    """The name a revision or audit event keeps as text: the backup's, else (a version 1 backup)
    the user name, else '' (the importer)."""
    if value is None:
        return username or ""
    if not isinstance(value, str) or len(value) > 150:
        raise _Invalid(field, "must be a name of at most 150 characters")
    return value


def _expect(data: dict, key: str, kind: type, field: str):
    value = data.get(key)
    if not isinstance(value, kind):
        raise _Invalid(field, f"is missing or not {_KIND_NAMES[kind]}")
    return value


_KIND_NAMES = {dict: "an object", list: "a list", str: "a string"}


def _state(value: Any, field: str) -> str:
    if value not in _STATES:
        raise _Invalid(field, f"{value!r} is not a workflow state")
    return value


def _username(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 150:
        raise _Invalid(field, "must be a user name (1 to 150 characters) or null")
    return value


def _time(value: Any, field: str, *, optional: bool = False) -> dt.datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Invalid(field, "is missing or not an ISO 8601 time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(field, f"{value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise _Invalid(field, f"{value!r} has no time zone")
    return parsed

"""Restoring one article (docs/backup.md gives the merge rule): created when this database
lacks it, else merged into it. Revisions and audit events already here are recognised and kept,
the others added with their original times; the row and the revision pointers take the
backup's only when the backup changed the article last. Users the backup names and this
database lacks are created inactive."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.text import slugify

from articles.changes import articles_changed
from articles.content import article_field_values
from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, ImageSource
from articles.writing import PartsWriter
from releases.backup.file_format import POINTERS, ROW_FIELDS
from releases.backup.records import _Invalid, _Record, derive_release
from releases.models import AuditEvent, Release, Revision
from releases.services import carry_uploads


def _restore_article(record: _Record, parts: PartsWriter, warn) -> tuple[str, Article]:
    """Create or merge one article: (outcome, article), the outcome ``updated_row`` when the row
    took the backup's content and state, ``updated`` when only history was added.

    The merge rule (docs/backup.md): revisions and audit events already here are recognised and
    kept; the others are added. The row (content, parts, workflow state) and the revision
    pointers take the backup's only when the backup's last change (its newest revision or audit
    event) is newer than this database's; the row is then the projection of the live revision
    (of the pending one, for an article never published).
    """
    content, row = record.content, record.row
    article = Article.objects.select_for_update().filter(reference=record.reference).first()
    if article is not None and article.site != content["site"]:
        raise _Invalid(
            "content.site",
            f"reference {record.reference} belongs here to an article of site {article.site!r}, "
            f"not {content['site']!r}",
        )
    users = _users(record.usernames(), warn)
    projection = record.projection()
    outcome = "unchanged"
    was_state = article.state if article is not None else None
    if article is None:
        slug = _free_slug(row["slug"], record.reference)
        if slug != row["slug"]:
            warn("article.slug", f"{row['slug']} is taken by another article here: restored as {slug}")
        article = Article(**article_field_values(projection), **{**_bookkeeping(row), "slug": slug})
        article.save()
        parts.write([(article.id, carry_uploads(projection, record.content))])
        outcome = "created"
    else:
        backup_last = record.last_change()
        local_last = _last_change(article)
        if backup_last is not None and (local_last is None or backup_last > local_last):
            Article.objects.filter(pk=article.pk).update(
                **article_field_values(projection), **_bookkeeping(row)
            )
            ArticleTag.objects.filter(article=article).delete()
            ArticleEntity.objects.filter(article=article).delete()
            ImageSource.objects.filter(article=article).delete()
            parts.write([(article.id, carry_uploads(projection, record.content))])
            outcome = "updated_row"
    if outcome in ("created", "updated_row"):
        # Live before or after: its pages and the lists; else nothing readers saw.
        articles_changed([article.pk], live=ArticleState.PUBLISHED in (was_state, row["state"]))
    numbers, added = _merge_revisions(article, record.revisions, users, warn)
    added += _merge_audit(article, record.audit, users, numbers)
    if outcome in ("created", "updated_row"):
        _set_release(article, record.release, numbers)
    elif _ensure_release(article):
        added += 1
    if outcome == "created":
        # Last, so that nothing above stamps the row with the time of the restore.
        Article.objects.filter(pk=article.pk).update(
            created_at=row["created_at"], updated_at=row["updated_at"]
        )
    elif outcome == "unchanged" and added:
        outcome = "updated"
    return outcome, article


def _set_release(article: Article, release: dict[str, Any], numbers: dict[int, int]) -> None:
    """Point the article's Release at the backup's revisions (by their numbers here)."""
    ids = dict(Revision.objects.filter(article=article).values_list("number", "id"))
    pointers = {
        f"{name}_id": None if release[name] is None else ids[numbers[release[name]]] for name in POINTERS
    }
    Release.objects.update_or_create(
        article=article,
        defaults={**pointers, "review_state": release["review_state"], "edited_at": release["edited_at"]},
    )


def _ensure_release(article: Article) -> bool:
    """Give an article kept as it is here a Release if it has none (derived from its row state and
    revisions as migration releases 0007 does, without a pending state); True when one was made."""
    if Release.objects.filter(article=article).exists():
        return False
    revisions = list(Revision.objects.filter(article=article).values("id", "number", "state", "conflict"))
    ids = {revision["number"]: revision["id"] for revision in revisions}
    derived = derive_release(article.state, None, None, revisions)
    Release.objects.create(
        article=article,
        **{f"{name}_id": ids.get(derived[name]) for name in POINTERS},
        review_state=derived["review_state"],
        edited_at=derived["edited_at"],
    )
    return True


def _bookkeeping(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in ROW_FIELDS if name != "slug"}


def _last_change(article: Article) -> dt.datetime | None:
    """When this database last changed the article: its newest revision or audit event."""
    times = [
        model.objects.filter(article=article)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
        for model in (Revision, AuditEvent)
    ]
    return max((time for time in times if time is not None), default=None)


def _free_slug(slug: str, reference: str) -> str:
    """The backup's slug when no other article has it, else one suffixed with the reference."""
    if not Article.objects.filter(slug=slug).exists():
        return slug
    base = f"{slug[:150]}-{slugify(reference)[:49]}".strip("-")
    candidate, counter = base, 2
    while Article.objects.filter(slug=candidate).exists():
        candidate = f"{base[:192]}-{counter}"
        counter += 1
    return candidate


def _users(names: set[str], warn) -> dict[str, Any]:
    """Users by username; a missing one is created inactive and without a usable password."""
    if not names:
        return {}
    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    users = {user.get_username(): user for user in user_model.objects.filter(**{f"{field}__in": names})}
    for name in sorted(names - users.keys()):
        user = user_model(**{field: name, "is_active": False})
        user.set_unusable_password()
        user.save()
        users[name] = user
        warn("user", f"{name} did not exist here: created inactive, without a password")
    return users


def _revision_key(revision) -> tuple:
    if isinstance(revision, dict):
        return (revision["created_at"], revision["kind"], revision["state"], revision["version"])
    return (revision.created_at, revision.kind, revision.state, revision.version)


def _merge_revisions(article, revisions, users, warn) -> tuple[dict[int, int], int]:
    """Add the backup's revisions this article lacks. Returns (backup number -> number here, added).

    A revision is the same one when it was made at the same moment, of the same kind, state and
    version. A new one keeps its number when that number is free here, and otherwise comes after
    the last revision here (the histories diverged), with a warning.
    """
    local = {
        _revision_key(revision): revision.number for revision in Revision.objects.filter(article=article)
    }
    taken = set(local.values())
    top = max(taken, default=0)
    numbers: dict[int, int] = {}
    new = []
    for revision in revisions:
        known = local.get(_revision_key(revision))
        if known is not None:
            numbers[revision["number"]] = known
            continue
        number = revision["number"]
        if number in taken:
            number = top + 1
            warn(
                f"revisions[{revision['number']}]",
                f"revision {revision['number']} differs from revision {revision['number']} here: "
                f"added as revision {number}",
            )
        taken.add(number)
        top = max(top, number)
        numbers[revision["number"]] = number
        new.append(revision)
    objs = [
        Revision(
            article=article,
            number=numbers[revision["number"]],
            kind=revision["kind"],
            state=revision["state"],
            version=revision["version"],
            content=revision["content"],
            base_number=numbers.get(revision["base_number"], revision["base_number"]),
            merged_number=numbers.get(revision["merged_number"], revision["merged_number"]),
            conflict=revision["conflict"],
            author=users.get(revision["author"]),
            author_name=revision["author_name"],
            note=revision["note"],
        )
        for revision in new
    ]
    _insert_with_times(Revision, objs, [revision["created_at"] for revision in new])
    return numbers, len(objs)


def _merge_audit(article, events, users, numbers: dict[int, int]) -> int:
    """Add the backup's audit events this article lacks (same action, time and user); return how many."""
    username = f"user__{get_user_model().USERNAME_FIELD}"
    local = set(AuditEvent.objects.filter(article=article).values_list("action", "created_at", username))
    new = [event for event in events if (event["action"], event["created_at"], event["user"]) not in local]
    if not new:
        return 0
    revision_ids = dict(Revision.objects.filter(article=article).values_list("number", "id"))
    objs = [
        AuditEvent(
            article=article,
            revision_id=revision_ids.get(numbers.get(event["revision"])) if event["revision"] else None,
            action=event["action"],
            from_state=event["from_state"],
            to_state=event["to_state"],
            user=users.get(event["user"]),
            user_name=event["user_name"],
            note=event["note"],
        )
        for event in new
    ]
    _insert_with_times(AuditEvent, objs, [event["created_at"] for event in new])
    return len(objs)


def _insert_with_times(model, objs, times) -> None:
    """Insert rows, then give them their original creation times (inserting stamps 'now')."""
    if not objs:
        return
    model.objects.bulk_create(objs)
    for obj, created_at in zip(objs, times, strict=True):
        obj.created_at = created_at
    model.objects.bulk_update(objs, ["created_at"])

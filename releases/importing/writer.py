"""One batch of parsed documents decided and written: what each document means for the article
with its reference (the action layer's rule, ``decide_import``), then new articles, new live
revisions, pending work and conflicts written in bulk, and what readers saw invalidated."""

from django.utils import timezone
from django.utils.text import slugify

from articles.bulk import insert_rows
from articles.changes import articles_changed
from articles.content import article_field_values, content_version, is_live_eligible
from articles.models import Article, ArticleState
from articles.writing import PartsWriter
from releases.importing.documents import _Item
from releases.importing.results import DocumentResult
from releases.models import Revision
from releases.recording import ImportedRevision, record_imports
from releases.services import ImportAction, ImportTarget, carry_uploads, decide_import

RELEASED = (ArticleState.PUBLISHED, ArticleState.ARCHIVED)
PUBLISH_PERMISSION = "releases.publish_article"
SLUG_MAX = 200


class BatchWriter:
    """Decides and writes the batches of one run, inside the transaction the caller holds."""

    def __init__(self, user=None):
        self.user = user
        # Going live is publishing: an import on behalf of someone who may not publish keeps
        # everything it brings as drafts for a reviewer. Operators' runs (no user) may.
        self.may_publish = user is None or user.has_perm(PUBLISH_PERMISSION)
        self.written = 0  # documents written so far (new, live, pending or conflict)
        self.parts = PartsWriter()

    def classify(self, items: list[_Item], lock: bool = False) -> None:
        """Ask the action layer's rule what each document means, against the database."""
        references = [item.content["reference"] for item in items]
        existing_qs = Article.objects.filter(reference__in=references).values(
            "id", "reference", "site", "slug", "state", "source_digest",
            "release__live_revision__version", "release__pending_revision__version",
            "release__pending_revision_id", "release__edited_at",
            "release__live_revision__content__image_sources",
            "release__pending_revision__content__image_sources",
        )  # fmt: skip
        if lock:
            # Lock the rows first, then read them with their pointers in a statement of its own:
            # a statement that waited for a lock sees the locked row as committed, but the rows
            # it joined as they were when it started (PostgreSQL, read committed).
            locked = Article.objects.filter(reference__in=references).select_for_update()
            list(locked.values_list("pk", flat=True))
        existing = {row["reference"]: row for row in existing_qs}
        published = self._published_contents(items, existing)
        for item in items:
            content, path = item.content, item.source.path
            row = existing.get(content["reference"])
            version = content_version(content)
            target = None
            if row is not None:
                same = published.get((row["id"], version))
                target = ImportTarget(
                    site=row["site"],
                    state=row["state"],
                    source_digest=row["source_digest"],
                    live_version=row["release__live_revision__version"],
                    pending_version=row["release__pending_revision__version"],
                    has_pending=row["release__pending_revision_id"] is not None,
                    editors_pending=row["release__edited_at"] is not None,
                    same_as_published=None if same is None else same == content,
                )
            item.row = row
            if row is not None:
                self._carry_uploads(item, row)
            item.decision = decision = decide_import(
                site=content["site"],
                version=version,
                digest=item.digest,
                goes_live=self.may_publish and is_live_eligible(content),
                target=target,
            )
            reference, slug = content["reference"], row["slug"] if row else None
            warnings, errors = list(item.warnings), []
            if decision.message:
                failed = decision.action is ImportAction.FAILED
                problem = {
                    "path": path,
                    "line": None,
                    "field": "site" if failed else "revision",
                    "message": decision.message,
                }
                (errors if failed else warnings).append(problem)
            item.result = DocumentResult(
                path, decision.outcome, reference, slug, warnings=warnings, errors=errors
            )
            item.result.article_id = row["id"] if row else None

    @staticmethod
    def _carry_uploads(item: _Item, row: dict) -> None:
        """Uploaded images are part of the revision: an imported image source with the URL of one
        that has an upload (in the pending work, else the live revision) keeps that upload."""
        images = (
            row["release__pending_revision__content__image_sources"]
            or row["release__live_revision__content__image_sources"]
        )
        if not images or not any(image.get("upload") for image in images):
            return
        carried = carry_uploads(item.content, {"image_sources": images})
        if carried != item.content:
            item.content, item.snapshot = carried, None

    @staticmethod
    def _published_contents(items: list[_Item], existing: dict) -> dict[tuple[int, str], dict]:
        """(article id, version) -> content of the published revision with that version, for the
        documents whose version was published already (one query for the batch)."""
        wanted = {
            (existing[item.content["reference"]]["id"], content_version(item.content))
            for item in items
            if item.content["reference"] in existing and content_version(item.content)
        }
        if not wanted:
            return {}
        rows = Revision.objects.filter(
            article_id__in={article_id for article_id, _ in wanted},
            version__in={version for _, version in wanted},
            state=ArticleState.PUBLISHED,
        ).values_list("article_id", "version", "content")
        return {
            (article_id, version): content
            for article_id, version, content in rows
            if (article_id, version) in wanted
        }

    def write(self, items: list[_Item]) -> None:
        """Apply the decisions: new articles, new live revisions, pending work and conflicts."""
        by_action: dict[ImportAction, list[_Item]] = {}
        for item in items:
            by_action.setdefault(item.decision.action, []).append(item)
        to_create = by_action.get(ImportAction.CREATE, [])
        to_live = by_action.get(ImportAction.LIVE, [])
        to_pend = by_action.get(ImportAction.PENDING, [])
        to_conflict = by_action.get(ImportAction.CONFLICT, [])
        self.written += len(to_create) + len(to_live) + len(to_pend) + len(to_conflict)
        if not (to_create or to_live or to_pend or to_conflict):
            return
        now = timezone.now()
        revisions: list[ImportedRevision] = []
        went_live: list[int] = []  # new live articles and live ones with new content

        if to_create:
            slugs = self._new_slugs([item.content for item in to_create])
            rows = []
            for item, slug in zip(to_create, slugs, strict=True):
                live = self.may_publish and is_live_eligible(item.content)
                rows.append(
                    {
                        **item.columns,
                        "slug": slug,
                        "state": ArticleState.PUBLISHED if live else ArticleState.DRAFT,
                        "published_at": now if live else None,
                        "source_digest": item.digest,
                        "source_version": content_version(item.content),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            ids = insert_rows(Article, rows)
            for item, row, pk in zip(to_create, rows, ids, strict=True):
                item.result.slug, item.result.article_id = row["slug"], pk
                live = row["state"] == ArticleState.PUBLISHED
                revisions.append(ImportedRevision(pk, item.content, item.snapshot, live=live, new=True))
                if live:
                    went_live.append(pk)
            self.parts.write([(pk, item.content) for item, pk in zip(to_create, ids, strict=True)])

        rewritten = []
        for item in to_live:
            row = item.row
            values = {
                **article_field_values(item.content),
                "state": ArticleState.PUBLISHED,
                "source_digest": item.digest,
                "source_version": content_version(item.content),
                "updated_at": now,
            }
            if row["state"] not in RELEASED:
                values["published_at"] = now
            Article.objects.filter(pk=row["id"]).update(**values)
            rewritten.append((row["id"], item.content))
            went_live.append(row["id"])
            superseded = row["release__pending_revision_id"] is not None
            revisions.append(
                ImportedRevision(row["id"], item.content, item.snapshot, live=True, superseded=superseded)
            )
        for item in to_pend:
            row = item.row
            values = {
                "source_digest": item.digest,
                "source_version": content_version(item.content),
                "updated_at": now,
            }
            if row["release__live_revision__version"] is None and row["state"] not in RELEASED:
                # Never published: the row shows the pending work (to staff only).
                values.update(article_field_values(item.content), state=ArticleState.DRAFT)
                rewritten.append((row["id"], item.content))
            Article.objects.filter(pk=row["id"]).update(**values)
            revisions.append(
                ImportedRevision(row["id"], item.content, item.snapshot, note=item.decision.message)
            )
        for item in to_conflict:
            Article.objects.filter(pk=item.row["id"]).update(
                source_digest=item.digest, source_version=content_version(item.content), updated_at=now
            )
            revisions.append(
                ImportedRevision(
                    item.row["id"], item.content, item.snapshot, conflict=True, note=item.decision.message
                )
            )
        if rewritten:
            self.parts.replace(rewritten)
        record_imports(revisions, author=self.user)
        if went_live:
            articles_changed(went_live, live=True)
        # Pending work, conflicts and never-published drafts: nothing anonymous clients see.
        live_set = set(went_live)
        articles_changed(
            [entry.article_id for entry in revisions if entry.article_id not in live_set], live=False
        )

    def _new_slugs(self, contents: list[dict]) -> list[str]:
        """Slugs from titles, unique against the database and within the batch.

        A title already taken gets the reference as a suffix, which is unique by definition.
        """
        bases = [slugify(content["title"])[:SLUG_MAX].strip("-") or "article" for content in contents]
        candidates = set(bases) | {
            f"{base[: SLUG_MAX - 50]}-{slugify(content['reference'])[:49]}".strip("-")
            for base, content in zip(bases, contents, strict=True)
        }
        taken = set(Article.objects.filter(slug__in=candidates).values_list("slug", flat=True))
        slugs = []
        for base, content in zip(bases, contents, strict=True):
            slug = base
            if slug in taken:
                slug = f"{base[: SLUG_MAX - 50]}-{slugify(content['reference'])[:49]}".strip("-")
            counter = 2
            unique = slug
            while unique in taken:
                unique = f"{slug[: SLUG_MAX - 8]}-{counter}"
                counter += 1
            taken.add(unique)
            slugs.append(unique)
        return slugs

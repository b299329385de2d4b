"""The action layer: every write to an article's content and workflow goes through here.

The admin (form, buttons, bulk actions), the API, the importer and the tag admin all call these
actions, so each rule lives here once. Each action *checks* (permission, then state, then input)
before it *executes* (lock the article, add a revision, move the pointers of its
``releases.models.Release``, project the live revision onto the article row, write one audit
event, refresh similar posts after commit).

The pointers are the one source of truth: ``live_revision`` is what readers see, and the article
row is its projection; ``pending_revision`` is the work waiting for review. Edits, imports and
conflict resolutions move ``pending_revision``; publishing moves ``live_revision`` to it and
clears it; a rollback moves ``live_revision`` only. Nothing finds "live" or "pending" by scanning
revisions.

The importer decides what each incoming document means with ``decide_import``, one function over
plain values, the same for one document and for a batch; its bulk writer applies the decision.

This package is the layer's one entry: callers import ``releases.services`` and call what it
exports here (``services.article_publish(...)``), and catch the refusals of ``releases.errors``
that it exports with them. Its modules hold one idea each:

- ``rules``: which action applies (``RULES``: permission, state, note), and the checks the
  actions make through it;
- ``reads``: the pointers and revisions the rules and the pages read;
- ``versions``: version bumps, and the version publishing would give;
- ``validation``: the one content check of every edit path, and uploads carried across revisions;
- ``steps``: what every action executes once its checks pass;
- ``editing``: an editor's changes, as pending work;
- ``review``: submit, approve, request changes, and a live article sent back to review;
- ``publishing``: publish, roll back, archive;
- ``conflicts``: an import's conflict with pending work, resolved field by field;
- ``comments``: comments on a review;
- ``schedule``: scheduled publishing and archiving;
- ``renames``: a shared tag or entity renamed in every article that carries it;
- ``incoming``: what an incoming document means (``decide_import``).

Names with a leading underscore are shared by these modules only; callers use what is exported
here.
"""

from releases.errors import (
    ActionForbidden,
    EditConflict,
    InvalidContent,
    InvalidTransition,
    NoteRequired,
    WorkflowError,
)

from .comments import comment_add, comment_label, comment_resolve, open_comments
from .conflicts import KEEP, TAKE, conflict_fields, conflict_resolve
from .editing import article_edit
from .incoming import ImportAction, ImportDecision, ImportTarget, decide_import
from .publishing import article_archive, article_publish, article_rollback
from .reads import (
    latest_revision,
    live_revision,
    pending_content,
    pending_revision,
    published_revision,
    release_of,
    review_state,
    working_revision,
)
from .renames import entity_rename, tag_rename
from .review import article_approve, article_request_changes, article_request_review, article_submit
from .rules import RULES, ActionRule, Availability, action_availability, may
from .schedule import article_schedule, run_due_schedules, schedule_cancel, waiting_schedules
from .validation import carry_uploads, validated_content
from .versions import BUMPS, bump_version, publish_versions

__all__ = [
    # The actions, each checking before it executes.
    "article_approve",
    "article_archive",
    "article_edit",
    "article_publish",
    "article_request_changes",
    "article_request_review",
    "article_rollback",
    "article_schedule",
    "article_submit",
    "comment_add",
    "comment_resolve",
    "conflict_resolve",
    "KEEP",  # conflict_resolve's choices: keep the pending work's value, or take the import's
    "TAKE",
    "entity_rename",
    "run_due_schedules",
    "schedule_cancel",
    "tag_rename",
    # Which action applies, for the pages that offer them.
    "RULES",
    "ActionRule",
    "Availability",
    "action_availability",
    "may",
    # Reads of the pointers, revisions, versions, comments, conflicts and schedules.
    "BUMPS",
    "bump_version",
    "comment_label",
    "conflict_fields",
    "latest_revision",
    "live_revision",
    "open_comments",
    "pending_content",
    "pending_revision",
    "publish_versions",
    "published_revision",
    "release_of",
    "review_state",
    "waiting_schedules",
    "working_revision",
    # The content check, and what the importer and the restore share with the actions.
    "carry_uploads",
    "validated_content",
    "ImportAction",
    "ImportDecision",
    "ImportTarget",
    "decide_import",
    # Why an action was refused (releases.errors).
    "ActionForbidden",
    "EditConflict",
    "InvalidContent",
    "InvalidTransition",
    "NoteRequired",
    "WorkflowError",
]

"""Scheduled publishing: a publish (of the approved work, as it is now) or an archive set for a
time, cancelled, or carried out when due (``run_due_schedules``, which ``publish_scheduled``
runs) through the action itself, as the user who set it."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from articles.models import Article
from releases.errors import InvalidContent, InvalidTransition, WorkflowError
from releases.models import AuditAction, Schedule, ScheduledAction, ScheduleState

from .publishing import article_archive, article_publish
from .reads import release_of
from .rules import _note_for, _require_rule, _require_state
from .steps import _audit, _locked, _username
from .versions import BUMPS


def waiting_schedules(article: Article) -> list[Schedule]:
    return list(
        Schedule.objects.filter(article=article, state=ScheduleState.WAITING)
        .select_related("revision")
        .order_by("due_at")
    )


@transaction.atomic
def article_schedule(
    *, article: Article, user, action: str, due_at: dt.datetime, note: str, bump: str = "patch"
) -> Schedule:
    """Set a publish (of the approved work, as it is now) or an archive for ``due_at``. The rules
    are the action's own, checked now and again when it runs; a new schedule replaces a waiting
    one for the same action."""
    if action not in ScheduledAction.values:
        raise InvalidContent(f"Only {', '.join(ScheduledAction.values)} can be scheduled.", [])
    _require_rule(user, action)
    note = _note_for(action, note)
    if action == ScheduledAction.PUBLISH and bump not in BUMPS:
        raise InvalidContent(f"bump must be one of {', '.join(BUMPS)}.", [])
    if timezone.is_naive(due_at):
        raise InvalidContent("The time must say its time zone.", [])
    article, release = _locked(article)
    _require_state(action, article, release)
    replaced = Schedule.objects.filter(article=article, action=action, state=ScheduleState.WAITING)
    replaced.update(
        state=ScheduleState.CANCELLED, outcome="Replaced by a newer schedule.", finished_at=timezone.now()
    )
    schedule = Schedule.objects.create(
        article=article,
        action=action,
        due_at=due_at,
        revision=release.pending_revision if action == ScheduledAction.PUBLISH else None,
        bump=bump if action == ScheduledAction.PUBLISH else "",
        note=note,
        user=user,
        user_name=_username(user),
    )
    state = release.review_state or article.state
    _audit(
        article,
        AuditAction.SCHEDULE,
        user=user,
        from_state=state,
        to_state=state,
        note=f"{schedule.get_action_display()} at {timezone.localtime(due_at):%Y-%m-%d %H:%M %Z}: {note}",
        revision=schedule.revision,
    )
    return schedule


@transaction.atomic
def schedule_cancel(*, schedule: Schedule, user, note: str = "") -> Schedule:
    _require_rule(user, schedule.action)
    article, release = _locked(schedule.article)
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.state != ScheduleState.WAITING:
        raise InvalidTransition(f"This schedule is {schedule.get_state_display().lower()} already.")
    schedule.state = ScheduleState.CANCELLED
    schedule.outcome = note or f"Cancelled by {_username(user)}."
    schedule.finished_at = timezone.now()
    schedule.save(update_fields=["state", "outcome", "finished_at"])
    state = release.review_state or article.state
    _audit(
        article,
        AuditAction.UNSCHEDULE,
        user=user,
        from_state=state,
        to_state=state,
        note=f"{schedule.get_action_display()} at {timezone.localtime(schedule.due_at):%Y-%m-%d %H:%M %Z}"
        + (f": {note}" if note else ""),
    )
    return schedule


def run_due_schedules(now: dt.datetime | None = None) -> list[Schedule]:
    """Carry out every waiting schedule due by ``now``, each in its own transaction, as the user
    who set it. Safe to run from several places at once: a schedule another run holds is skipped,
    and each is done at most once. A publish whose approved revision is no longer the pending one
    fails with the reason, rather than publishing work nobody approved."""
    now = now or timezone.now()
    finished = []
    due = Schedule.objects.filter(state=ScheduleState.WAITING, due_at__lte=now).order_by("due_at", "id")
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            schedule = (
                Schedule.objects.select_for_update(skip_locked=True)
                .select_related("article", "user")
                .filter(pk=pk, state=ScheduleState.WAITING)
                .first()
            )
            if schedule is None:
                continue
            try:
                with transaction.atomic():
                    schedule.outcome = _run_schedule(schedule)
                schedule.state = ScheduleState.DONE
            except WorkflowError as error:
                schedule.state = ScheduleState.FAILED
                schedule.outcome = error.message
            schedule.finished_at = timezone.now()
            schedule.save(update_fields=["state", "outcome", "finished_at"])
            finished.append(schedule)
    return finished


def _run_schedule(schedule: Schedule) -> str:
    article, user = schedule.article, schedule.user
    if schedule.action == ScheduledAction.ARCHIVE:
        article_archive(article=article, user=user, note=schedule.note)
        return "Archived."
    release = release_of(Article.objects.get(pk=article.pk))
    if release.pending_revision_id != schedule.revision_id:
        now_pending = release.pending_revision.number if release.pending_revision else None
        raise InvalidTransition(
            f"The approved revision {schedule.revision.number if schedule.revision else '?'} is no longer "
            f"the pending one ({'revision ' + str(now_pending) if now_pending else 'nothing'} is pending "
            "now): review and schedule again."
        )
    revision = article_publish(article=article, user=user, note=schedule.note, bump=schedule.bump or "patch")
    return f"Published version {revision.version} (revision {revision.number})."

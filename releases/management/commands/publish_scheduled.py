"""Carry out the publishes and archives reviewers scheduled, once they are due.

Safe to run every minute from cron or a systemd timer, and from several servers at once: each
schedule is done at most once (a run skips the ones another run holds), as the user who set it,
through the same actions as the admin. Exit status 1 when any due schedule failed; the reason is
printed and kept on the schedule.
"""

from django.core.management.base import BaseCommand

from releases.models import ScheduleState
from releases.services import run_due_schedules


class Command(BaseCommand):
    help = "Publish and archive what reviewers scheduled, when it is due (run it every minute)."

    def handle(self, *args, **options):
        finished = run_due_schedules()
        failed = 0
        for schedule in finished:
            line = f"{schedule.get_action_display()} “{schedule.article.title}”: {schedule.outcome}"
            if schedule.state == ScheduleState.FAILED:
                failed += 1
                self.stderr.write(f"Failed: {line}")
            else:
                self.stdout.write(line)
        if not finished:
            self.stdout.write("Nothing is due.")
        if failed:
            raise SystemExit(1)

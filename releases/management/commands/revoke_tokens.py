"""Revoke API tokens: the next request that sends a revoked token is refused with 401."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = (
        "Delete the API token of each USERNAME, or every user's token with --all. The user gets a "
        "new token only when one is issued again (admin, or manage.py drf_create_token)."
    )

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="*", metavar="USERNAME", help="whose token to revoke")
        parser.add_argument("--all", action="store_true", help="revoke every user's token")

    def handle(self, *args, usernames, **options):
        if options["all"] == bool(usernames):
            raise CommandError("Name one or more users, or pass --all (not both).", returncode=2)
        if options["all"]:
            revoked, _ = Token.objects.all().delete()
        else:
            User = get_user_model()
            field = User.USERNAME_FIELD
            known = set(User.objects.filter(**{f"{field}__in": usernames}).values_list(field, flat=True))
            if missing := [name for name in usernames if name not in known]:
                raise CommandError(f"No user named {', '.join(missing)}; nothing was revoked.")
            revoked, _ = Token.objects.filter(**{f"user__{field}__in": usernames}).delete()
        self.stdout.write(f"Revoked {revoked} token{'' if revoked == 1 else 's'}.")

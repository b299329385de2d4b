"""Create a superuser named ``admin`` when the site has none. Safe to run again.

The password comes from ADMIN_PASSWORD; without it, one is generated and printed once.
"""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an admin account if none exists (password from ADMIN_PASSWORD or generated)."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account exists already.")
            return
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username="admin", email="admin@example.com", password=password)
        if os.environ.get("ADMIN_PASSWORD"):
            self.stdout.write("Created the admin account 'admin' with the password from ADMIN_PASSWORD.")
        else:
            self.stdout.write(f"Created the admin account 'admin' with the password: {password}")
            self.stdout.write("It is shown only this once.")

"""Failed sign-ins, counted per username and per client address."""

from django.db import models
from django.utils import timezone


class SignInFailure(models.Model):
    """One failed sign-in, counted against the username tried or the client's address.

    Each failure adds one row per scope; rows older than the throttling window are deleted as
    new failures come in. ``key`` is a keyed hash, so neither usernames (which people sometimes
    type their password into) nor addresses are stored.
    """

    class Scope(models.TextChoices):
        USERNAME = "username", "username"
        ADDRESS = "address", "client address"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    key = models.CharField(max_length=64, help_text="HMAC-SHA256 of the username or the address.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "-created_at"], name="signin_failure_lookup")]

    def __str__(self):
        return f"{self.scope} failure at {self.created_at:%Y-%m-%d %H:%M:%S}"

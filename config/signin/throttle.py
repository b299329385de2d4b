"""The sign-in throttling rules, in one place.

After ``SIGNIN_FAILURE_LIMIT`` failed sign-ins for the same username, or from the same client
address, within ``SIGNIN_WINDOW_SECONDS``, further attempts for that username or from that
address are refused until enough of those failures are older than the window. Refused attempts
are not counted, so the wait is never extended by trying again. A successful sign-in clears the
username's failures (not the address's: one good account must not unlock guessing from there).

The client address is ``config.client_address.client_address``, the rule the API's rate limits
use too: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXIES`` reverse proxies the ``X-Forwarded-For``
entry that many places from the right. When the address is unknown (empty), only the username is
counted.

Failures live in the database, so the counts hold across worker processes and app servers.
Requests that arrive at the same instant may each get one more try before the first of them is
counted; the limit is reached a few attempts later at worst, never lifted.
"""

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from config.client_address import client_address
from config.signin.models import SignInFailure

Scope = SignInFailure.Scope


def failure_limit() -> int:
    return settings.SIGNIN_FAILURE_LIMIT


def window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.SIGNIN_WINDOW_SECONDS)


def _key(scope: str, value: str) -> str:
    return salted_hmac(f"config.signin.{scope}", value[:512], algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class Attempt:
    """Who is trying to sign in: the username typed and the client's address."""

    username: str
    address: str

    @classmethod
    def from_request(cls, request, username: str | None) -> "Attempt":
        return cls(username=(username or "").strip().casefold(), address=client_address(request))

    def keys(self) -> list[tuple[str, str]]:
        keys = []
        if self.address:  # unknown (a Unix socket without a proxy header): not one shared counter
            keys.append((Scope.ADDRESS, _key(Scope.ADDRESS, self.address)))
        if self.username:
            keys.append((Scope.USERNAME, _key(Scope.USERNAME, self.username)))
        return keys


def retry_after(attempt: Attempt) -> int:
    """Seconds until ``attempt`` may be made, 0 when it may be made now."""
    now = timezone.now()
    limit = failure_limit()
    wait = dt.timedelta(0)
    for scope, key in attempt.keys():
        recent = SignInFailure.objects.filter(scope=scope, key=key, created_at__gt=now - window())
        # The limit-th newest failure is the one whose expiry brings the count below the limit.
        oldest_counted = recent.order_by("-created_at").values_list("created_at", flat=True)[
            limit - 1 : limit
        ]
        for created_at in oldest_counted:
            wait = max(wait, created_at + window() - now)
    return math.ceil(wait.total_seconds()) if wait > dt.timedelta(0) else 0


def record_failure(attempt: Attempt) -> None:
    now = timezone.now()
    SignInFailure.objects.filter(created_at__lte=now - window()).delete()
    SignInFailure.objects.bulk_create(
        [SignInFailure(scope=scope, key=key, created_at=now) for scope, key in attempt.keys()]
    )


def record_success(attempt: Attempt) -> None:
    """A successful sign-in: the username starts again from no failures."""
    if attempt.username:
        SignInFailure.objects.filter(
            scope=Scope.USERNAME, key=_key(Scope.USERNAME, attempt.username)
        ).delete()


def refusal_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        "Too many failed sign-ins for this username or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )

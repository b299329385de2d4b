"""The admin's sign-in form with throttling (the rules are in ``throttle.py``)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from config.signin import throttle


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    """Refuses the attempt without checking the password while sign-in is throttled.

    ``retry_after`` is then the number of seconds to wait (0 otherwise), for the view's answer.
    """

    retry_after = 0

    def clean(self):
        attempt = throttle.Attempt.from_request(self.request, self.cleaned_data.get("username"))
        self.retry_after = throttle.retry_after(attempt)
        if self.retry_after:
            raise ValidationError(throttle.refusal_message(self.retry_after), code="throttled")
        try:
            cleaned_data = super().clean()
        except ValidationError:
            throttle.record_failure(attempt)
            raise
        if self.get_user() is not None:
            throttle.record_success(attempt)
        return cleaned_data

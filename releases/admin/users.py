"""Users: history is never rewritten, so a user with revisions or audit events cannot be deleted
(deactivate them instead)."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import User
from django.http import HttpResponseRedirect
from django.urls import reverse

from releases.models import AuditEvent, Revision

admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """History is never rewritten: a user with revisions or audit events cannot be deleted (their
    rows protect them); deactivate them instead (uncheck "Active")."""

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, unquote(object_id))
        if user is None:  # not an id, or no such user: Django's answer (back to the list, with a message)
            return super().delete_view(request, object_id, extra_context)
        has_history = (
            Revision.objects.filter(author_id=user.pk).exists()
            or AuditEvent.objects.filter(user_id=user.pk).exists()
        )
        if has_history:
            messages.error(
                request,
                "This user has revisions or audit events and cannot be deleted: history is never "
                "rewritten. Deactivate the account instead (uncheck “Active” and save).",
            )
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[object_id]))
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk deletes would skip the check above
        return actions

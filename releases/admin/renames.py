"""Shared tags and entities: a rename in their admin changes every article that carries the name,
so it goes through the action layer (new revisions with audit events), never as a silent rewrite
of live rows. These replace the admins ``articles.admin`` registers."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from articles import admin as articles_admin
from articles.models import Entity, Tag
from releases import services

from .messages import refused


class RenameThroughActionsMixin:
    """A shared name's change changes every article that carries it: through the action layer,
    as new revisions with audit events, never as a silent rewrite of live rows."""

    rename = None  # the action: (instance, user, name) -> how many articles changed

    def get_readonly_fields(self, request, obj=None):
        # The slug follows the name; the kind or type of a used one would change articles too.
        return ["slug", "kind" if hasattr(obj, "kind") else "type"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)  # a new one carries no article yet
            return
        name = form.cleaned_data["name"]
        obj.name = type(obj).objects.values_list("name", flat=True).get(pk=obj.pk)
        try:
            changed = type(self).rename(obj, request.user, name)
        except services.WorkflowError as error:
            refused(request, error)
            request.rename_refused = True
            return
        obj.refresh_from_db()
        messages.info(request, f"Renamed: {changed} article(s) got a new revision.")

    def response_change(self, request, obj):
        if getattr(request, "rename_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


admin.site.unregister(Tag)
admin.site.unregister(Entity)


@admin.register(Tag)
class TagAdmin(RenameThroughActionsMixin, articles_admin.TagAdmin):
    @staticmethod
    def rename(tag, user, name):
        return services.tag_rename(tag=tag, user=user, name=name)


@admin.register(Entity)
class EntityAdmin(RenameThroughActionsMixin, articles_admin.EntityAdmin):
    @staticmethod
    def rename(entity, user, name):
        return services.entity_rename(entity=entity, user=user, name=name)

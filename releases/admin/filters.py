"""The list filters of the article list and the review queue: pending work, the inbox's views,
review due, and tags and entities typed into a search box."""

from django.contrib import admin

from articles.models import Entity, Tag
from releases.models import ReviewState
from releases.selectors import review_due, waiting_for


class ReviewStateFilter(admin.SimpleListFilter):
    """The state of the pending work, by its human name; only states that can occur."""

    title = "pending work"
    parameter_name = "review_state"

    def lookups(self, request, model_admin):
        return [("none", "Nothing pending"), *ReviewState.choices]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(release__pending_revision__isnull=True)
        if self.value() in ReviewState.values:
            return queryset.filter(release__review_state=self.value())
        return queryset


class WaitingFilter(admin.SimpleListFilter):
    """The inbox: by default, what waits for the person looking (work in review, and approved work
    for those who may publish); the other views are one click away."""

    title = "show"
    parameter_name = "show"
    VIEWS = {
        "waiting": "Waiting for me",
        "in_review": "In review",
        "reviewed": "Approved, not yet published",
        "changes_requested": "Changes requested",
        "draft": "Drafts",
        "conflict": "Import conflicts",
        "scheduled": "Scheduled",
        "all": "Everything pending",
    }

    def lookups(self, request, model_admin):
        return list(self.VIEWS.items())

    def value(self):
        value = super().value()
        return value if value in self.VIEWS else "waiting"

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        view = self.value()
        if view == "waiting":
            return queryset.filter(waiting_for(request.user))
        if view == "conflict":
            return queryset.filter(conflict=True)
        if view == "scheduled":
            return queryset.filter(publish_at__isnull=False)
        if view in ReviewState.values:
            return queryset.filter(review_state=view)
        return queryset


class AutocompleteFilter(admin.SimpleListFilter):
    """A filter typed into a search box with suggestions (the names that occur in the list),
    rather than a list of links that would run to thousands."""

    template = "admin/releases/autocomplete_filter.html"

    def names(self, queryset) -> list[str]:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [(name, name) for name in self.names(model_admin.get_queryset(request))]

    def choices(self, changelist):
        keep = [
            (name, value)
            for name, values in changelist.params.items()
            for value in (values if isinstance(values, list) else [values])
            if name not in (self.parameter_name, "p")
        ]
        yield {
            "hidden": keep,
            "options": [name for name, _ in self.lookup_choices],
            "current": self.value() or "",
        }


class TagFilter(AutocompleteFilter):
    kind = ""

    def names(self, queryset):
        return list(
            Tag.objects.filter(kind=self.kind, article_tags__article__in=queryset.values("pk"))
            .values_list("name", flat=True)
            .distinct()
            .order_by("name")[:1000]
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                article_tags__tag__kind=self.kind, article_tags__tag__name=self.value().lower()
            )
        return queryset


class StackFilter(TagFilter):
    title = "stack"
    parameter_name = "stack"
    kind = Tag.Kind.STACK


class ToolFilter(TagFilter):
    title = "tool"
    parameter_name = "tool"
    kind = Tag.Kind.TOOL


class EntityFilter(AutocompleteFilter):
    title = "entity"
    parameter_name = "entity"

    def names(self, queryset):
        return list(
            Entity.objects.filter(article_entities__article__in=queryset.values("pk"))
            .values_list("name", flat=True)
            .distinct()
            .order_by("name")[:1000]
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(article_entities__entity__name=self.value())
        return queryset


class ReviewDueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review_due"

    def lookups(self, request, model_admin):
        return [("1", "Review due")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(pk__in=review_due().values("pk"))
        return queryset

"""The one FilterSet of the article list: filters, search and ordering, all validated.

A bad value (``quality_min=abc``, an unknown ``ordering``) is a 400 that names the parameter.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.utils.text import slugify
from django_filters.constants import EMPTY_VALUES

from articles.models import Article, ArticleEntity, Tag

ORDERING_FIELDS = {
    "title": "title",
    "view_count": "view_count",
    "reading_time": "reading_time",
    "last_reviewed": "last_reviewed",
    "quality": "quality",
    "published_at": "published_at",
}


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``, any case); anything else is an error, not "no filter"."""

    widget = forms.TextInput
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError("Enter true or false.", code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering that pages reliably and reads the same on every database.

    Unknown values (NULL) come last in both directions, ties go newest first, and a value naming
    no field (``ordering=,``) keeps the list's default order instead of removing all ordering.
    """

    def filter(self, qs, value):
        params = [param for param in value or [] if param not in EMPTY_VALUES]
        if not params:
            return qs
        ordering = []
        for param in params:
            field = self.get_ordering_value(param)
            if field.startswith("-"):
                ordering.append(F(field[1:]).desc(nulls_last=True))
            else:
                ordering.append(F(field).asc(nulls_last=True))
        return qs.order_by(*ordering, "-id")


class ArticleFilter(django_filters.FilterSet):
    reference = django_filters.CharFilter(help_text="Exact reference.")
    stack = django_filters.CharFilter(method="filter_stack", help_text="Stack tag, by name or slug.")
    tool = django_filters.CharFilter(method="filter_tool", help_text="Tool tag, by name or slug.")
    entity = django_filters.CharFilter(method="filter_entity", help_text="Entity, by name or slug.")
    entity_type = django_filters.CharFilter(
        method="filter_entity_type", help_text="Entity type, e.g. 'stack'."
    )
    difficulty = django_filters.CharFilter(help_text="e.g. beginner, intermediate, advanced.")
    code_language = django_filters.CharFilter(help_text="e.g. python.")
    status = django_filters.CharFilter(
        field_name="revision_status", help_text="Review status, e.g. reviewed."
    )
    state = django_filters.CharFilter(help_text="Workflow state (anonymous clients only see 'published').")
    needs_human_review = StrictBooleanFilter(help_text="true or false.")
    has_images = StrictBooleanFilter(help_text="true or false.")
    site = django_filters.CharFilter()
    quality_min = django_filters.NumberFilter(field_name="quality", lookup_expr="gte")
    quality_max = django_filters.NumberFilter(field_name="quality", lookup_expr="lte")
    freshness_min = django_filters.NumberFilter(field_name="freshness", lookup_expr="gte")
    freshness_max = django_filters.NumberFilter(field_name="freshness", lookup_expr="lte")
    depth_min = django_filters.NumberFilter(field_name="depth", lookup_expr="gte")
    depth_max = django_filters.NumberFilter(field_name="depth", lookup_expr="lte")
    clarity_min = django_filters.NumberFilter(field_name="clarity", lookup_expr="gte")
    clarity_max = django_filters.NumberFilter(field_name="clarity", lookup_expr="lte")
    reading_time_min = django_filters.NumberFilter(field_name="reading_time", lookup_expr="gte")
    reading_time_max = django_filters.NumberFilter(field_name="reading_time", lookup_expr="lte")
    reviewed_after = django_filters.DateFilter(field_name="last_reviewed", lookup_expr="gte")
    reviewed_before = django_filters.DateFilter(field_name="last_reviewed", lookup_expr="lte")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Words in title, topic, summary or reference."
    )
    ordering = StableOrderingFilter(
        fields=ORDERING_FIELDS, help_text="One of the fields, '-' first for descending."
    )

    class Meta:
        model = Article
        fields = []

    def filter_stack(self, queryset, name, value):
        return queryset.tagged(Tag.Kind.STACK, slugify(value))

    def filter_tool(self, queryset, name, value):
        return queryset.tagged(Tag.Kind.TOOL, slugify(value))

    def filter_entity(self, queryset, name, value):
        matches = ArticleEntity.objects.filter(article=OuterRef("pk")).filter(
            Q(entity__slug=slugify(value)) | Q(entity__name=value)
        )
        return queryset.filter(Exists(matches))

    def filter_entity_type(self, queryset, name, value):
        return queryset.filter(
            Exists(ArticleEntity.objects.filter(article=OuterRef("pk"), entity__type=value))
        )

    def filter_search(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(topic__icontains=word)
                | Q(summary__icontains=word)
                | Q(reference__icontains=word)
            )
        return queryset

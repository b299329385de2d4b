"""Admin registration of the shared tags and entities.

Articles themselves are edited through the releases admin, where every change becomes a
revision and goes through review.
"""

from django.contrib import admin

from articles.models import Entity, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "slug"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "slug"]
    list_filter = ["type"]
    search_fields = ["name", "slug"]

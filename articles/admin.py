"""Admin registration: every part of an article can be seen, filtered and searched at once."""

from django.contrib import admin

from articles.models import Article, ArticleEntity, ArticleTag, Entity, ImageSource, Tag


class ArticleTagInline(admin.TabularInline):
    model = ArticleTag
    extra = 0
    autocomplete_fields = ["tag"]
    ordering = ["tag__kind", "position"]


class ArticleEntityInline(admin.TabularInline):
    model = ArticleEntity
    extra = 0
    autocomplete_fields = ["entity"]


class ImageSourceInline(admin.StackedInline):
    model = ImageSource
    extra = 0
    fields = ["position", "source", "url", "caption", "image", "width", "height"]
    readonly_fields = ["width", "height"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "title", "reference", "site", "state", "difficulty", "code_language", "version",
        "last_reviewed", "needs_human_review", "published_at",
    ]  # fmt: skip
    list_filter = ["state", "site", "needs_human_review", "difficulty", "code_language", "revision_status"]
    search_fields = ["title", "reference", "topic"]
    list_select_related = False
    date_hierarchy = "published_at"
    readonly_fields = ["slug", "source_digest", "source_version", "created_at", "updated_at"]
    inlines = [ArticleTagInline, ArticleEntityInline, ImageSourceInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "reference", "site", "state", "published_at"]}),
        ("Post meta", {"fields": [
            "topic", "summary", "brief", "outline", "code_language", "difficulty", "reading_time",
            "view_count", "source_hash",
        ]}),
        ("Scores", {"fields": [("quality", "freshness", "depth", "clarity")]}),
        ("Revision", {"fields": [("revision_status", "version", "last_reviewed")]}),
        ("Flags", {"fields": [("ai_generated_style", "has_images", "image_heavy", "needs_human_review")]}),
        ("Lists and records", {"fields": ["checklist", "notes", "payload", "extra"]}),
        ("Body", {"fields": ["body", "body_text"], "classes": ["collapse"]}),
        ("Import", {
            "fields": ["source_digest", "source_version", "created_at", "updated_at"],
            "classes": ["collapse"],
        }),
    ]  # fmt: skip


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

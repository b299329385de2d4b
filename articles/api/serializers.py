"""Representations of the meta API. Each serializer documents one shape in the OpenAPI schema.

The meta JSON is built by ``articles.selectors.article_meta`` (one rule for its content); these
serializers type and describe every field of it, and render it.
"""

from rest_framework import serializers


class OutlineSerializer(serializers.Serializer):
    context = serializers.CharField(allow_null=True, help_text="When the problem arises.")
    problem = serializers.CharField(allow_null=True, help_text="What the article solves.")
    stack = serializers.CharField(allow_null=True, help_text="The stack it is about.")
    recommended_action = serializers.CharField(allow_null=True, help_text="What the article recommends.")


class ScoresSerializer(serializers.Serializer):
    quality = serializers.IntegerField(allow_null=True, min_value=0, max_value=100)
    freshness = serializers.IntegerField(allow_null=True, min_value=0, max_value=100)
    depth = serializers.IntegerField(allow_null=True, min_value=0, max_value=100)
    clarity = serializers.IntegerField(allow_null=True, min_value=0, max_value=100)


class RevisionBlockSerializer(serializers.Serializer):
    status = serializers.CharField(
        allow_null=True, help_text="Review status of the shown content, e.g. 'reviewed' or 'draft'."
    )
    version = serializers.CharField(allow_null=True, help_text="Semantic version MAJOR.MINOR.PATCH.")
    last_reviewed = serializers.DateField(allow_null=True, help_text="Date of the last review.")


class FlagsSerializer(serializers.Serializer):
    ai_generated_style = serializers.BooleanField(allow_null=True)
    has_images = serializers.BooleanField(allow_null=True)
    image_heavy = serializers.BooleanField(allow_null=True)
    needs_human_review = serializers.BooleanField(allow_null=True)


class EntitySerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text="e.g. stack, area, problem, tool.")


class ImageSourceSerializer(serializers.Serializer):
    source = serializers.CharField(allow_null=True)
    url = serializers.URLField(help_text="An http or https URL.")
    caption = serializers.CharField(allow_null=True)


class PayloadSerializer(serializers.Serializer):
    source_id = serializers.CharField(allow_null=True)
    generator = serializers.CharField(allow_null=True)
    paragraphs = serializers.IntegerField(allow_null=True, min_value=0)
    scenario = serializers.CharField(allow_null=True)
    seed = serializers.IntegerField(allow_null=True, min_value=0)


class SimilarSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="Path of the article page.")
    score = serializers.FloatField(help_text="Relatedness; higher is closer.")


class BodyBlockSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["heading", "paragraph", "code", "list", "figure"])
    text = serializers.CharField(required=False, help_text="Headings, paragraphs and code.")
    language = serializers.CharField(required=False, help_text="Code blocks: the code language.")
    items = serializers.ListField(child=serializers.CharField(), required=False, help_text="Lists.")
    caption = serializers.CharField(required=False, help_text="Figures.")
    source = serializers.CharField(required=False, help_text="Figures: the credited image source.")
    image = serializers.IntegerField(
        required=False, allow_null=True, help_text="Figures: index into image_sources, or null."
    )

    def to_representation(self, instance):
        # Each kind carries only its own keys.
        return {key: value for key, value in super().to_representation(instance).items() if key in instance}


class ArticleSummarySerializer(serializers.Serializer):
    """The light list item: identity and the fields a list shows."""

    slug = serializers.SlugField()
    url = serializers.CharField(help_text="Path of the article page.")
    reference = serializers.CharField(help_text="The source's identity for the article.")
    title = serializers.CharField()
    site = serializers.CharField(help_text="Site named by the post-meta header.")
    state = serializers.CharField(help_text="Workflow state; 'published' is live.")
    topic = serializers.CharField(allow_null=True)
    difficulty = serializers.CharField(allow_null=True)
    reading_time = serializers.IntegerField(allow_null=True, min_value=0, help_text="Minutes.")
    stack = serializers.ListField(child=serializers.CharField())
    tools = serializers.ListField(child=serializers.CharField())
    revision = RevisionBlockSerializer(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True, help_text="When it first went live.")


class ArticleMetaSerializer(serializers.Serializer):
    """The post-meta box of an article as JSON."""

    slug = serializers.SlugField()
    url = serializers.CharField(help_text="Path of the article page.")
    title = serializers.CharField()
    site = serializers.CharField(help_text="Site named by the post-meta header.")
    state = serializers.ChoiceField(
        choices=["draft", "in_review", "changes_requested", "reviewed", "published", "archived"],
        help_text="Workflow state; 'published' is live.",
    )
    topic = serializers.CharField(allow_null=True)
    summary = serializers.CharField(allow_null=True)
    brief = serializers.CharField(allow_null=True, help_text="The post-meta box's 'ai brief'.")
    outline = OutlineSerializer(allow_null=True)
    stack = serializers.ListField(child=serializers.CharField(), help_text="Stack tags in order.")
    tools = serializers.ListField(child=serializers.CharField(), help_text="Tool tags in order.")
    code_language = serializers.CharField(allow_null=True)
    difficulty = serializers.CharField(allow_null=True)
    reading_time = serializers.IntegerField(allow_null=True, min_value=0, help_text="Minutes.")
    view_count = serializers.IntegerField(allow_null=True, min_value=0, help_text="The imported figure.")
    scores = ScoresSerializer(allow_null=True)
    revision = RevisionBlockSerializer(allow_null=True)
    reference = serializers.CharField(help_text="The source's identity for the article.")
    hash = serializers.CharField(allow_null=True, help_text="The source's checksum, not verified.")
    flags = FlagsSerializer(allow_null=True)
    checklist = serializers.ListField(child=serializers.CharField())
    entities = EntitySerializer(many=True)
    image_sources = ImageSourceSerializer(many=True)
    payload = PayloadSerializer(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
    extra = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Unknown meta entries, key as written -> list of values.",
    )
    similar = SimilarSerializer(many=True, help_text="Up to five related live articles, best first.")


class ArticleDetailSerializer(ArticleMetaSerializer):
    """The meta JSON, with the body blocks when ``?include=body`` asks for them."""

    body = BodyBlockSerializer(many=True, required=False, help_text="Only with ?include=body.")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("include_body"):
            data.pop("body", None)
        return data


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1, 2, 3... in the order the revisions were made.")
    version = serializers.CharField()
    state = serializers.CharField(help_text="Workflow state of the revision.")
    kind = serializers.CharField(help_text="import, edit, publish or rollback.")
    created_at = serializers.DateTimeField()
    author = serializers.CharField(source="author_label", help_text="User name, or 'import'.")
    note = serializers.CharField(allow_blank=True)


class ErrorDetailSerializer(serializers.Serializer):
    """An error answer: what went wrong, in words."""

    detail = serializers.CharField()


# A 400 from the list's filters: each invalid query parameter with its messages.
FILTER_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"quality_min": ["Enter a number."]},
}


class ImportResultSerializer(serializers.Serializer):
    class ProblemSerializer(serializers.Serializer):
        path = serializers.CharField()
        line = serializers.IntegerField(allow_null=True)
        field = serializers.CharField()
        message = serializers.CharField()

    path = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged", "stale", "failed"])
    reference = serializers.CharField(allow_null=True)
    slug = serializers.CharField(allow_null=True)
    warnings = ProblemSerializer(many=True)
    errors = ProblemSerializer(many=True)


class ContentEditSerializer(serializers.Serializer):
    """Fields an editor may change through PATCH; each is optional and typed like the meta JSON."""

    title = serializers.CharField(max_length=500)
    topic = serializers.CharField(allow_null=True)
    summary = serializers.CharField(allow_null=True)
    brief = serializers.CharField(allow_null=True)
    outline = OutlineSerializer(allow_null=True)
    stack = serializers.ListField(child=serializers.CharField(max_length=200))
    tools = serializers.ListField(child=serializers.CharField(max_length=200))
    code_language = serializers.CharField(allow_null=True, max_length=50)
    difficulty = serializers.CharField(allow_null=True, max_length=50)
    reading_time = serializers.IntegerField(allow_null=True, min_value=0, max_value=2_147_483_647)
    view_count = serializers.IntegerField(allow_null=True, min_value=0, max_value=2**63 - 1)
    scores = ScoresSerializer(allow_null=True)
    revision = RevisionBlockSerializer(allow_null=True)
    hash = serializers.CharField(allow_null=True, max_length=200)
    flags = FlagsSerializer(allow_null=True)
    checklist = serializers.ListField(child=serializers.CharField())
    entities = EntitySerializer(many=True)
    image_sources = ImageSourceSerializer(many=True)
    payload = PayloadSerializer(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
    extra = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    body = BodyBlockSerializer(many=True)
    body_text = serializers.CharField(allow_blank=True)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        revision = values.get("revision")
        if revision and revision.get("last_reviewed") is not None:
            values["revision"] = {**revision, "last_reviewed": revision["last_reviewed"].isoformat()}
        return values

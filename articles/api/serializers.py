"""Representations of the meta API. Each serializer documents one shape in the OpenAPI schema.

The meta JSON is built by ``articles.selectors.article_meta`` (one rule for its content); these
serializers type and describe every field of it, and render it.
"""

import re
from functools import cache

from rest_framework import serializers

from articles.api.schema import ISO_DATE_PATTERN, WHITESPACE, char_class, chars_between, text_pattern
from articles.content import MAX_PARTS, MAX_READING_TIME, RESERVED_EXTRA_KEYS
from articles.models import Article

# What the content validator (articles.content.clean_content) refuses in a string: the control
# characters but tab and line feed, and in one-line fields a line feed too. A carriage return is
# read as a line feed (CRLF as one), so it is allowed where a line feed is.
CONTROLS = chars_between(0x00, 0x08) + "\x0b\x0c" + chars_between(0x0E, 0x1F) + chars_between(0x7F, 0x9F)
LINE_BREAKS = "\n\r"


def column_length(name: str) -> int:
    """The longest text the article column ``name`` holds (clean_content refuses longer)."""
    return Article._meta.get_field(name).max_length


class JsonStringMixin:
    """A JSON string and nothing else: DRF's CharField also takes numbers and booleans as text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JsonCharField(JsonStringMixin, serializers.CharField):
    """A JSON string; ``schema_pattern`` is the pattern the schema states for it (see
    articles.api.schema.ApiSchema), when the server refuses more than the field's own options say."""

    def __init__(self, *, schema_pattern: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.schema_pattern = schema_pattern


class ContentString(JsonCharField):
    """A string of the content dict, kept as sent (not trimmed). The schema's pattern states what
    clean_content refuses in it: control characters, and line breaks in one-line fields."""

    def __init__(self, *, one_line: bool = True, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("schema_pattern", text_pattern(CONTROLS + (LINE_BREAKS if one_line else "")))
        super().__init__(**kwargs)


class JsonIntegerField(serializers.IntegerField):
    """A JSON number with no fraction, and nothing else (DRF's IntegerField also reads "5" and true)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, float) and data.is_integer())
        ):
            self.fail("invalid")
        return super().to_internal_value(data)


class JsonBooleanField(serializers.BooleanField):
    """JSON true or false, and nothing else (DRF's BooleanField also reads 1, "yes", "on"...)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class IsoDateField(serializers.DateField):
    """A date written YYYY-MM-DD, and nothing else (DRF also reads 20260102 and week dates)."""

    ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    schema_pattern = ISO_DATE_PATTERN

    def to_internal_value(self, value):
        if not isinstance(value, str) or not self.ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class OutlineSerializer(serializers.Serializer):
    context = ContentString(allow_null=True, help_text="When the problem arises.")
    problem = ContentString(allow_null=True, help_text="What the article solves.")
    stack = ContentString(allow_null=True, help_text="The stack it is about.")
    recommended_action = ContentString(allow_null=True, help_text="What the article recommends.")


class ScoresSerializer(serializers.Serializer):
    quality = JsonIntegerField(allow_null=True, min_value=0, max_value=100)
    freshness = JsonIntegerField(allow_null=True, min_value=0, max_value=100)
    depth = JsonIntegerField(allow_null=True, min_value=0, max_value=100)
    clarity = JsonIntegerField(allow_null=True, min_value=0, max_value=100)


class RevisionBlockSerializer(serializers.Serializer):
    status = ContentString(
        allow_null=True,
        max_length=column_length("revision_status"),
        help_text="Review status of the shown content, e.g. 'reviewed' or 'draft'.",
    )
    version = ContentString(
        allow_null=True,
        schema_pattern=r"^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$",
        help_text="Semantic version MAJOR.MINOR.PATCH, each part at most nine digits.",
    )
    last_reviewed = IsoDateField(allow_null=True, help_text="Date of the last review.")


class FlagsSerializer(serializers.Serializer):
    ai_generated_style = JsonBooleanField(allow_null=True)
    has_images = JsonBooleanField(allow_null=True)
    image_heavy = JsonBooleanField(allow_null=True)
    needs_human_review = JsonBooleanField(allow_null=True)


class EntitySerializer(serializers.Serializer):
    name = ContentString(max_length=200)
    type = ContentString(max_length=100, help_text="e.g. stack, area, problem, tool.")


# The image URLs an edit may name, as articles.parsing.check_url accepts them (and the importer
# does): http:// or https:// (lower-case), a host, and no whitespace (nor control characters, as in
# every one-line field). Brackets (IPv6 addresses) are left out of the host: urlsplit refuses most.
# urlsplit also refuses a host part holding a character that NFKC turns into one of "/?#@:"
# (such as U+FF20, a full-width @): these.
NFKC_URL_DELIMITERS = (
    "\u2047\u2048\u2049\u2100\u2101\u2105\u2106\u2a74\ufe13\ufe16\ufe55\ufe56\ufe5f\ufe6b"
    "\uff03\uff0f\uff1a\uff1f\uff20"
)
_NOT_IN_URL = CONTROLS + LINE_BREAKS + WHITESPACE
_NOT_IN_HOST = _NOT_IN_URL + NFKC_URL_DELIMITERS + "/?#[]"
IMAGE_URL_PATTERN = (
    "^https?://"
    f"(?:{char_class(_NOT_IN_HOST, negate=True)}*@)?"  # user information
    f"{char_class(_NOT_IN_HOST + '@:', negate=True)}"  # the host name's first character
    f"{char_class(_NOT_IN_HOST + '@', negate=True)}*"  # the rest of the host, a port
    f"(?:[/?#]{char_class(_NOT_IN_URL, negate=True)}*)?$"  # path, query, fragment
)


class ImageSourceSerializer(serializers.Serializer):
    source = ContentString(allow_null=True, max_length=200)
    url = ContentString(max_length=2000, schema_pattern=IMAGE_URL_PATTERN, help_text="An http or https URL.")
    caption = ContentString(allow_null=True)


class PayloadSerializer(serializers.Serializer):
    source_id = ContentString(allow_null=True, one_line=False)
    generator = ContentString(allow_null=True, one_line=False)
    paragraphs = JsonIntegerField(allow_null=True, min_value=0)
    scenario = ContentString(allow_null=True, one_line=False)
    seed = JsonIntegerField(allow_null=True, min_value=0)


class SimilarSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="Path of the article page.")
    score = serializers.FloatField(help_text="Relatedness; higher is closer.")


class BodyBlockSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["heading", "paragraph", "code", "list", "figure"])
    text = ContentString(one_line=False, required=False, help_text="Headings, paragraphs and code.")
    language = ContentString(one_line=False, required=False, help_text="Code blocks: the code language.")
    items = serializers.ListField(child=ContentString(one_line=False), required=False, help_text="Lists.")
    caption = ContentString(one_line=False, required=False, help_text="Figures.")
    source = ContentString(one_line=False, required=False, help_text="Figures: the credited image source.")
    image = JsonIntegerField(
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


class ExtraField(serializers.DictField):
    """Unknown meta entries: the keys clean_content accepts (one line, no control character, not a
    name of a dict method, not starting with "_"), each with a list of values."""

    request_schema = {
        "propertyNames": {
            "pattern": f"^(?:{char_class(CONTROLS + LINE_BREAKS + '_', negate=True)}"
            f"{char_class(CONTROLS + LINE_BREAKS, negate=True)}*)?$",
            "not": {"enum": sorted(RESERVED_EXTRA_KEYS)},
        }
    }


class ContentEditSerializer(serializers.Serializer):
    """Fields an editor may change through PATCH: at least one, each typed like the meta JSON and
    limited as clean_content limits it (nested records are replaced whole, so theirs are required)."""

    request_schema = {"minProperties": 1, "additionalProperties": False}

    title = ContentString(required=False, max_length=column_length("title"))
    topic = ContentString(required=False, allow_null=True)
    summary = ContentString(required=False, allow_null=True)
    brief = ContentString(required=False, allow_null=True)
    outline = OutlineSerializer(required=False, allow_null=True)
    stack = serializers.ListField(required=False, max_length=MAX_PARTS, child=ContentString(max_length=200))
    tools = serializers.ListField(required=False, max_length=MAX_PARTS, child=ContentString(max_length=200))
    code_language = ContentString(required=False, allow_null=True, max_length=column_length("code_language"))
    difficulty = ContentString(required=False, allow_null=True, max_length=column_length("difficulty"))
    reading_time = JsonIntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_READING_TIME)
    view_count = JsonIntegerField(required=False, allow_null=True, min_value=0, max_value=2**63 - 1)
    scores = ScoresSerializer(required=False, allow_null=True)
    revision = RevisionBlockSerializer(required=False, allow_null=True)
    hash = ContentString(required=False, allow_null=True, max_length=column_length("source_hash"))
    flags = FlagsSerializer(required=False, allow_null=True)
    checklist = serializers.ListField(required=False, child=ContentString(one_line=False))
    entities = EntitySerializer(required=False, many=True, max_length=MAX_PARTS)
    image_sources = ImageSourceSerializer(required=False, many=True, max_length=MAX_PARTS)
    payload = PayloadSerializer(required=False, allow_null=True)
    notes = serializers.ListField(required=False, child=ContentString(one_line=False))
    extra = ExtraField(required=False, child=serializers.ListField(child=ContentString(one_line=False)))
    body = BodyBlockSerializer(required=False, many=True)
    body_text = ContentString(required=False, one_line=False, allow_blank=True)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        revision = values.get("revision")
        if revision and revision.get("last_reviewed") is not None:
            values["revision"] = {**revision, "last_reviewed": revision["last_reviewed"].isoformat()}
        return values


def represent(serializer_class: type[serializers.BaseSerializer], data, *, many: bool = False, **context):
    """``serializer_class(data, many=many, context=context).data``, as plain JSON-ready data.

    One instance per serializer, ``many`` and context serves every request of the process: DRF
    builds a serializer's fields anew for each instance (a deep copy of every declared field, of
    the nested serializers too), which was a fifth of an uncached API detail's Python. Rendering
    keeps no state on a serializer or its fields, so the instance is shared safely.
    """
    return _output_serializer(serializer_class, many, tuple(sorted(context.items()))).to_representation(data)


@cache
def _output_serializer(serializer_class, many: bool, context: tuple) -> serializers.BaseSerializer:
    return serializer_class(many=many, context=dict(context))

"""Admin forms: editing an article's draft, and the notes that workflow actions ask for."""

import json
import warnings
from io import BytesIO
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.validators import MaxValueValidator
from django.utils import timezone
from PIL import Image

from articles.models import Article
from articles.parsing import parse_body
from releases import services
from releases.compare import LABELS

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Decoding an image takes memory for every pixel, whatever the file's size: a small file can
# declare billions of them (a decompression bomb). Larger images are refused before decoding.
MAX_UPLOAD_PIXELS = 25_000_000
UPLOAD_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


class VerifiedImageField(forms.ImageField):
    """An uploaded image, accepted only when Pillow reads all of it as one of UPLOAD_FORMATS, and
    only up to MAX_UPLOAD_BYTES and MAX_UPLOAD_PIXELS; anything else is a form error saying why."""

    default_error_messages = {
        "too_big": "The file is %(size)s bytes; uploads are limited to %(limit)s bytes.",
        "not_image": "The file is not a PNG, JPEG, GIF or WebP image.",
        "damaged": "The image is damaged or truncated and cannot be read (%(detail)s).",
        "too_many_pixels": "The image is %(width)s × %(height)s pixels; at most %(limit)s pixels are "
        "accepted (larger images could exhaust memory when decoded).",
        "bomb": "The image declares more pixels than can be decoded safely (a decompression bomb?); "
        "at most %(limit)s pixels are accepted.",
    }

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        if upload.size > MAX_UPLOAD_BYTES:
            limit = f"{MAX_UPLOAD_BYTES:,} ({MAX_UPLOAD_BYTES // (1024 * 1024)} MB)"
            self._refuse("too_big", size=f"{upload.size:,}", limit=limit)
        upload.seek(0)
        raw = upload.read(MAX_UPLOAD_BYTES + 1)
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that: make it an error here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = self._open(raw)
            width, height = image.size
            if width * height > MAX_UPLOAD_PIXELS:
                self._refuse("too_many_pixels", width=width, height=height, limit=f"{MAX_UPLOAD_PIXELS:,}")
            try:
                image.verify()  # checksums and structure, without decoding
                image = self._open(raw)
                image.load()  # every pixel: catches what verify() does not (a truncated JPEG)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                self._refuse("bomb", limit=f"{MAX_UPLOAD_PIXELS:,}")
            except Exception as exc:  # Pillow raises many kinds for broken files
                self._refuse("damaged", detail=str(exc) or type(exc).__name__)
        upload.image = image
        upload.content_type = Image.MIME.get(image.format)
        upload.seek(0)
        return upload

    def _open(self, raw: bytes) -> Image.Image:
        """Read the header only: the format, the mode and the declared size."""
        try:
            return Image.open(BytesIO(raw), formats=UPLOAD_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            self._refuse("bomb", limit=f"{MAX_UPLOAD_PIXELS:,}")
        except Exception:
            self._refuse("not_image")

    def _refuse(self, code: str, **params) -> None:
        raise forms.ValidationError(self.error_messages[code], code=code, params=params)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class ArticleEditForm(forms.ModelForm):
    """Every field of an article. Saving makes a draft revision; the live row is left alone.

    Lists are edited one item per line (entities as ``name | type``, image sources as
    ``source | url | caption``); the body is edited as text and classified into blocks the way
    imported documents are.
    """

    outline_context = forms.CharField(required=False, label="Outline: context")
    outline_problem = forms.CharField(required=False, label="Outline: problem")
    outline_stack = forms.CharField(required=False, label="Outline: stack")
    outline_recommended_action = forms.CharField(required=False, label="Outline: recommended action")
    stack = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="One per line."
    )
    tools = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="One per line."
    )
    checklist = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="One step per line, in order."
    )
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line."
    )
    entity_list = forms.CharField(
        label="Entities",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: name | type",
    )
    image_list = forms.CharField(
        label="Image sources",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: source | url | caption (http or https URLs only).",
    )
    payload = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="A JSON object, or empty."
    )
    extra = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Unknown meta entries as a JSON object of lists, or empty.",
    )
    body_text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "vLargeTextField"}),
        help_text="The body as text: blank lines separate blocks; '  • ' starts a list item.",
    )
    upload_for = forms.IntegerField(
        required=False, min_value=1, help_text="Attach the uploaded image to image source number N."
    )
    upload = VerifiedImageField(
        required=False,
        help_text="A PNG, JPEG, GIF or WebP image (read in full by Pillow), 5 MB and 25 megapixels at most.",
    )
    base_number = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_note = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"class": "vLargeTextField"}),
        help_text="Optional: what you changed and why; kept with the revision.",
    )

    class Meta:
        model = Article
        fields = [
            "title", "topic", "summary", "brief", "code_language", "difficulty", "reading_time",
            "view_count", "source_hash", "quality", "freshness", "depth", "clarity", "revision_status",
            "version", "last_reviewed", "ai_generated_style", "has_images", "image_heavy",
            "needs_human_review",
        ]  # fmt: skip
        # One-line fields of the post-meta box: a line break there would be refused.
        widgets = {
            name: forms.TextInput(attrs={"class": "vLargeTextField"})
            for name in ("topic", "summary", "brief")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("quality", "freshness", "depth", "clarity"):
            self.fields[name].validators.append(MaxValueValidator(100))
        if self.instance.pk and not self.is_bound:
            self._load_draft()

    def _load_draft(self) -> None:
        """Start from the pending work (else the live revision), so editors continue where the
        last save stopped."""
        working = services.working_revision(self.instance)
        content = services.pending_content(self.instance)
        self.initial["base_number"] = working.number if working else 0
        outline = content.get("outline") or {}
        scores = content.get("scores") or {}
        flags = content.get("flags") or {}
        revision = content.get("revision") or {}
        self.initial.update(
            {
                "title": content["title"],
                "topic": content.get("topic"),
                "summary": content.get("summary"),
                "brief": content.get("brief"),
                "code_language": content.get("code_language"),
                "difficulty": content.get("difficulty"),
                "reading_time": content.get("reading_time"),
                "view_count": content.get("view_count"),
                "source_hash": content.get("hash"),
                **{name: scores.get(name) for name in ("quality", "freshness", "depth", "clarity")},
                "revision_status": revision.get("status"),
                "version": revision.get("version"),
                "last_reviewed": revision.get("last_reviewed"),
                **{f"outline_{name}": outline.get(name) for name in ("context", "problem", "stack")},
                "outline_recommended_action": outline.get("recommended_action"),
                **flags,
                "stack": "\n".join(content.get("stack") or []),
                "tools": "\n".join(content.get("tools") or []),
                "checklist": "\n".join(content.get("checklist") or []),
                "notes": "\n".join(content.get("notes") or []),
                "entity_list": "\n".join(f"{e['name']} | {e['type']}" for e in content.get("entities") or []),
                "image_list": "\n".join(
                    f"{i.get('source') or ''} | {i['url']} | {i.get('caption') or ''}"
                    for i in content.get("image_sources") or []
                ),
                "payload": json.dumps(content["payload"]) if content.get("payload") else "",
                "extra": json.dumps(content["extra"]) if content.get("extra") else "",
                "body_text": content.get("body_text") or "",
            }
        )

    def clean_entity_list(self):
        entities = []
        for number, line in enumerate(_lines(self.cleaned_data["entity_list"]), start=1):
            name, sep, type_ = (part.strip() for part in line.rpartition("|"))
            if not sep or not name or not type_:
                raise forms.ValidationError(f"Line {number}: write 'name | type'.")
            entities.append({"name": name, "type": type_})
        return entities

    def clean_image_list(self):
        images = []
        for number, line in enumerate(_lines(self.cleaned_data["image_list"]), start=1):
            parts = [part.strip() for part in line.split("|", 2)]
            if len(parts) != 3:
                raise forms.ValidationError(f"Line {number}: write 'source | url | caption'.")
            images.append({"source": parts[0] or None, "url": parts[1], "caption": parts[2] or None})
        return images

    def _clean_json(self, name: str, kind: type):
        text = self.cleaned_data[name].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(value, kind):
            raise forms.ValidationError(f"Must be a JSON {'object' if kind is dict else 'list'}.")
        return value

    def clean_payload(self):
        return self._clean_json("payload", dict)

    def clean_extra(self):
        extra = self._clean_json("extra", dict) or {}
        if not all(isinstance(v, list) and all(isinstance(i, str) for i in v) for v in extra.values()):
            raise forms.ValidationError("Each extra entry must be a list of strings.")
        return extra

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        working = services.working_revision(self.instance)
        base = cleaned.get("base_number")
        if base is not None and working is not None and base != working.number:
            raise forms.ValidationError(
                f"{working.author_label} saved revision {working.number} after you opened this page. "
                "Reload the page to see their changes, then apply yours again."
            )
        upload_for = cleaned.get("upload_for")
        if cleaned.get("upload") and not upload_for:
            self.add_error("upload_for", "Say which image source the upload belongs to.")
        elif upload_for and upload_for > len(cleaned.get("image_list") or []):
            self.add_error("upload_for", "There is no image source with that number.")
        try:
            self.content = services.validated_content(
                self._content(cleaned), base=working.content if working else None
            )
        except services.InvalidContent as error:
            for problem in error.problems:
                if problem["field"] == "revision.version":  # a field of this form: say it there
                    self.add_error("version", problem["message"])
                else:
                    self.add_error(None, f"{problem['field']}: {problem['message']}")
        return cleaned

    def _content(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        outline_keys = ("context", "problem", "stack", "recommended_action")
        outline = {key: cleaned.get(f"outline_{key}") or None for key in outline_keys}
        scores = {name: cleaned.get(name) for name in ("quality", "freshness", "depth", "clarity")}
        flag_names = ("ai_generated_style", "has_images", "image_heavy", "needs_human_review")
        flags = {name: cleaned.get(name) for name in flag_names}
        images = cleaned.get("image_list") or []
        language = cleaned.get("code_language") or ""
        blocks, _ = parse_body(cleaned.get("body_text") or "", code_language=language, image_sources=images)
        last_reviewed = cleaned.get("last_reviewed")
        revision = {
            "status": cleaned.get("revision_status") or None,
            "version": cleaned.get("version") or None,
            "last_reviewed": last_reviewed.isoformat() if last_reviewed else None,
        }
        current = services.pending_content(self.instance)
        return {
            "title": cleaned["title"],
            "site": current["site"],
            "reference": self.instance.reference,
            "topic": cleaned.get("topic") or None,
            "summary": cleaned.get("summary") or None,
            "brief": cleaned.get("brief") or None,
            "outline": outline if any(outline.values()) else None,
            "stack": _lines(cleaned.get("stack") or ""),
            "tools": _lines(cleaned.get("tools") or ""),
            "code_language": cleaned.get("code_language") or None,
            "difficulty": cleaned.get("difficulty") or None,
            "reading_time": cleaned.get("reading_time"),
            "view_count": cleaned.get("view_count"),
            "scores": scores if any(v is not None for v in scores.values()) else None,
            "revision": revision if any(revision.values()) else None,
            "hash": cleaned.get("source_hash") or None,
            "flags": flags if any(v is not None for v in flags.values()) else None,
            "checklist": _lines(cleaned.get("checklist") or ""),
            "entities": cleaned.get("entity_list") or [],
            "image_sources": images,
            "payload": cleaned.get("payload"),
            "notes": _lines(cleaned.get("notes") or ""),
            "extra": cleaned.get("extra") or {},
            "body": [block.as_dict() for block in blocks],
            "body_text": cleaned.get("body_text") or "",
        }

    def store_upload(self) -> None:
        """Save an uploaded image through the storage API and attach it to its image source."""
        upload = self.cleaned_data.get("upload")
        if not upload:
            return
        image = self.content["image_sources"][self.cleaned_data["upload_for"] - 1]
        width, height = upload.image.size
        name = default_storage.save(f"articles/{self.instance.pk}/{upload.name}", upload)
        image.update({"upload": name, "width": width, "height": height})


class NoteForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, note_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required


class WhenField(forms.DateTimeField):
    """An optional time, typed in the site's time zone; empty means now."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(**kwargs)

    def clean(self, value):
        when = super().clean(value)
        if when is not None and when <= timezone.now():
            raise forms.ValidationError("Choose a time in the future, or leave it empty to act now.")
        return when


class PublishForm(NoteForm):
    bump = forms.ChoiceField(
        choices=[(b, b) for b in services.BUMPS],
        initial="patch",
        help_text="Which part of the version grows.",
    )
    due_at = WhenField(
        label="Publish at",
        help_text=f"Optional: a later time ({settings.TIME_ZONE}). Empty publishes now.",
    )

    def __init__(self, *args, versions: dict[str, str | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if versions:
            self.fields["bump"].choices = [
                (bump, f"{bump}: {version}" if version else f"{bump}: not possible")
                for bump, version in versions.items()
            ]


class BulkPublishForm(PublishForm):
    """Publishing several articles at once: now, with one bump for all."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["due_at"]


class ArchiveForm(NoteForm):
    due_at = WhenField(
        label="Archive at",
        help_text=f"Optional: a later time ({settings.TIME_ZONE}). Empty archives now.",
    )


class CommentForm(forms.Form):
    """A review comment; its inputs sit inside the change page but belong to their own form."""

    field = forms.ChoiceField(
        required=False,
        label="On",
        choices=[("", "the whole article"), *LABELS.items()],
        widget=forms.Select(attrs={"form": "comment-form"}),
    )
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 2, "form": "comment-form"}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "comment")
        super().__init__(*args, **kwargs)


class ResolveConflictForm(forms.Form):
    """One choice per field in which an import and the pending work disagree."""

    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, fields: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.conflict_fields = fields
        for key in fields:
            self.fields[f"field_{key}"] = forms.ChoiceField(
                choices=[(services.KEEP, "pending"), (services.TAKE, "import")],
                initial=services.KEEP,
                widget=forms.RadioSelect,
            )

    def choices(self) -> dict[str, str]:
        return {key: self.cleaned_data[f"field_{key}"] for key in self.conflict_fields}


__all__ = [
    "ArchiveForm",
    "ArticleEditForm",
    "BulkPublishForm",
    "CommentForm",
    "NoteForm",
    "PublishForm",
    "ResolveConflictForm",
]

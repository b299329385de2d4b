"""The one content check of every edit path (``validated_content``), and the uploaded image
files a revision carries over from the one it starts from (``carry_uploads``, which the importer
and the restore apply too)."""

from typing import Any

from articles.content import clean_content
from releases.errors import InvalidContent


def carry_uploads(content: dict, base: dict | None) -> dict:
    """Uploaded image files belong to the revision: an image source that keeps its URL keeps its
    upload, whatever else changed (caption, source, position)."""
    if not base:
        return content
    uploads = {
        image["url"]: {key: image[key] for key in ("upload", "width", "height") if key in image}
        for image in base.get("image_sources") or []
        if image.get("upload")
    }
    if not uploads:
        return content
    images = []
    for image in content.get("image_sources") or []:
        if not image.get("upload") and image.get("url") in uploads:
            image = {**image, **uploads[image["url"]]}
        images.append(image)
    return {**content, "image_sources": images}


def validated_content(content: dict[str, Any], *, base: dict | None = None) -> dict[str, Any]:
    """The one content check of every edit path: normalised, or InvalidContent naming each field."""
    cleaned, problems = clean_content(content)
    if problems:
        raise InvalidContent("Some fields are not valid.", [problem.as_dict() for problem in problems])
    cleaned = carry_uploads(cleaned, base)
    if base is not None and cleaned.get("body_text") == base.get("body_text"):
        # The blocks are derived from the text: an unchanged text keeps the blocks it had.
        cleaned["body"] = base.get("body") or []
    return cleaned

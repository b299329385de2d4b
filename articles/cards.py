"""Social cards: a 1200x630 PNG per article version, drawn with Pillow and kept in storage.

The file name carries a digest of what the card shows, so a changed article gets a new card
and no server ever serves a stale one; storage (local disk or object storage) shares the
drawn cards between app servers.
"""

import hashlib
import io
import textwrap

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont

from articles.models import Article

WIDTH, HEIGHT = 1200, 630
BACKGROUND = (17, 24, 39)
ACCENT = (59, 130, 246)
TEXT = (249, 250, 251)
MUTED = (156, 163, 175)


def card_key(article: Article, content: dict) -> str:
    shown = "\x00".join(
        [content.get("title") or "", content.get("topic") or "", "\x01".join(content.get("stack") or [])]
    )
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    return f"cards/{article.pk}-{digest}.png"


def card_png(article: Article, content: dict) -> bytes:
    """The card's PNG bytes, drawn on first use and read from storage afterwards."""
    key = card_key(article, content)
    if default_storage.exists(key):
        with default_storage.open(key, "rb") as handle:
            return handle.read()
    data = draw_card(content)
    if not default_storage.exists(key):
        default_storage.save(key, ContentFile(data))
    return data


def draw_card(content: dict) -> bytes:
    """Draw title, topic and stack. Text is drawn as pixels: nothing in it is interpreted."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 24, HEIGHT], fill=ACCENT)
    title_font = ImageFont.load_default(size=58)
    body_font = ImageFont.load_default(size=32)
    small_font = ImageFont.load_default(size=26)

    y = 70
    for line in textwrap.wrap(content.get("title") or "", width=34)[:5]:
        draw.text((80, y), line, font=title_font, fill=TEXT)
        y += 70
    if content.get("topic"):
        y += 20
        for line in textwrap.wrap(content["topic"], width=60)[:2]:
            draw.text((80, y), line, font=body_font, fill=MUTED)
            y += 42
    stack = " · ".join(content.get("stack") or [])
    if stack:
        draw.text((80, HEIGHT - 90), textwrap.shorten(stack, width=80), font=small_font, fill=ACCENT)
    draw.text((WIDTH - 330, HEIGHT - 90), "release knowledge base", font=small_font, fill=MUTED)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()

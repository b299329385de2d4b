"""Image uploads through the admin change form: only real images, a size limit, and no
decompression bombs; anything else is a form error naming the problem, and nothing is stored."""

import io
import os
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from releases.forms import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS
from releases.models import Revision
from tests.conftest import admin_form_data
from tests.page_tree import parse

pytestmark = pytest.mark.django_db


def encoded(fmt: str, size=(64, 48), **options) -> bytes:
    """A real image of random pixels in this format."""
    width, height = size
    image = Image.frombytes("RGB", size, os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of any size: its rows of zeros compress ~1000:1, so a file of
    a few kilobytes decodes to hundreds of megabytes (a decompression bomb when large)."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then 1 bit per pixel
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def change_url(article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def form_data(client, article) -> dict:
    return admin_form_data(client, change_url(article))


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in Path(root).rglob("*") if path.is_file()) if Path(root).exists() else []


@pytest.fixture
def upload(client, editor, media_root, sample_article):
    """Post the change form with a file for image source 1; returns the response."""
    client.force_login(editor)

    def post(name: str, data: bytes):
        form = form_data(client, sample_article)
        form["upload_for"] = "1"
        form["upload"] = SimpleUploadedFile(name, data, content_type="application/octet-stream")
        return client.post(change_url(sample_article), form)

    return post


@pytest.mark.parametrize(
    ("name", "fmt", "options"),
    [("photo.png", "PNG", {}), ("photo.jpg", "JPEG", {}), ("photo.gif", "GIF", {}),
     ("photo.webp", "WEBP", {"lossless": True})],
)  # fmt: skip
def test_a_real_image_is_stored_and_attached_to_its_image_source(
    upload, media_root, sample_article, name, fmt, options
):
    data = encoded(fmt, (64, 48), **options)
    response = upload(name, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    (stored,) = stored_files(media_root)
    assert stored.relative_to(media_root).as_posix() == f"articles/{sample_article.pk}/{name}"
    assert stored.read_bytes() == data
    image = Revision.objects.filter(article=sample_article).latest("number").content["image_sources"][0]
    assert (image["upload"], image["width"], image["height"]) == (
        f"articles/{sample_article.pk}/{name}",
        64,
        48,
    )


def test_an_image_at_the_pixel_limit_is_accepted(upload, media_root, sample_article):
    side = int(MAX_UPLOAD_PIXELS**0.5)
    assert side * side == MAX_UPLOAD_PIXELS
    response = upload("large.png", blank_png(side, side))
    assert response.status_code == 302
    assert len(stored_files(media_root)) == 1


def _truncated_png() -> bytes:
    data = encoded("PNG")
    return data[: len(data) // 2]


def _oversized_png() -> bytes:
    """A real PNG, uncompressed, just over the size limit."""
    width = 1024
    height = MAX_UPLOAD_BYTES // (width * 3) + 8
    data = encoded("PNG", (width, height), compress_level=0)
    assert len(data) > MAX_UPLOAD_BYTES
    return data


REFUSED = [
    ("truncated-png", "photo.png", _truncated_png, "damaged or truncated"),
    # verify() accepts a JPEG cut short: only decoding it finds the missing data.
    ("truncated-jpeg", "photo.jpg", lambda: encoded("JPEG")[:-40], "damaged or truncated"),
    ("text-named-png", "notes.png", lambda: b"these are notes, not pixels\n" * 40, "is not a PNG, JPEG"),
    ("empty-png", "empty.png", lambda: b"\x89PNG\r\n\x1a\n", "is not a PNG, JPEG"),
    ("bitmap", "photo.bmp", lambda: encoded("BMP"), "is not a PNG, JPEG"),
    ("over-the-size-limit", "big.png", _oversized_png, f"limited to {MAX_UPLOAD_BYTES:,}"),
    ("over-the-pixel-limit", "wide.png", lambda: blank_png(6000, 5000), "6000 × 5000 pixels"),
    # Pillow only warns from 89 million pixels and refuses from twice that.
    ("bomb-pillow-warns", "bomb.png", lambda: blank_png(10_000, 10_000), "decompression bomb"),
    ("bomb-pillow-refuses", "bomb.png", lambda: blank_png(20_000, 20_000), "decompression bomb"),
]


@pytest.mark.parametrize(("name", "make", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_anything_but_a_sound_image_is_a_form_error_and_nothing_is_stored(
    upload, media_root, sample_article, name, make, message
):
    data = make()
    revisions = Revision.objects.filter(article=sample_article).count()
    with warnings.catch_warnings():
        # As in production, where Pillow's warnings are not errors (the test settings make them so).
        warnings.simplefilter("default", Image.DecompressionBombWarning)
        response = upload(name, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["upload"], errors
    assert message in errors["upload"][0]
    shown = parse(response.content).find_all("ul", class_="errorlist", id_="id_upload_error")
    assert [[item.text for item in errors.find_all("li")] for errors in shown] == [errors["upload"]]
    assert stored_files(media_root) == []
    assert Revision.objects.filter(article=sample_article).count() == revisions


def test_limits_are_stated_next_to_the_field(client, editor, sample_article):
    client.force_login(editor)
    page = client.get(change_url(sample_article)).content.decode()
    assert "5 MB and 25 megapixels at most" in page

"""The reader's pages on a phone: nothing scrolls sideways, and images from other hosts keep
their box, so the text below them never moves."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.layout import assert_no_sideways_scroll
from tests.conftest import import_variant as shared_import_variant

LONG_CODE_LINE = (
    'app = FastAPI(title="release notes service", description="serves the release notes of every '
    'service we ship")'
)
# What an image from another host is described as (templates/jinja2/articles/_body.html).
REMOTE_RATIO = round(1200 / 630, 2)


@pytest.fixture
def browser_context_options() -> dict:
    return {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def long_code():
    """An article whose code has a line far wider than a phone, and a second article."""
    article = shared_import_variant(
        3, "release notes for python services", series="0003", **{"app = FastAPI()": LONG_CODE_LINE}
    )
    shared_import_variant(4, "zero downtime rollbacks for python services", series="0003")
    return article


def remote_images(page: Page) -> list[list[float]]:
    """``[natural width, shown width / height]`` of each image from another host, once each has
    loaded or failed (they load lazily: each is scrolled into view)."""
    images = page.locator(".article-body img.remote")
    for image in images.all():
        image.scroll_into_view_if_needed()
    return images.evaluate_all(
        "images => Promise.all(images.map(i => (i.complete ? Promise.resolve() : new Promise("
        "done => { i.onload = done; i.onerror = done; })).then(() => [i.naturalWidth,"
        " Math.round(100 * i.clientWidth / i.clientHeight) / 100])))"
    )


def test_reader_pages_fit_a_phone(page: Page, long_code):
    """No reader page scrolls sideways: the long line scrolls inside its own code block. The
    other hosts' images arrive as 1x1 pixels (the ``page`` fixture's stand-in) and still show as
    1200x630 boxes."""
    for address, what in (
        (long_code.get_absolute_url(), "the article page"),
        ("/", "the home page"),
        ("/tools/fastapi/", "a tag's page"),
        ("/search/?q=python+services", "a search"),
    ):
        page.goto(address)
        assert_no_sideways_scroll(page, what)
    page.goto(long_code.get_absolute_url())
    code = page.locator(".article-body .code-block").first
    expect(code).to_contain_text("serves the release notes")
    assert code.evaluate("e => e.scrollWidth > e.clientWidth")  # the long line scrolls inside it
    boxes = remote_images(page)
    assert boxes and boxes == [[1, REMOTE_RATIO]] * len(boxes), boxes


@pytest.mark.allow_console_errors  # each image that cannot load is a console error
def test_remote_images_keep_their_box_when_their_host_does_not_answer(page: Page, long_code, live_server):
    page.context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    page.goto(long_code.get_absolute_url())
    boxes = remote_images(page)
    assert boxes and boxes == [[0, REMOTE_RATIO]] * len(boxes), boxes
    assert_no_sideways_scroll(page, "the article page without its images")

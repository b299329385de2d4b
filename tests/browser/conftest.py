"""Real-browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

How it fits together:

* The browser is Debian's ``chromium`` package at ``/usr/bin/chromium`` (``scripts/ensure-chromium``
  installs it; ``make test`` runs that first). Playwright's own browser download is never used: CI
  cannot reach its servers. The Python ``playwright`` package only supplies the driver.
* Chromium runs headless with background networking off, so it never tries to reach outside hosts.
  Pages may still ask for them (an article's images on an image host): every request to a host
  other than the live server gets a stand-in answer (a transparent pixel for images, an empty 204
  otherwise), so tests neither need the network nor fail on its absence.
* The site under test is pytest-django's ``live_server`` (a real HTTP server in a thread of this
  process, static files served by the staticfiles handler). Using it gives every test the
  ``transactional_db`` fixture: the server thread reads committed rows, and the tables are emptied
  after each test.
* There is no shared fixture data: each test creates what it needs with the ORM or the import
  service (``releases.importing.import_document``) inside the test, before opening pages.
* ``page`` is a fresh browser context and tab per test. Console errors, uncaught page errors and
  CSP violations (Chromium reports them as console errors: "Refused to ..." or "... violates the
  following Content Security Policy directive ...") fail the test at teardown; mark a test
  ``@pytest.mark.allow_console_errors`` when it expects some. None is ignored: the site serves
  the /favicon.ico Chromium asks for on its own. When a test fails, a screenshot is saved to
  ``test-output/browser/<test name>.png``.
* Every test in this folder carries the ``browser`` marker: ``pytest -m "not browser"`` skips them.

The Playwright sync API keeps an asyncio loop marked as running in this thread between its calls.
Django refuses ORM calls while a loop runs (``SynchronousOnlyOperation``), and code outside the
browser tests must not see that loop either (``async_to_sync`` refuses to run under one). So the
loop is marked running only for the duration of each browser test, with
``DJANGO_ALLOW_ASYNC_UNSAFE`` set: the test body can use the ORM between page calls, and this
thread makes no ORM calls while a Playwright call is in progress, so that is safe. Under the
marked loop the test body gets database connections of its own; they are closed after each test.
"""

import asyncio
import base64
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Route, sync_playwright

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Short waits: the server is local, a missing element should fail fast rather than after 30 s.
DEFAULT_TIMEOUT_MS = 10_000
# What a request to another host gets: images a transparent pixel, anything else an empty answer.
TRANSPARENT_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
_OUTSIDE_REQUESTS = pytest.StashKey[list[str]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `browser` (this hook sees the whole session's items)."""
    for item in items:
        if item.path.is_relative_to(BROWSER_DIR):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the item, so the `page` fixture knows whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


class _PlaywrightLoop:
    """Marks Playwright's event loop as running in this thread only while a browser test runs."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def park(self) -> None:
        self.loop = asyncio._get_running_loop()
        asyncio._set_running_loop(None)

    def resume(self) -> None:
        if self.loop is not None:
            asyncio._set_running_loop(self.loop)


_playwright_loop = _PlaywrightLoop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium (make test does).", pytrace=False)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    _playwright_loop.park()
    yield browser
    _playwright_loop.resume()
    try:
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture(autouse=True)
def _browser_test_env(browser: Browser, django_db_serialized_rollback) -> Iterator[None]:
    """Mark Playwright's loop running, and allow the ORM beside it, for this test only.

    The live server needs committed rows, so each test ends with a flush of every table; a
    serialized rollback puts back what migrations created (the Editors and Reviewers groups).

    Set up after pytest-django's database fixtures and torn down before them, so the database
    set-up and flush run with no loop marked."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    _playwright_loop.resume()
    try:
        yield
    finally:
        try:
            # Under the marked loop Django keeps this thread's connections apart (asgiref stores
            # them per context then): close the ones the test opened, or PostgreSQL could not drop
            # the test database at the end ("being accessed by other users").
            connections.close_all()
        finally:
            _playwright_loop.park()
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _describe_console(message: ConsoleMessage) -> str:
    # Chromium words CSP violations "Refused to load ..." or "Executing inline script violates the
    # following Content Security Policy directive ...", depending on the version and the case.
    text = message.text
    is_csp = text.startswith("Refused to") or "Content Security Policy" in text
    kind = "CSP violation" if is_csp else "console error"
    location = message.location or {}
    where = location.get("url") or ""
    if where and location.get("lineNumber") is not None:
        where += f":{location['lineNumber'] + 1}"
    return f"{kind}: {message.text}" + (f" ({where})" if where else "")


def _screenshot_path(node: pytest.Item) -> Path:
    """test-output/browser/<test name>.png under the project folder (git ignores test-output/)."""
    name = re.sub(r"[^\w.-]+", "_", node.name).strip("_")
    return node.config.rootpath / "test-output" / "browser" / f"{name}.png"


@pytest.fixture
def browser_context_options() -> dict:
    """Extra options of the `page` fixture's browser context; a test module overrides this fixture
    to change them (the accessibility tests set ``bypass_csp`` to inject axe-core)."""
    return {}


@pytest.fixture
def page(
    browser: Browser,
    _browser_test_env: None,
    live_server,
    request: pytest.FixtureRequest,
    browser_context_options: dict,
) -> Iterator[Page]:
    """A new context and tab per test, with `base_url` set to the live server.

    Relative URLs work: ``page.goto("/health")``. Requests to any other host never leave the
    machine: they get a stand-in answer and are listed by the ``outside_requests`` fixture.
    Console errors, page errors and CSP violations fail the test at teardown unless it is marked
    ``allow_console_errors``."""
    _screenshot_path(request.node).unlink(missing_ok=True)  # from an earlier run: it would mislead
    context = browser.new_context(base_url=live_server.url, **browser_context_options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    outside = request.node.stash[_OUTSIDE_REQUESTS] = []

    def answer_outside_request(route: Route) -> None:
        outside.append(route.request.url)
        if route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/png", body=TRANSPARENT_PNG)
        else:
            route.fulfill(status=204)

    server = live_server.url.rstrip("/") + "/"
    context.route(lambda url: not url.startswith(server), answer_outside_request)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(_describe_console(message))

    def on_page_error(error: Error) -> None:
        name = f"{error.name}: " if error.name else ""
        problems.append(f"page error: {name}{error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    try:
        yield page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        failed = any(report.failed for report in reports.values())
        allowed = request.node.get_closest_marker("allow_console_errors") is not None
        if failed or (problems and not allowed):
            path = _screenshot_path(request.node)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                page.screenshot(path=path, full_page=True)
            except Error as exc:  # a crashed or closed page: say so, but keep the test's own error
                print(f"no screenshot of {request.node.nodeid}: {exc.message}")
        context.close()
    if problems and not allowed:
        pytest.fail(
            "The browser reported errors (mark the test allow_console_errors if they are expected):\n  "
            + "\n  ".join(problems),
            pytrace=False,
        )


@pytest.fixture
def outside_requests(page: Page, request: pytest.FixtureRequest) -> list[str]:
    """The URLs on other hosts the page asked for so far (each got the stand-in answer)."""
    return request.node.stash[_OUTSIDE_REQUESTS]


@pytest.fixture
def admin_login(page: Page) -> Callable[[str, str], None]:
    """Sign in through the real admin login form: ``admin_login("root", "pw-root")``.

    Fails the test with the form's own message when the admin does not let the user in."""

    def login(username: str, password: str) -> None:
        page.goto("/admin/login/?next=/admin/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        with page.expect_navigation():
            page.locator("#login-form [type=submit]").click()
        error = page.locator(".errornote")
        if error.count():
            raise AssertionError(f"admin login for {username!r} failed: {error.first.inner_text()}")
        if "/admin/login/" in page.url:
            raise AssertionError(f"admin login for {username!r} stayed on the login page ({page.url})")

    return login

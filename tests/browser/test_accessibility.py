"""axe-core in a real browser: the reader's pages and the editorial admin have no serious or
critical accessibility violations.

axe-core comes from the npm registry, pinned in package.json / package-lock.json (``make test``
installs it into node_modules/ through scripts/ensure-test-tools). It is injected into each page
as a script; the site's Content-Security-Policy forbids scripts it did not serve, so this module's
browser contexts bypass the CSP (``bypass_csp``), and this module only: every other browser test
runs under the real policy, whose violations fail it.
"""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from articles.models import Article
from releases import services
from releases.importing import import_document
from tests.conftest import import_variant as shared_import_variant

BASE_DIR = Path(__file__).resolve().parents[2]
AXE = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SAMPLE = (BASE_DIR / "articles/fixtures/samples/anp-ref-035445-8950.txt").read_text()
# The impacts that fail a page; "moderate" and "minor" findings are reported by axe but accepted.
FAILING_IMPACTS = {"serious", "critical"}


@pytest.fixture
def browser_context_options() -> dict:
    return {"bypass_csp": True}


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the page as it is now: its serious and critical violations."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/ensure-test-tools (make test does).", pytrace=False)
    page.add_script_tag(path=str(AXE))
    # No preloading: axe would fetch each stylesheet's @import'ed sheets relative to the page.
    results = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'], preload: false})"
    )
    return [violation for violation in results["violations"] if violation["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '')}")
    return "\n".join(lines)


def assert_accessible(page: Page, urls: list[str]) -> None:
    """Open each page and run axe on it; fail naming every page's violations at once."""
    found = {}
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        if violations := axe_violations(page):
            found[url] = describe(violations)
    assert found == {}, "\n".join(f"{url}:\n{text}" for url, text in found.items())


def import_variant(number: int, title: str, **replacements) -> Article:
    return shared_import_variant(number, title, series="0002", **replacements)


def test_the_axe_check_finds_a_planted_violation(page: Page):
    """The check itself works: an image without alternative text is a critical violation."""
    import_variant(1, "an article for the planted check")
    page.goto("/")
    page.evaluate(
        "() => { const img = document.createElement('img'); img.src = '/favicon.ico';"
        " document.querySelector('main').append(img); }"
    )
    assert "image-alt" in {violation["id"] for violation in axe_violations(page)}


def test_reader_pages_have_no_serious_violations(page: Page):
    sample = Article.objects.get(pk=import_document(SAMPLE.encode(), path="sample.txt").article_id)
    import_variant(2, "zero downtime rollbacks for python services")

    assert_accessible(
        page,
        [
            "/",
            "/?difficulty=advanced",
            sample.get_absolute_url(),
            "/stack/python-services/",
            "/tools/fastapi/",
            "/entities/problem/creating-rollback-friendly-releases/",
            "/search/?q=rollback",
            "/search/?q=rollbak",
            "/search/",
        ],
    )


def test_admin_pages_have_no_serious_violations(page: Page, admin_login, django_user_model):
    django_user_model.objects.create_superuser(username="root", password="pw-root-axe")
    editor = django_user_model.objects.create_user(username="edith", password="pw-edith", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    article = import_variant(3, "rollback drills for python services")
    content = services.pending_content(article)
    services.article_edit(article=article, user=editor, content={**content, "summary": "a clearer summary"})
    services.article_submit(article=article, user=editor, note="please review")

    page.goto("/admin/login/?next=/admin/")
    expect(page.locator("#login-form")).to_be_visible()
    assert_accessible(page, ["/admin/login/?next=/admin/"])

    admin_login("root", "pw-root-axe")
    assert_accessible(
        page,
        [
            "/admin/",
            "/admin/articles/article/",
            f"/admin/articles/article/{article.pk}/change/",
            "/admin/releases/reviewqueueitem/",
        ],
    )


def test_api_pages_have_no_serious_violations(page: Page):
    """The browsable API (its root, lists with every kind of page link, a detail, the filters'
    form open) and the OpenAPI reference once Swagger UI has drawn its operations."""
    articles = [
        import_variant(10 + number, f"rollback drill {number} for python services") for number in range(7)
    ]

    assert_accessible(
        page,
        [
            "/api/",
            f"/api/articles/{articles[0].slug}/",
            "/api/articles/?page_size=1",  # no previous page, a gap before the last pages
            "/api/articles/?page_size=1&page=4",  # gaps on both sides
            "/api/articles/?page_size=1&page=7",  # no next page
        ],
    )
    expect(page.locator(".pagination .disabled")).to_have_count(2)  # the gap and "next" on page 7

    page.goto("/api/articles/")
    page.locator(".api-filters-button").click()
    expect(page.locator("#filtersModal")).to_be_visible()
    assert describe(axe_violations(page)) == ""

    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    assert describe(axe_violations(page)) == ""

"""The Nu Html Checker (the W3C's validator, vnu.jar from npm, run offline) finds no error in the
reader pages and the admin's sign-in page as the test client renders them."""

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from articles.models import Article
from releases.importing import import_document

pytestmark = pytest.mark.django_db

VNU = Path(__file__).resolve().parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def nu_errors(pages: dict[str, bytes], folder: Path) -> list[str]:
    """Check every page in one run of the checker: its errors, as 'page: line N: message'."""
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        pytest.fail(
            "java or vnu.jar is missing: run scripts/ensure-test-tools (make test does).", pytrace=False
        )
    files = {}
    for number, (url, content) in enumerate(pages.items()):
        path = (folder / f"page-{number}.html").resolve()
        path.write_bytes(content)
        files[path] = url
    result = subprocess.run(
        [java, "-jar", str(VNU), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = []
    for message in json.loads(result.stderr)["messages"]:
        page = files.get(Path(urlsplit(message.get("url", "")).path), message.get("url"))
        errors.append(f"{page}: line {message.get('lastLine')}: {message['message']}")
    return errors


def test_the_checker_reports_an_error(tmp_path):
    """The check itself works: an aria-label on a div without a role is an error."""
    page = b'<!doctype html><html lang="en"><title>t</title><div aria-label="python code">x</div></html>'
    errors = nu_errors({"/planted/": page}, tmp_path)
    assert len(errors) == 1 and "aria-label" in errors[0]


def test_reader_pages_and_the_sign_in_page_are_valid_html(client, sample_article, sample_text, tmp_path):
    hostile = sample_text.replace("anp-ref-035445-8950", "anp-ref-000001-0005").replace(
        "production checklist for creating rollback", 'a "quoted" <b>title</b> & more about rollback', 1
    )
    other = Article.objects.get(pk=import_document(hostile.encode(), path="other.txt").article_id)
    pages = {}
    for url in (
        "/",
        "/?difficulty=advanced&page=1",
        sample_article.get_absolute_url(),
        other.get_absolute_url(),
        "/stack/python-services/",
        "/tools/fastapi/",
        "/entities/problem/creating-rollback-friendly-releases/",
        "/search/",
        "/search/?q=rollback",
        '/search/?q="><b>x',
        "/search/?q=rollbak",  # nothing found: "did you mean"
        '/search/?q="quoted" <b>',  # snippets of the hostile title's article
        "/no/such/page/",
        "/admin/login/",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        pages[url] = response.content
    assert nu_errors(pages, tmp_path) == []

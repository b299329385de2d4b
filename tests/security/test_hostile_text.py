"""Hostile text is inert everywhere it is shown.

One imported document carries markup, attribute breakers, template syntax and javascript: text
in every text field (tests/security/hostile.py); an editor's draft and the workflow notes carry
it too. Every page, API answer, feed and image that shows any of it is checked: HTML escapes
it, nothing evaluates the template syntax, JSON carries it verbatim, XML stays well formed.
"""

import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from PIL import Image
from rest_framework.test import APIClient

from articles.models import Article, Entity, Tag
from releases import services
from releases.importing import import_document
from releases.models import AuditEvent, Revision
from tests.page_tree import hostile_markup, parse
from tests.security.hostile import (
    ATTRIBUTE,
    ENTITY_TYPE,
    HOSTILE,
    SCRIPT,
    TEMPLATE,
    TEMPLATE_TAG,
    hostile_document,
)

pytestmark = pytest.mark.django_db

RAW_MARKUP = (SCRIPT, "<img src=x onerror=alert(1)>", "<b>bold</b>")
ESCAPED_SCRIPT = escape(SCRIPT)  # &lt;script&gt;alert(1)&lt;/script&gt;
# What {% debug %} prints, escaped either way (Django's templates, Jinja2's).
TEMPLATE_OUTPUT = ("'False': False", "&#x27;False&#x27;: False", "&#39;False&#39;: False", "sys.modules")
ATOM = "{http://www.w3.org/2005/Atom}"


def assert_inert_html(response, *, shown=True):
    """The raw markup never appears; where the text is shown it is escaped and not evaluated."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for raw in RAW_MARKUP:
        assert raw not in page, f"unescaped {raw!r}"
    assert hostile_markup(parse(page)) == [], "markup of the hostile text became elements"
    assert 'href="javascript:' not in page.lower() and "src=javascript:" not in page.lower()
    for output in TEMPLATE_OUTPUT:
        assert output not in page, "template syntax was evaluated"
    if shown:
        assert ESCAPED_SCRIPT in page, "the hostile text is not shown (escaped) here"
        assert TEMPLATE in page and TEMPLATE_TAG in page, "template syntax is not shown as text"
    return page


def json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def assert_verbatim_json(response):
    """JSON carries the text verbatim, correctly encoded, and is never sniffed as HTML."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = response.content.decode()
    data = json.loads(body)
    assert any(HOSTILE in text for text in json_strings(data)), "the hostile text is not in the answer"
    assert json.dumps(HOSTILE, ensure_ascii=False)[1:-1] in body  # as JSON writes it: no HTML escapes
    return data


@pytest.fixture
def hostile(sample_text, sample_article, editor, reviewer):
    """The hostile article (live), a hostile draft of it, and hostile workflow notes."""
    result = import_document(hostile_document(sample_text).encode(), path="hostile.txt")
    assert result.outcome == "created", result.errors
    article = Article.objects.get(pk=result.article_id)
    assert article.state == "published" and article.title.startswith(HOSTILE)
    content = services.pending_content(article)
    services.article_edit(
        article=article, user=editor, note=HOSTILE,
        content={**content, "summary": f"{HOSTILE} edited", "checklist": [*content["checklist"], "new step"]},
    )  # fmt: skip
    services.article_submit(article=article, user=editor, note=HOSTILE)
    services.article_request_changes(article=article, user=reviewer, note=HOSTILE)
    article.refresh_from_db()
    return article


def staff(user):
    client = Client()
    client.force_login(user)
    return client


# --------------------------------------------------------------------------- the reader site


def definitions(root) -> dict[str, list[str]]:
    """Each <dt>'s text with the texts of the <dd> elements that follow it, across the page."""
    found: dict[str, list[str]] = {}
    for dl in root.find_all("dl"):
        term = None
        for child in dl.find_all():
            if child.tag == "dt":
                term = child.text
            elif child.tag == "dd" and term is not None:
                found.setdefault(term, []).append(child.text)
    return found


def test_the_article_page(client, hostile):
    page = assert_inert_html(client.get(hostile.get_absolute_url()))
    tree = parse(page)
    assert tree.one("h1").text == hostile.title and hostile.title.startswith(HOSTILE)
    assert tree.find_all("p", class_="topic")[0].text == hostile.topic
    meta_box = definitions(tree)
    assert (meta_box["Summary"], meta_box["AI brief"]) == ([hostile.summary], [hostile.brief])
    assert HOSTILE in hostile.summary and HOSTILE in hostile.brief
    for value in (hostile.title, hostile.topic, hostile.summary, hostile.brief, *hostile.outline.values(),
                  *hostile.checklist, *hostile.notes, *hostile.payload.values()):  # fmt: skip
        if not isinstance(value, str):
            continue
        assert value in tree.text, value  # shown as text: assert_inert_html found no markup
    assert f"production checks {SCRIPT}" in tree.one("div", class_="article-body").text  # a heading
    assert ATTRIBUTE in tree.text


def test_the_staff_preview_of_the_draft(reviewer, hostile):
    response = staff(reviewer).get(hostile.get_absolute_url() + "?revision=1.5.4")
    page = assert_inert_html(response)
    assert f"{HOSTILE} edited" in parse(page).text


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?page=1&stack=python-services",
        "/search/?q=hostile",
        "/search/?q=alert",
    ],
)
def test_lists_and_search(client, hostile, url):
    assert_inert_html(client.get(url))


def test_tag_pages(client, hostile):
    for kind, name in ((Tag.Kind.STACK, "articles:stack"), (Tag.Kind.TOOL, "articles:tool")):
        tag = Tag.objects.get(kind=kind, name=HOSTILE)
        assert_inert_html(client.get(reverse(name, args=[tag.slug])))


def test_entity_pages(client, hostile):
    entity = Entity.objects.get(name=HOSTILE)
    assert entity.type == ENTITY_TYPE
    assert_inert_html(
        client.get(reverse("articles:entity", kwargs={"type": entity.type, "slug": entity.slug}))
    )
    link = reverse("articles:entity", kwargs={"type": entity.type, "slug": entity.slug})
    assert escape(link) in client.get(hostile.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("name", "type_"), [("python services", SCRIPT), ("<>", "stack"), ("数据库", "area")]
)
def test_any_entity_leaves_the_article_page_working(client, sample_text, name, type_):
    text = sample_text.replace(
        "    • name: backend\n    • type: area\n", f"    • name: {name}\n    • type: {type_}\n"
    )
    result = import_document(text.encode(), path="entity.txt")
    assert result.outcome == "created", result.errors
    response = client.get(Article.objects.get(pk=result.article_id).get_absolute_url())
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"/search/?q={SCRIPT}",
        f"/?stack={SCRIPT}&tool={ATTRIBUTE}&difficulty={TEMPLATE_TAG}",
        f"/articles/{SCRIPT}/",
        f"/no-such-page/{SCRIPT}",
    ],
)
def test_text_from_the_address_is_inert_too(client, hostile, url):
    response = client.get(url)
    page = response.content.decode()
    for raw in RAW_MARKUP:
        assert raw not in page
    assert response.status_code in (200, 404)


def test_the_feed_is_well_formed_and_declares_no_markup(client, hostile):
    response = client.get("/feed/")
    assert response.status_code == 200
    body = response.content.decode()
    for raw in RAW_MARKUP:
        assert raw not in body
    feed = ET.fromstring(response.content)  # well formed: the text did not break the XML
    assert not [element for element in feed.iter() if not element.tag.startswith(ATOM)]
    entry = next(
        entry for entry in feed.iter(f"{ATOM}entry") if entry.findtext(f"{ATOM}title") == hostile.title
    )
    assert entry.find(f"{ATOM}title").get("type", "text") == "text"  # the title is shown as text


def test_feed_summaries_are_text_for_feed_readers(client, hostile):
    feed = ET.fromstring(client.get("/feed/").content)
    entry = next(
        entry for entry in feed.iter(f"{ATOM}entry") if entry.findtext(f"{ATOM}title") == hostile.title
    )
    summary = entry.find(f"{ATOM}summary")
    if summary.get("type") == "html":
        assert SCRIPT not in summary.text  # HTML content must carry the text escaped once more
    else:
        assert summary.text == hostile.summary


def test_the_sitemap(client, hostile):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    for raw in RAW_MARKUP:
        assert raw not in response.content.decode()
    sitemap = ET.fromstring(response.content)
    locations = [element.text for element in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(location.endswith(hostile.get_absolute_url()) for location in locations)
    assert all("<" not in location and '"' not in location for location in locations)


def test_the_social_card(client, hostile):
    response = client.get(reverse("articles:card", args=[hostile.slug]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (1200, 630)


# --------------------------------------------------------------------------- the API


def test_api_detail_is_verbatim(hostile):
    response = APIClient().get(f"/api/articles/{hostile.slug}/?include=body")
    data = assert_verbatim_json(response)
    assert data["title"] == hostile.title and data["title"].startswith(HOSTILE)
    assert data["summary"] == hostile.summary and data["notes"][0] == HOSTILE
    assert data["reference"] == hostile.reference
    assert HOSTILE in data["checklist"] and HOSTILE in data["stack"] and HOSTILE in data["tools"]
    assert {"name": HOSTILE, "type": ENTITY_TYPE} in data["entities"]
    assert any(HOSTILE in (block.get("text") or "") for block in data["body"])


@pytest.mark.parametrize(
    "url",
    [
        "/api/articles/?fields=full",
        "/api/articles/?search=hostile",
        "/api/articles/{slug}/similar/",
        "/api/articles/{slug}/revisions/",
    ],
)
def test_api_answers_are_verbatim(reviewer, hostile, sample_article, url):
    client = APIClient()
    client.force_authenticate(reviewer)
    slug = sample_article.slug if "similar" in url else hostile.slug
    if url.startswith("/api/articles/?search"):
        response = client.get(url)
        assert any(item["title"] == hostile.title for item in response.json()["results"])
        assert_verbatim_json(response)
    else:
        assert_verbatim_json(client.get(url.format(slug=slug)))


def test_api_edits_are_stored_verbatim(reviewer, hostile):
    client = APIClient()
    client.force_authenticate(reviewer)
    response = client.patch(f"/api/articles/{hostile.slug}/", {"brief": HOSTILE}, format="json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    latest = Revision.objects.filter(article=hostile).order_by("-number").first()
    assert latest.content["brief"] == HOSTILE
    revisions = client.get(f"/api/articles/{hostile.slug}/revisions/")
    assert HOSTILE in [entry["note"] for entry in assert_verbatim_json(revisions)]


def test_the_browsable_api_escapes_it(hostile):
    response = APIClient().get(f"/api/articles/{hostile.slug}/", HTTP_ACCEPT="text/html")
    page = assert_inert_html(response, shown=False)
    shown = parse(page).one("div", class_="response-info").one("pre")
    data = json.loads(shown.text.partition(shown.one("span", class_="meta").text)[2])  # the answer as shown
    assert data["title"] == hostile.title and HOSTILE in data["summary"]
    assert data == APIClient().get(f"/api/articles/{hostile.slug}/", HTTP_ACCEPT="application/json").json()


# --------------------------------------------------------------------------- the admin


def admin_pages(article):
    revision = Revision.objects.filter(article=article).order_by("-number").first()
    event = AuditEvent.objects.filter(article=article, action="request_changes").get()
    tag = Tag.objects.get(kind=Tag.Kind.STACK, name=HOSTILE)
    entity = Entity.objects.get(name=HOSTILE)
    return {
        "article changelist": reverse("admin:articles_article_changelist"),
        "article changelist search": reverse("admin:articles_article_changelist") + "?q=hostile",
        "review queue": reverse("admin:releases_reviewqueueitem_changelist"),
        "revisions": reverse("admin:releases_revision_changelist"),
        "revision": reverse("admin:releases_revision_change", args=[revision.pk]),
        "audit events": reverse("admin:releases_auditevent_changelist"),
        "audit event": reverse("admin:releases_auditevent_change", args=[event.pk]),
        "change form": reverse("admin:articles_article_change", args=[article.pk]),
        "compare": reverse("admin:articles_article_compare", args=[article.pk]) + "?a=1&b=2",
        "history": reverse("admin:articles_article_history", args=[article.pk]),
        "approve page": reverse("admin:articles_article_workflow", args=[article.pk, "approve"]),
        "publish page": reverse("admin:articles_article_publish", args=[article.pk]),
        "rollback page": reverse("admin:articles_article_rollback", args=[article.pk, 1]),
        "tags": reverse("admin:articles_tag_changelist"),
        "tag": reverse("admin:articles_tag_change", args=[tag.pk]),
        "entities": reverse("admin:articles_entity_changelist"),
        "entity": reverse("admin:articles_entity_change", args=[entity.pk]),
    }


ADMIN_PAGES = [
    "article changelist", "article changelist search", "review queue", "revisions", "revision",
    "audit events", "audit event", "change form", "compare", "history", "approve page",
    "publish page", "rollback page", "tags", "tag", "entities", "entity",
]  # fmt: skip


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages(superuser, hostile, page):
    url = admin_pages(hostile)[page]
    assert_inert_html(staff(superuser).get(url))


def test_every_admin_page_of_the_list_is_checked(hostile):
    assert sorted(admin_pages(hostile)) == sorted(ADMIN_PAGES)


def test_admin_search_text_is_inert(reviewer, hostile):
    url = reverse("admin:articles_article_changelist") + f"?q={SCRIPT}"
    page = staff(reviewer).get(url).content.decode()
    assert SCRIPT not in page and ESCAPED_SCRIPT in page


def test_admin_messages_and_bulk_pages(editor, reviewer, hostile):
    """Workflow messages name the article: its title is escaped there too."""
    client = staff(reviewer)
    changelist = reverse("admin:articles_article_changelist")
    confirm = client.post(changelist, {"action": "bulk_approve", "_selected_action": [hostile.pk]})
    assert_inert_html(confirm)
    submitted = client.post(
        changelist,
        {"action": "bulk_submit", "_selected_action": [hostile.pk], "apply": "1", "note": HOSTILE},
        follow=True,
    )
    assert "“" + escape(hostile.title) + "”: submitted for review." in assert_inert_html(submitted)
    refused = staff(editor).post(
        reverse("admin:articles_article_workflow", args=[hostile.pk, "approve"]),
        {"note": HOSTILE},
        follow=True,
    )
    assert "“" + escape(hostile.title) + "”: You are not allowed" in assert_inert_html(refused)
    done = client.post(
        reverse("admin:articles_article_workflow", args=[hostile.pk, "archive"]),
        {"note": HOSTILE},
        follow=True,
    )
    assert "“" + escape(hostile.title) + "”: archived." in assert_inert_html(done)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x.png",
    ],
)
def test_only_http_urls_get_in(sample_text, sample_article, editor, url):
    """The one field that becomes a link or an image source refuses every other scheme, whether
    it comes from an import or from an edit."""
    document = sample_text.replace(
        "url: https://loremflickr.com/1200/630/code,developer?lock=35447", f"url: {url}"
    ).replace("anp-ref-035445-8950", "anp-ref-000004-url")
    assert import_document(document.encode(), path="url.txt").outcome == "failed"
    client = APIClient()
    client.force_authenticate(editor)
    images = [{"source": "x", "url": url, "caption": "c"}]
    response = client.patch(f"/api/articles/{sample_article.slug}/", {"image_sources": images}, format="json")
    assert response.status_code == 400
    assert Revision.objects.filter(article=sample_article).count() == 1

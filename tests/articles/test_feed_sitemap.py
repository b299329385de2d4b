"""The Atom feed and the sitemap as feed readers and crawlers read them, with the test client.

The feed is validated with feedparser (bozo 0: well-formed and without the errors it reports).
The sitemap is checked against the rules of the sitemaps.org 0.9 schema by hand, with
ElementTree: the XSD itself is not shipped with any package here and the tests have no network.
"""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import feedparser
import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.feeds import xml_text
from articles.models import Article, Entity, Tag
from releases import services
from releases.importing import import_document
from releases.models import Release, Revision

pytestmark = pytest.mark.django_db

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# W3C Datetime, as the sitemap schema's tLastmod allows it: a date, or a date and time with a zone.
W3C_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?")
CHANGEFREQ = {"always", "hourly", "daily", "weekly", "monthly", "yearly", "never"}


def controls() -> str:
    """The control characters XML 1.0 cannot hold that the database can store (PostgreSQL text
    cannot hold NUL at all)."""
    first = 0 if connection.vendor != "postgresql" else 1
    return "".join(chr(code) for code in range(first, 32) if chr(code) not in "\t\n\r")


def variant(sample_text: str, number: int, **replacements) -> Article:
    text = sample_text.replace("anp-ref-035445-8950", f"anp-ref-{number:06d}-0004")
    text = text.replace("production checklist for creating rollback", f"variant {number} of rollback", 1)
    for old, new in replacements.items():
        text = text.replace(old, new)
    result = import_document(text.encode(), path=f"v{number}.txt")
    assert result.outcome == "created", result.errors
    return Article.objects.get(pk=result.article_id)


def parse_feed(client):
    response = client.get("/feed/")
    assert response.status_code == 200
    return feedparser.parse(response.content, response_headers={"content-type": response["Content-Type"]})


# -- the feed ------------------------------------------------------------------------------------


def test_the_feed_is_valid_atom_with_an_author(client, sample_article, sample_text):
    draft = variant(sample_text, 1, **{"needs human review: 0": "needs human review: 1"})
    feed = parse_feed(client)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.author == "Release knowledge base"
    assert feed.feed.title and feed.feed.updated and feed.feed.id
    assert [entry.link for entry in feed.entries] == [f"http://testserver{sample_article.get_absolute_url()}"]
    assert draft.slug not in str(feed)
    entry = feed.entries[0]
    assert entry.title == sample_article.title and entry.id and entry.updated and entry.published
    assert entry.summary == sample_article.summary
    assert {"python services", "backend", "python", "fastapi", "pytest"} <= {tag.term for tag in entry.tags}


def test_xml_text_drops_what_xml_cannot_hold_and_keeps_the_rest():
    assert xml_text("a\x00b\x1bc\x0bd\x0ce\tf\ng\rh") == "abc d e\tf\ng\rh"
    assert xml_text(["x\x01", ("y\x02",)]) == ["x", ("y",)]
    assert xml_text("\ufffe\uffffok\ud800") == "ok"
    assert xml_text(None) is None and xml_text(3) == 3


def test_control_characters_in_stored_text_never_break_the_feed(client, sample_article):
    text = "".join(f"{char}part{code}" for code, char in enumerate(controls()))
    Article.objects.filter(pk=sample_article.pk).update(
        title=f"title {text}", summary=f"summary {text}", topic=f"topic {text}", body_text=f"body {text}"
    )
    tag = Tag.objects.get(kind="tool", name="fastapi")
    Tag.objects.filter(pk=tag.pk).update(name=f"fast\x1bapi\x0b{text}")

    feed = parse_feed(client)

    assert feed.bozo == 0, feed.get("bozo_exception")
    entry = feed.entries[0]
    kept = re.sub(r"[\x00-\x08\x0e-\x1f]", "", text.replace("\x0b", " ").replace("\x0c", " "))
    assert entry.title == f"title {kept}"
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", entry.title + entry.summary)
    assert any(tag.term.startswith("fastapi ") for tag in entry.tags)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_text_with_controls_gives_a_valid_feed(client, sample_article, data):
    text = data.draw(
        st.text(alphabet=st.sampled_from(controls() + "ab <&>\"'é\u2028\x7f\x85"), min_size=1, max_size=40)
    )
    Article.objects.filter(pk=sample_article.pk).update(title=text, summary=text)
    Tag.objects.filter(kind="stack", name__startswith="python s").update(name=text + "-stack")
    feed = parse_feed(client)
    assert feed.bozo == 0, (text, feed.get("bozo_exception"))
    assert len(feed.entries) == 1


def test_feed_dates_follow_the_live_version(client, sample_article, sample_text):
    then = timezone.now().replace(microsecond=0) - dt.timedelta(days=10)
    Article.objects.filter(pk=sample_article.pk).update(published_at=then)
    Revision.objects.filter(pk=Release.objects.get(article=sample_article).live_revision_id).update(
        created_at=then
    )
    # An import of new text at the same version is kept as pending work: the row changes, the
    # live version does not.
    changed = sample_text.replace("this ai-style technical summary", "an imported summary")
    assert import_document(changed.encode(), path="again.txt").outcome == "updated"
    assert Article.objects.get(pk=sample_article.pk).updated_at > then

    entry = parse_feed(client).entries[0]
    assert dt.datetime(*entry.updated_parsed[:6], tzinfo=dt.UTC) == then
    assert dt.datetime(*entry.published_parsed[:6], tzinfo=dt.UTC) == then

    sitemap = ET.fromstring(client.get("/sitemap.xml").content)
    lastmods = {
        url.findtext(f"{SITEMAP_NS}loc"): url.findtext(f"{SITEMAP_NS}lastmod")
        for url in sitemap.iter(f"{SITEMAP_NS}url")
    }
    assert lastmods[f"http://testserver{sample_article.get_absolute_url()}"].startswith(
        then.date().isoformat()
    )


# -- the sitemap ---------------------------------------------------------------------------------


def check_sitemap(content: bytes) -> list[str]:
    """The rules of sitemaps.org's sitemap.xsd (0.9), by hand: the locations, in order."""
    assert len(content) <= 50 * 1024 * 1024
    root = ET.fromstring(content)
    assert root.tag == f"{SITEMAP_NS}urlset"
    locations = []
    for url in root:
        assert url.tag == f"{SITEMAP_NS}url", url.tag
        names = [child.tag.removeprefix(SITEMAP_NS) for child in url]
        assert names[0] == "loc" and names.count("loc") == 1, names
        assert set(names) <= {"loc", "lastmod", "changefreq", "priority"}, names
        assert len(names) == len(set(names)), names
        loc = url.findtext(f"{SITEMAP_NS}loc")
        parts = urlsplit(loc)
        assert parts.scheme in ("http", "https") and parts.netloc and 12 <= len(loc) <= 2048, loc
        assert not re.search(r"[\s<>\"{}|\\^`]", loc), loc
        if (lastmod := url.findtext(f"{SITEMAP_NS}lastmod")) is not None:
            assert W3C_DATETIME.fullmatch(lastmod), lastmod
        if (changefreq := url.findtext(f"{SITEMAP_NS}changefreq")) is not None:
            assert changefreq in CHANGEFREQ, changefreq
        if (priority := url.findtext(f"{SITEMAP_NS}priority")) is not None:
            assert 0.0 <= float(priority) <= 1.0, priority
        locations.append(loc)
    assert 0 < len(locations) <= 50_000
    assert len(locations) == len(set(locations)), "a location is listed twice"
    return locations


def test_the_sitemap_follows_the_schema_and_lists_live_articles_and_browse_pages(
    client, sample_article, sample_text, reviewer
):
    draft = variant(
        sample_text,
        2,
        **{
            "needs human review: 0": "needs human review: 1",
            "  • git\n": "  • only-in-a-draft-tool\n",
            "  • python\n": "  • only-in-a-draft-stack\n",
            "name: backend": "name: only in a draft",
        },
    )
    archived = variant(sample_text, 3, **{"  • logs\n": "  • archived-only-tool\n"})
    services.article_archive(article=archived, user=reviewer, note="gone")
    assert Tag.objects.filter(name="only-in-a-draft-tool").exists()
    assert Entity.objects.filter(name="only in a draft").exists()

    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    paths = {urlsplit(location).path for location in check_sitemap(response.content)}

    expected = {
        "/",
        sample_article.get_absolute_url(),
        "/stack/python-services/",
        "/stack/backend/",
        "/stack/python/",
        "/tools/fastapi/",
        "/tools/logs/",
        "/entities/stack/python-services/",
        "/entities/area/backend/",
        "/entities/problem/creating-rollback-friendly-releases/",
    }
    assert expected <= paths, expected - paths
    for absent in (
        draft.get_absolute_url(),
        archived.get_absolute_url(),
        "/tools/only-in-a-draft-tool/",
        "/stack/only-in-a-draft-stack/",
        "/entities/area/only-in-a-draft/",
        "/tools/archived-only-tool/",
    ):
        assert absent not in paths, absent
    for path in paths:  # every listed page exists for readers
        assert client.get(path).status_code == 200, path


def test_entity_locations_are_escaped(client, sample_article):
    Entity.objects.filter(name="backend").update(type="area & more <x>")
    locations = check_sitemap(client.get("/sitemap.xml").content)
    escaped = [location for location in locations if "/entities/area" in location]
    assert escaped == ["http://testserver/entities/area%20&%20more%20%3Cx%3E/backend/"]
    assert client.get(urlsplit(escaped[0]).path).status_code == 200

"""Work that is not live changes nothing anonymous clients can observe, and what only staff see is
never stored by a cache.

Anonymous clients see the live version: its content, and its time (when its revision was made) in
the API's ETag and Last-Modified, the feed's ``updated`` and the sitemap's ``lastmod``. Edits,
reviews and imports waiting for review move the article row's ``updated_at`` or the release's
``edited_at``, and none of that may show. Staff answers that can hold drafts, previews and pending
work carry ``Cache-Control: private, no-store``; anonymous answers keep their public caching.
"""

import datetime as dt
import re

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils.http import http_date
from rest_framework.test import APIClient

from articles.content import content_from_article, content_prefetch
from articles.models import Article
from releases import services
from releases.importing import import_document
from releases.models import Release, Revision

pytestmark = pytest.mark.django_db

UNPUBLISHED = "private, no-store"
# Far enough back that 'now' differs even in the sitemap, which gives days.
EARLIER = dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def _fresh_answers(settings):
    """Every answer is built again, not served from the read cache: what is compared is what the
    views make of the database after the change."""
    settings.READ_CACHE = False


@pytest.fixture
def live_article(sample_article):
    """The sample, live, with every time two days in the past, so that anything written 'now' by
    pending work would differ from it in every date format anonymous clients see."""
    Article.objects.update(updated_at=F("updated_at") - EARLIER, published_at=F("published_at") - EARLIER)
    Revision.objects.update(created_at=F("created_at") - EARLIER)
    return Article.objects.get(pk=sample_article.pk)


def addresses(article) -> list[str]:
    api = f"/api/articles/{article.slug}/"
    return [
        api,
        api + "?include=body",
        api + "similar/",
        "/api/articles/",
        "/api/articles/?fields=full",
        "/feed/",
        "/sitemap.xml",
        f"/articles/{article.slug}/",
        "/",
        "/search/?q=rollback",
    ]


def observe(article) -> dict:
    """Everything an anonymous client gets from each address: status, validators, caching and body."""
    client = Client()
    seen = {}
    for address in addresses(article):
        response = client.get(address)
        assert response.status_code == 200, (address, response.status_code)
        seen[address] = {
            "ETag": response.get("ETag"),
            "Last-Modified": response.get("Last-Modified"),
            "Cache-Control": response.get("Cache-Control"),
            "body": response.content,
        }
    return seen


def feed_updated(seen: dict) -> list[str]:
    """The feed's own ``updated`` and each entry's."""
    return re.findall(r"<updated>([^<]+)</updated>", seen["/feed/"]["body"].decode())


def sitemap_lastmod(seen: dict) -> list[str]:
    return re.findall(r"<lastmod>([^<]+)</lastmod>", seen["/sitemap.xml"]["body"].decode())


def content_of(article) -> dict:
    return content_from_article(content_prefetch(Article.objects.filter(pk=article.pk)).get())


def editor_api(editor) -> APIClient:
    client = APIClient()
    client.force_authenticate(editor)
    return client


def edit(article, editor, reviewer, sample_text):
    services.article_edit(article=article, user=editor, content={**content_of(article), "summary": "a draft"})


def patch(article, editor, reviewer, sample_text):
    response = editor_api(editor).patch(
        f"/api/articles/{article.slug}/", {"title": "A pending title"}, format="json"
    )
    assert response.status_code == 200, response.content


def edit_submit_approve(article, editor, reviewer, sample_text):
    services.article_edit(article=article, user=editor, content={**content_of(article), "topic": "reviewed"})
    services.article_submit(article=article, user=editor)
    services.article_approve(article=article, user=reviewer)


def import_for_review(article, editor, reviewer, sample_text):
    """The same version with other content: kept as pending work, never live."""
    changed = sample_text.replace("difficultyadvanced", "difficultyeasy")
    assert import_document(changed.encode(), path="changed.txt").outcome == "updated"


def import_beside_editors_work(article, editor, reviewer, sample_text):
    """A newer version while editors have pending changes: a conflict kept beside them."""
    services.article_edit(article=article, user=editor, content={**content_of(article), "summary": "mine"})
    newer = sample_text.replace("version: 1.5.4", "version: 1.6.0").replace("reading time4", "reading time9")
    assert import_document(newer.encode(), path="newer.txt").outcome == "updated"


PENDING_WORK = [edit, patch, edit_submit_approve, import_for_review, import_beside_editors_work]


@pytest.mark.parametrize("make_pending_work", PENDING_WORK, ids=lambda function: function.__name__)
def test_pending_work_changes_nothing_anonymous_clients_observe(
    live_article, editor, reviewer, sample_text, make_pending_work
):
    live_revision = Release.objects.get(article=live_article).live_revision
    before = observe(live_article)
    # What is observed is the live version's time, two days ago.
    detail = before[f"/api/articles/{live_article.slug}/"]
    assert detail["Last-Modified"] == http_date(live_revision.created_at.timestamp())
    assert before["/api/articles/"]["Last-Modified"] == http_date(live_revision.created_at.timestamp())
    assert feed_updated(before)[0].startswith(live_revision.created_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert sitemap_lastmod(before) == [live_revision.created_at.date().isoformat()]

    make_pending_work(live_article, editor, reviewer, sample_text)

    release = Release.objects.get(article=live_article)
    assert release.pending_revision is not None or release.conflict_revision is not None
    assert release.live_revision == live_revision
    after = observe(live_article)
    for address in addresses(live_article):
        for part in ("ETag", "Last-Modified", "Cache-Control", "body"):
            assert after[address][part] == before[address][part], f"{address}: {part} changed"
    assert feed_updated(after) == feed_updated(before)


def test_publishing_moves_what_anonymous_clients_observe(live_article, editor, reviewer):
    """The other side: once the work goes live, the validators and dates follow it."""
    before = observe(live_article)
    edit_submit_approve(live_article, editor, reviewer, "")
    services.article_publish(article=live_article, user=reviewer, note="live now")
    after = observe(live_article)
    detail = f"/api/articles/{live_article.slug}/"
    assert after[detail]["ETag"] != before[detail]["ETag"]
    assert after[detail]["Last-Modified"] != before[detail]["Last-Modified"]
    assert after["/api/articles/"]["Last-Modified"] != before["/api/articles/"]["Last-Modified"]
    assert feed_updated(after) != feed_updated(before)
    assert sitemap_lastmod(after) != sitemap_lastmod(before)


# -- Cache-Control --------------------------------------------------------------------------------


@pytest.fixture
def draft(db, sample_text) -> Article:
    """An article never published: its source asks for a human review."""
    text = sample_text.replace("needs human review: 0", "needs human review: 1").replace(
        "anp-ref-035445-8950", "anp-ref-draft-0001"
    )
    result = import_document(text.encode(), path="draft.txt")
    assert result.outcome == "created", result.errors
    article = Article.objects.get(pk=result.article_id)
    assert not article.is_live
    return article


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_reader_pages_of_drafts_and_previews_are_never_stored(live_article, draft, editor, reviewer):
    edit(live_article, editor, reviewer, "")
    pending = Release.objects.get(article=live_article).pending_revision
    staff = signed_in(editor)
    for address in (
        f"/articles/{draft.slug}/",
        f"/articles/{live_article.slug}/?revision={pending.number}",
        f"/articles/{live_article.slug}/?revision=1.5.4",
    ):
        response = staff.get(address)
        assert response.status_code == 200, address
        assert response["Cache-Control"] == UNPUBLISHED, address
    # The same addresses for a reader: the draft does not exist, a revision asked for is ignored
    # and the live page is served as to everyone, with nothing private about it.
    anonymous = Client()
    assert anonymous.get(f"/articles/{draft.slug}/").status_code == 404
    live_page = anonymous.get(f"/articles/{live_article.slug}/?revision={pending.number}")
    assert live_page.status_code == 200
    assert b"a draft" not in live_page.content
    assert "private" not in live_page.get("Cache-Control", "")
    assert "no-store" not in live_page.get("Cache-Control", "")


def test_staff_api_answers_are_never_stored(live_article, draft, editor, reviewer):
    edit(live_article, editor, reviewer, "")  # pending work on the live article
    staff = editor_api(editor)
    for address in (
        "/api/articles/",  # holds the draft
        "/api/articles/?fields=full",
        f"/api/articles/{draft.slug}/",
        f"/api/articles/{live_article.slug}/",  # its ETag names the pending revision
        f"/api/articles/{live_article.slug}/revisions/",  # every revision's content
    ):
        response = staff.get(address)
        assert response.status_code == 200, address
        assert response["Cache-Control"] == UNPUBLISHED, address


def test_anonymous_and_member_api_answers_keep_their_caching(live_article, draft, django_user_model):
    member = django_user_model.objects.create_user("member", password="pw-member")  # signed in, not staff
    member_api = APIClient()
    member_api.force_authenticate(member)
    for address in (
        "/api/articles/",
        f"/api/articles/{live_article.slug}/",
        f"/api/articles/{live_article.slug}/similar/",
    ):
        public = APIClient().get(address)
        assert public.status_code == 200
        assert re.fullmatch(r"public, max-age=[1-9]\d*", public["Cache-Control"]), address
        private = member_api.get(address)
        assert private["Cache-Control"] == "private, no-cache", address


def test_admin_compare_and_change_pages_are_never_stored(live_article, editor, reviewer):
    edit(live_article, editor, reviewer, "")
    numbers = sorted(Revision.objects.filter(article=live_article).values_list("number", flat=True))
    staff = signed_in(reviewer)
    for address, query in (
        (
            reverse("admin:articles_article_compare", args=[live_article.pk]),
            {"a": numbers[0], "b": numbers[-1]},
        ),
        (reverse("admin:articles_article_change", args=[live_article.pk]), {}),
    ):
        response = staff.get(address, query)
        assert response.status_code == 200, address
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, address

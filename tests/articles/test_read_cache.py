"""The anonymous read cache: repeats cost no query, live changes show at once and only where they
are shown, work readers cannot see keeps every entry, and nothing private is ever shared."""

import datetime as dt
import io
import json
import re
import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from rest_framework.test import APIClient

from articles import changes, read_cache, similarity
from articles.changes import articles_changed
from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleState, Entity, SimilarArticle, Tag
from config import build
from releases import backup, services
from releases.importing import import_document
from releases.models import Release
from tests.conftest import import_variant

pytestmark = pytest.mark.django_db


def page_url(article):
    return f"/articles/{article.slug}/"


def api_url(article):
    return f"/api/articles/{article.slug}/"


def edited(article, **changes):
    content = content_from_article(content_prefetch(Article.objects.filter(pk=article.pk)).get())
    content.update(changes)
    return content


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a write as if its transaction committed: its on-commit bumps run at the end."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def publish_change(commit, article, editor, reviewer, **changes):
    commit(services.article_edit, article=article, user=editor, content=edited(article, **changes))
    commit(services.article_submit, article=article, user=editor)
    commit(services.article_approve, article=article, user=reviewer)
    return commit(services.article_publish, article=article, user=reviewer, note="update")


@pytest.fixture
def other(sample_article):
    """A second live article, unrelated by title."""
    return import_variant(1, "Field notes on queues", series="rc", **{"production checklist": "field notes"})


ANONYMOUS = Client()


def seen(address, client=None):
    response = (client or Client()).get(address)
    return response


# -- what a hit costs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "/",
        "/?difficulty=advanced",
        "/search/?q=rollback",
        "/api/articles/",
        "/api/articles/?page_size=5",
        "ARTICLE",
        "API",
        "API?include=body",
        "APIsimilar/",
    ],
)
def test_a_repeated_anonymous_answer_costs_no_query(
    client, sample_article, address, django_assert_max_num_queries
):
    address = address.replace("ARTICLE", page_url(sample_article)).replace("API", api_url(sample_article))
    first = client.get(address)
    assert first.status_code == 200
    assert first[read_cache.HEADER] == "miss"
    with django_assert_max_num_queries(0):
        again = client.get(address)
    assert again[read_cache.HEADER] == "hit"
    assert again.content == first.content
    for header in ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Vary"):
        assert again.get(header) == first.get(header), header


def test_each_build_serves_its_own_answers_and_a_live_change_reaches_every_build(
    client, sample_article, editor, reviewer, commit, settings, monkeypatch
):
    """After a deploy, the new build makes its own pages (the old ones hold the old templates'
    markup and static names); during a rolling deploy, a change published by one build's process
    makes the other build's pages stale too."""
    monkeypatch.setattr(similarity, "refresh", lambda ids, **options: None)
    address = page_url(sample_article)
    settings.BUILD_ID = "build-1"
    assert [client.get(address)[read_cache.HEADER] for _ in range(2)] == ["miss", "hit"]
    settings.BUILD_ID = "build-2"
    assert [client.get(address)[read_cache.HEADER] for _ in range(2)] == ["miss", "hit"]

    publish_change(commit, sample_article, editor, reviewer, title="Published by the second build")
    settings.BUILD_ID = "build-1"
    page = client.get(address)
    assert page[read_cache.HEADER] == "miss"
    assert b"Published by the second build" in page.content


def test_a_build_is_named_by_its_environment_or_else_by_its_sources(tmp_path, monkeypatch):
    for name, text in (
        ("articles/views.py", "a = 1\n"),
        ("templates/base.html", "<p>"),
        ("requirements.txt", "x"),
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.delenv("BUILD_ID", raising=False)
    first = build.build_id(tmp_path)
    assert build.build_id(tmp_path) == first
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "articles" / "views.cpython-311.pyc").write_bytes(b"compiled")
    assert build.build_id(tmp_path) == first  # compiled files are not sources
    (tmp_path / "templates/base.html").write_text("<p class=new>")
    second = build.build_id(tmp_path)
    assert second != first
    (tmp_path / "templates/base.html").rename(tmp_path / "templates/other.html")
    assert build.build_id(tmp_path) not in (first, second)  # a file's name counts too
    monkeypatch.setenv("BUILD_ID", "3f2a9c1")
    assert build.build_id(tmp_path) == "3f2a9c1"


def test_head_is_answered_from_the_get_entry(client, sample_article, django_assert_max_num_queries):
    first = client.get(page_url(sample_article))
    with django_assert_max_num_queries(0):
        head = client.head(page_url(sample_article))
    assert head.status_code == 200
    assert head[read_cache.HEADER] == "hit"
    assert head["ETag"] == first["ETag"]


def test_api_answers_vary_on_accept(sample_article):
    """DRF's content negotiation stays: JSON is stored under its Accept, and the browsable API
    (which sets a CSRF cookie) is never stored."""
    as_json = Client().get("/api/articles/", HTTP_ACCEPT="application/json")
    as_html = Client().get("/api/articles/", HTTP_ACCEPT="text/html")
    assert as_json["Content-Type"].startswith("application/json")
    assert as_html["Content-Type"].startswith("text/html")
    again_json = Client().get("/api/articles/", HTTP_ACCEPT="application/json")
    assert again_json[read_cache.HEADER] == "hit"
    assert again_json.content == as_json.content
    again_html = Client().get("/api/articles/", HTTP_ACCEPT="text/html")
    assert again_html[read_cache.HEADER] == "miss"
    assert again_html["Content-Type"].startswith("text/html")
    assert Client().get("/api/articles/", HTTP_ACCEPT="image/png").status_code == 406


def test_a_304_still_answers_a_cached_validator(client, sample_article):
    first = client.get(api_url(sample_article))
    again = client.get(api_url(sample_article), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_staff_and_credentialed_answers_are_neither_served_nor_stored(client, sample_article, reviewer):
    client.get(page_url(sample_article))
    client.force_login(reviewer)
    staff = client.get(page_url(sample_article))
    assert staff.status_code == 200
    assert read_cache.HEADER not in staff
    assert read_cache.HEADER not in client.get(api_url(sample_article))
    client.logout()
    APIClient().get(api_url(sample_article))
    refused = Client().get(api_url(sample_article), HTTP_AUTHORIZATION="Token not-a-token")
    assert refused.status_code == 401


# -- live changes: that article's answers and the lists, nothing else -------------------------------


def test_publishing_refreshes_the_article_and_the_lists_only(
    client, sample_article, other, editor, reviewer, commit, monkeypatch
):
    # Neither shows the other as a similar post, and the publish recomputes no list here (the
    # refresh's own invalidations are tested below).
    SimilarArticle.objects.all().delete()
    monkeypatch.setattr(similarity, "refresh", lambda ids, **options: None)
    for address in (
        page_url(sample_article),
        api_url(sample_article),
        "/",
        "/api/articles/",
        page_url(other),
    ):
        client.get(address)
    api_before = client.get(api_url(sample_article))
    publish_change(commit, sample_article, editor, reviewer, title="A title nobody has read yet")
    page = client.get(page_url(sample_article))
    assert page[read_cache.HEADER] == "miss"
    assert b"A title nobody has read yet" in page.content
    api_after = client.get(api_url(sample_article))
    assert api_after.json()["title"] == "A title nobody has read yet"
    assert api_after["ETag"] != api_before["ETag"]
    assert b"A title nobody has read yet" in client.get("/").content
    assert "A title nobody has read yet" in client.get("/api/articles/").content.decode()
    # An article that does not show it stays cached.
    assert client.get(page_url(other))[read_cache.HEADER] == "hit"


def test_the_feed_and_the_sitemap_are_cached_until_a_live_change(
    client, sample_article, editor, reviewer, commit
):
    for address in ("/feed/", "/sitemap.xml"):
        assert client.get(address)[read_cache.HEADER] == "miss"
        assert client.get(address)[read_cache.HEADER] == "hit"
    commit(
        services.article_edit,
        article=sample_article,
        user=editor,
        content=edited(sample_article, title="Draft"),
    )
    assert client.get("/feed/")[read_cache.HEADER] == "hit"  # a draft changes nothing readers see
    publish_change(commit, sample_article, editor, reviewer, title="A title the feed now carries")
    feed = client.get("/feed/")
    assert feed[read_cache.HEADER] == "miss" and b"A title the feed now carries" in feed.content
    assert client.get("/sitemap.xml")[read_cache.HEADER] == "miss"


def test_archiving_takes_the_cached_answers_down(client, sample_article, reviewer, commit):
    for address in (page_url(sample_article), api_url(sample_article), api_url(sample_article) + "similar/"):
        assert client.get(address).status_code == 200
    commit(services.article_archive, article=sample_article, user=reviewer, note="outdated")
    for address in (page_url(sample_article), api_url(sample_article), api_url(sample_article) + "similar/"):
        assert client.get(address).status_code == 404, address
    assert client.get("/api/articles/").json()["count"] == 0


def test_rollback_and_republish_refresh_the_page(client, sample_article, editor, reviewer, commit):
    publish_change(commit, sample_article, editor, reviewer, title="Second title")
    assert b"Second title" in client.get(page_url(sample_article)).content
    commit(services.article_rollback, article=sample_article, user=reviewer, note="back", version="1.5.4")
    assert b"Second title" not in client.get(page_url(sample_article)).content
    commit(services.article_archive, article=sample_article, user=reviewer, note="down")
    assert client.get(page_url(sample_article)).status_code == 404
    commit(services.article_publish, article=sample_article, user=reviewer, note="up again")
    assert client.get(page_url(sample_article)).status_code == 200


def test_a_scheduled_publish_refreshes_the_page(client, sample_article, editor, reviewer, commit):
    commit(
        services.article_edit,
        article=sample_article,
        user=editor,
        content=edited(sample_article, title="Due"),
    )
    commit(services.article_submit, article=sample_article, user=editor)
    commit(services.article_approve, article=sample_article, user=reviewer)
    due = timezone.now() + dt.timedelta(minutes=5)
    commit(
        services.article_schedule,
        article=sample_article,
        user=reviewer,
        action="publish",
        due_at=due,
        note="n",
    )
    assert b"Due" not in client.get(page_url(sample_article)).content
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "hit"  # a schedule is not live
    commit(services.run_due_schedules, now=due + dt.timedelta(seconds=1))
    assert b"Due" in client.get(page_url(sample_article)).content


def test_an_import_that_changes_a_live_article_refreshes_it(client, sample_article, sample_text, commit):
    client.get(page_url(sample_article))
    newer = sample_text.replace("version: 1.5.4", "version: 1.6.0").replace("reading time4", "reading time9")
    assert commit(import_document, newer.encode(), path="newer.txt").outcome == "updated"
    assert Article.objects.get(pk=sample_article.pk).reading_time == 9
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "miss"


def test_an_import_that_adds_a_live_article_refreshes_the_lists(sample_article, sample_text, commit):
    api = APIClient()
    assert api.get("/api/articles/").json()["count"] == 1
    reader = Client()
    reader.get(page_url(sample_article))
    other = sample_text.replace("anp-ref-035445-8950", "anp-ref-999999-0001").replace(
        "production checklist", "field notes"
    )
    with_neighbour_refresh = commit(import_document, other.encode(), path="other.txt")
    assert with_neighbour_refresh.outcome == "created"
    assert api.get("/api/articles/").json()["count"] == 2


def test_tag_and_entity_renames_refresh_pages_and_lists(client, sample_article, reviewer, superuser, commit):
    tag = Tag.objects.filter(article_tags__article=sample_article).first()
    entity = Entity.objects.filter(article_entities__article=sample_article).first()
    old_tag_page = tag.get_absolute_url()
    assert client.get(old_tag_page).status_code == 200
    client.get(page_url(sample_article))
    commit(services.tag_rename, tag=tag, user=superuser, name="renamed-stack-x")
    assert client.get(old_tag_page).status_code == 404
    assert b"renamed-stack-x" in client.get(page_url(sample_article)).content
    commit(services.entity_rename, entity=entity, user=superuser, name="Renamed Entity Y")
    assert b"Renamed Entity Y" in client.get(page_url(sample_article)).content


def test_a_neighbours_new_title_reaches_the_pages_that_show_it(
    client, sample_article, other, editor, reviewer, commit
):
    commit(similarity.rebuild_all)
    assert f'href="/articles/{other.slug}/"'.encode() in client.get(page_url(sample_article)).content
    publish_change(commit, other, editor, reviewer, title="A neighbour renamed")
    assert b"A neighbour renamed" in client.get(page_url(sample_article)).content


def test_the_articles_showing_a_change_are_found_a_chunk_of_ids_at_a_time(
    client, sample_article, other, editor, reviewer, commit, monkeypatch
):
    commit(similarity.rebuild_all)
    monkeypatch.setattr(changes, "_CHUNK", 1)
    client.get(page_url(sample_article))
    client.get(page_url(other))
    publish_change(commit, other, editor, reviewer, title="A neighbour renamed in chunks")
    assert b"A neighbour renamed in chunks" in client.get(page_url(sample_article)).content
    assert b"A neighbour renamed in chunks" in client.get(page_url(other)).content


def test_new_similar_posts_of_an_article_leave_the_pages_that_show_it_cached(
    client, sample_article, other, commit
):
    commit(similarity.rebuild_all)
    assert SimilarArticle.objects.filter(article=sample_article, neighbour=other).exists()
    for article in (sample_article, other):
        client.get(page_url(article))
        assert client.get(page_url(article))[read_cache.HEADER] == "hit"
    commit(articles_changed, [other.pk], live=True, shown_elsewhere=False)
    assert client.get(page_url(other))[read_cache.HEADER] == "miss"
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "hit"
    commit(articles_changed, [other.pk], live=True)  # its title, say: the pages showing it go too
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "miss"


def test_bumps_joined_owe_what_each_owed():
    joined = changes.Bump.joined([changes.Bump([1, 2]), changes.Bump([], own=[2, 3]), changes.Bump([4])])
    assert (joined.ids, joined.own, joined.everything) == ([1, 2, 4], [3], False)
    assert changes.Bump.joined([joined, changes.Bump([], everything=True)]).everything is True


def test_a_read_cache_that_cannot_be_reached_fails_no_writer(sample_article, commit, monkeypatch, caplog):
    def unreachable(names):
        raise ConnectionError("the read cache is down")

    monkeypatch.setattr(read_cache, "invalidate", unreachable)
    for write in (lambda: articles_changed([sample_article.pk], live=True), changes.everything_changed):
        caplog.clear()
        commit(write)  # the change stands; the failed bump is logged, by name
        assert "Error calling Bump in on_commit() (the read cache is down)" in caplog.text


def test_a_rebuild_of_similar_posts_makes_every_answer_stale(client, sample_article, commit):
    client.get(page_url(sample_article))
    client.get(api_url(sample_article))
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "hit"
    commit(changes.everything_changed)
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "miss"
    assert client.get(api_url(sample_article))[read_cache.HEADER] == "miss"


def test_ids_are_read_in_chunks_that_cover_each_once(monkeypatch):
    monkeypatch.setattr(changes, "_CHUNK", 2)
    assert list(changes._chunks([1, 2, 3, 4, 5])) == [[1, 2], [3, 4], [5]]
    assert list(changes._chunks([])) == []


def test_the_articles_showing_an_article_are_found_by_their_own_ids(sample_article, other, commit):
    commit(similarity.rebuild_all)
    # Row ids of similar posts far from the articles' ids, so that reading the wrong column shows.
    links = list(SimilarArticle.objects.values_list("article_id", "neighbour_id", "score"))
    SimilarArticle.objects.all().delete()
    SimilarArticle.objects.bulk_create(
        SimilarArticle(id=10_000 + n, article_id=a, neighbour_id=b, score=sc)
        for n, (a, b, sc) in enumerate(links)
    )
    assert changes._showing([other.pk]) == {other.pk, sample_article.pk}


def test_a_change_to_more_articles_than_the_limit_makes_every_answer_stale(
    client, sample_article, other, commit, monkeypatch
):
    SimilarArticle.objects.all().delete()  # neither shows the other
    client.get(page_url(sample_article))
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "hit"
    monkeypatch.setattr(changes, "WHOLE_SITE_PAST", 1)
    commit(articles_changed, [other.pk], live=True)
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "hit"  # one is not past it
    commit(articles_changed, [other.pk, other.pk + 1000], live=True)
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "miss"
    client.get(page_url(sample_article))
    commit(articles_changed, [other.pk, other.pk + 1000], live=True, shown_elsewhere=False)
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "miss"  # own changes count too


def test_similar_posts_changes_reach_the_cached_page(client, sample_article, sample_text, commit):
    client.get(page_url(sample_article))
    other = sample_text.replace("anp-ref-035445-8950", "anp-ref-999999-0002").replace(
        "production checklist", "field notes"
    )
    other_id = commit(import_document, other.encode(), path="other.txt").article_id
    commit(similarity.refresh, [other_id])
    other_article = Article.objects.get(pk=other_id)
    assert other_article.state == ArticleState.PUBLISHED
    assert f'href="/articles/{other_article.slug}/"'.encode() in client.get(page_url(sample_article)).content


def test_a_backup_restore_refreshes_what_it_changes(client, sample_article, editor, reviewer, commit):
    out = io.StringIO()
    backup.export_backup(out)
    lines = out.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        if "content" in record:
            record["content"]["title"] = "Restored title"
    client.get(page_url(sample_article))
    publish_change(commit, sample_article, editor, reviewer, summary="newer here")  # so the backup is older
    Article.objects.filter(pk=sample_article.pk)  # the backup's change is older: nothing changes
    commit(backup.restore_backup, [json.dumps(r).encode() for r in records], path="kb.jsonl")
    assert client.get(page_url(sample_article)).status_code == 200


# -- work readers cannot see keeps every entry ------------------------------------------------------


def edit(article, editor, reviewer, commit):
    commit(services.article_edit, article=article, user=editor, content=edited(article, title="Draft title"))


def edit_submit_approve(article, editor, reviewer, commit):
    edit(article, editor, reviewer, commit)
    commit(services.article_submit, article=article, user=editor)
    commit(services.article_approve, article=article, user=reviewer)


def request_changes_and_comment(article, editor, reviewer, commit):
    edit(article, editor, reviewer, commit)
    commit(services.article_submit, article=article, user=editor)
    commit(services.comment_add, article=article, user=reviewer, body="why?")
    commit(services.article_request_changes, article=article, user=reviewer, note="more")


def schedule_an_archive(article, editor, reviewer, commit):
    due = timezone.now() + dt.timedelta(days=1)
    commit(
        services.article_schedule, article=article, user=reviewer, action="archive", due_at=due, note="later"
    )


def import_for_review(article, editor, reviewer, commit, sample_text=None):
    text = (sample_text or "").replace("difficultyadvanced", "difficultyeasy")
    assert commit(import_document, text.encode(), path="changed.txt").outcome == "updated"


def import_a_draft(article, editor, reviewer, commit, sample_text=None):
    text = (
        (sample_text or "")
        .replace("needs human review: 0", "needs human review: 1")
        .replace("anp-ref-035445-8950", "anp-ref-draft-0001")
    )
    result = commit(import_document, text.encode(), path="draft.txt")
    assert result.outcome == "created"
    assert not Article.objects.get(pk=result.article_id).is_live


@pytest.mark.parametrize(
    "make_work",
    [
        edit,
        edit_submit_approve,
        request_changes_and_comment,
        schedule_an_archive,
        import_for_review,
        import_a_draft,
    ],
    ids=lambda function: function.__name__,
)
def test_work_readers_cannot_see_keeps_every_entry(
    client, sample_article, editor, reviewer, sample_text, commit, make_work
):
    addresses = [
        page_url(sample_article),
        api_url(sample_article),
        "/",
        "/api/articles/",
        "/search/?q=rollback",
    ]
    before = {address: client.get(address).content for address in addresses}
    if make_work in (import_for_review, import_a_draft):
        make_work(sample_article, editor, reviewer, commit, sample_text)
    else:
        make_work(sample_article, editor, reviewer, commit)
    assert Release.objects.get(article=sample_article).live_revision is not None
    for address in addresses:
        again = client.get(address)
        assert again[read_cache.HEADER] == "hit", address
        assert again.content == before[address]


# -- the namespaces ---------------------------------------------------------------------------------


def test_an_evicted_namespace_makes_its_entries_misses(client, sample_article):
    client.get(page_url(sample_article))
    caches[read_cache.settings.READ_CACHE_ALIAS].delete(
        read_cache.NAMESPACE_PREFIX + read_cache.article_namespace(sample_article.slug)
    )
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "miss"
    assert client.get(page_url(sample_article))[read_cache.HEADER] == "hit"


def test_a_change_committed_while_an_answer_is_built_leaves_it_stale(sample_article, commit):
    """Versions are read before the build: a bump during it makes the stored entry a miss."""
    factory = RequestFactory()
    names = read_cache.lists()

    def request():
        made = factory.get("/race/")
        made.user = read_cache_anonymous()
        return made

    def build_while_changing():
        commit(articles_changed, [sample_article.pk], live=True)
        return HttpResponse("built before the change was seen")

    first = read_cache.serve(request(), names, build_while_changing)
    assert first[read_cache.HEADER] == "miss"
    second = read_cache.serve(request(), names, lambda: HttpResponse("fresh"))
    assert second[read_cache.HEADER] == "miss"
    assert second.content == b"fresh"
    assert read_cache.serve(request(), names, lambda: HttpResponse("never"))[read_cache.HEADER] == "hit"


def read_cache_anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_only_a_live_change_invalidates(sample_article, django_capture_on_commit_callbacks):
    ns = read_cache.NAMESPACE_PREFIX + read_cache.LISTS
    cache = read_cache._cache()
    read_cache.versions([read_cache.LISTS])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        articles_changed([sample_article.pk], live=False)
    assert callbacks == []
    assert cache.get(ns) is not None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        articles_changed([sample_article.pk], live=True)
        assert cache.get(ns) is not None  # not before the commit
    assert len(callbacks) == 1
    assert cache.get(ns) is None


# -- what is never stored ---------------------------------------------------------------------------


@read_cache.anonymous_page(read_cache.lists)
def csrf_form(request):
    return HttpResponse(
        f'<form method="post"><input name="csrfmiddlewaretoken" value="{get_token(request)}">'
    )


@read_cache.anonymous_page(read_cache.lists)
def sets_a_cookie(request):
    response = HttpResponse("cookie")
    response.set_cookie("seen", "1")
    return response


@read_cache.anonymous_page(read_cache.lists)
def private_page(request):
    response = HttpResponse("private")
    response["Cache-Control"] = "private, max-age=60"
    return response


@read_cache.anonymous_page(read_cache.lists)
def varies_on_everything(request):
    response = HttpResponse("vary")
    response["Vary"] = "*"
    return response


def _with_cache_control(value):
    @read_cache.anonymous_page(read_cache.lists)
    def page(request):
        response = HttpResponse(value)
        response["Cache-Control"] = value
        return response

    return page


@read_cache.anonymous_page(read_cache.lists)
def not_found(request):
    return HttpResponse("no such page", status=404)


@read_cache.anonymous_page(read_cache.lists)
def plain_page(request):
    return HttpResponse("plain")


urlpatterns = [
    path("form/", csrf_form),
    path("cookie/", sets_a_cookie),
    path("private/", private_page),
    path("private-field/", _with_cache_control('private="Set-Cookie", max-age=60')),
    path("no-store/", _with_cache_control("no-store")),
    path("no-cache/", _with_cache_control("no-cache")),
    path("max-age-0/", _with_cache_control("max-age=0")),
    path("vary/", varies_on_everything),
    path("plain/", plain_page),
    path("missing/", not_found),
]


@pytest.mark.urls(__name__)
def test_only_a_200_is_stored():
    assert Client().get("/missing/").status_code == 404
    again = Client().get("/missing/")
    assert (again.status_code, again[read_cache.HEADER]) == (404, "miss")


@pytest.mark.urls(__name__)
def test_an_answer_with_credentials_is_neither_served_nor_stored():
    Client().get("/plain/")
    assert Client().get("/plain/")[read_cache.HEADER] == "hit"
    with_token = Client().get("/plain/", HTTP_AUTHORIZATION="Token whatever")
    assert with_token.status_code == 200
    assert read_cache.HEADER not in with_token


@pytest.mark.urls(__name__)
def test_an_entry_lasts_its_timeout_and_the_namespaces_last_until_a_change(settings, monkeypatch):
    settings.READ_CACHE_TIMEOUT = 10_000  # longer than Django's defaults (300 s, 600 s)
    now = time.time()
    Client().get("/plain/")
    monkeypatch.setattr(time, "time", lambda: now + 9_000)
    assert Client().get("/plain/")[read_cache.HEADER] == "hit"
    monkeypatch.setattr(time, "time", lambda: now + 10_100)
    assert Client().get("/plain/")[read_cache.HEADER] == "miss"  # the entry went; the tokens stay
    tokens = read_cache.versions([read_cache.LISTS])
    monkeypatch.setattr(time, "time", lambda: now + 10 * 365 * 86_400)
    assert read_cache.versions([read_cache.LISTS]) == tokens


def test_a_namespace_another_process_made_meanwhile_keeps_its_token(monkeypatch):
    cache = read_cache._cache()
    key = read_cache.NAMESPACE_PREFIX + read_cache.LISTS
    cache.set(key, "theirs", None)
    # This process read the tokens just before the other one added its own.
    monkeypatch.setattr(type(cache), "get_many", lambda self, keys, version=None: {})
    assert read_cache.versions([read_cache.LISTS])[key] == "theirs"


def test_every_namespace_key_is_valid_for_every_backend():
    assert read_cache.article_namespace("a-plain_slug-2") == "article:a-plain_slug-2"
    for odd in ("with space", "x" * 121, "ünïcode", ""):
        name = read_cache.article_namespace(odd)
        assert re.fullmatch(r"article:~[0-9a-f]{64}", name), name
    assert read_cache.article_namespace("with space") != read_cache.article_namespace("with  space")


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "address",
    [
        "/form/",
        "/cookie/",
        "/private/",
        "/private-field/",
        "/no-store/",
        "/no-cache/",
        "/max-age-0/",
        "/vary/",
    ],
)
def test_what_may_not_be_shared_is_never_stored(address):
    for client in (Client(), Client(enforce_csrf_checks=True)):
        first = client.get(address)
        assert first.status_code == 200
        assert client.get(address)[read_cache.HEADER] == "miss"
        assert Client().get(address)[read_cache.HEADER] == "miss"


@pytest.mark.urls(__name__)
def test_a_page_that_sets_a_csrf_cookie_is_never_shared():
    first = Client().get("/form/")
    assert "csrftoken" in first.cookies
    second = Client().get("/form/")
    assert "csrftoken" in second.cookies
    assert second[read_cache.HEADER] == "miss"
    assert Client().get("/plain/")[read_cache.HEADER] == "miss"
    assert Client().get("/plain/")[read_cache.HEADER] == "hit"  # the same mechanism stores the rest


# -- settings ---------------------------------------------------------------------------------------


def test_turned_off_every_request_is_built(client, sample_article, settings):
    settings.READ_CACHE = False
    client.get(page_url(sample_article))
    with CaptureQueriesContext(connection) as queries:
        again = client.get(page_url(sample_article))
    assert len(queries) > 1
    assert read_cache.HEADER not in again


def test_cache_urls():
    from config.settings import cache_from_url

    assert cache_from_url("redis://127.0.0.1:6379/1")["BACKEND"].endswith("RedisCache")
    assert cache_from_url("locmem://")["BACKEND"].endswith("LocMemCache")
    assert cache_from_url("file:///tmp/kb-cache")["LOCATION"] == "/tmp/kb-cache"
    with pytest.raises(Exception, match="CACHE_URL"):
        cache_from_url("memcached://x")


def test_the_default_read_cache_is_shared_by_every_process_of_the_machine():
    """Invalidations are keys in the cache: a cache in one process's memory would miss those the
    importer or another worker makes."""
    from config import settings as configured

    if not any(name in __import__("os").environ for name in ("CACHE_URL", "READ_CACHE_URL")):
        assert configured.CACHES["read"]["BACKEND"].endswith("FileBasedCache")


def test_no_table_readers_see_has_a_generation_trigger():
    """Writers no longer update a shared row: migration 0013 dropped the triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%%_generation'")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%generation%'"
            )
        assert cursor.fetchall() == []
        assert "articles_contentgeneration" not in connection.introspection.table_names(cursor)

"""The similar-posts engine: rarity-weighted ranking, storage, freshness and its measurements."""

import io
import json
import random
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from articles import similarity
from articles.derived import LIST_ORDER
from articles.models import Article, SimilarArticle, SimilarityIndex, SimilarPending
from articles.similarity import incremental, rebuild
from corpus.generator import synthesize, write_corpus
from releases import services
from releases.importing import Source, import_documents

pytestmark = pytest.mark.django_db

TEMPLATE = """{title}

{body}

alphanode post meta

topic{topic}
ai outline
  • context: {context}
  • problem: {problem}
stack
{stack}
tools
{tools}
code language{language}
difficultyintermediate
revision
  • status: reviewed
  • version: 1.0.0
  • last reviewed: 2026-01-01
reference{reference}
flags
  • needs human review: {review}
entities
    • name: {problem}
    • type: problem

Similar Posts
"""

GROUPS = {
    "migrations": dict(
        problem="zero downtime migrations", stack=["postgresql", "database"], language="sql",
        tools=["pg_repack", "pgbouncer", "flyway"], words="postgres lock timeout concurrent index",
    ),
    "bundles": dict(
        problem="smaller frontend bundles", stack=["react", "frontend"], language="javascript",
        tools=["webpack", "vite", "esbuild"], words="tree shaking code splitting lazy routes",
    ),
    "rollbacks": dict(
        problem="rollback friendly releases", stack=["python services", "backend"], language="python",
        tools=["fastapi", "pytest", "alembic"], words="feature flags release tags health checks",
    ),
}  # fmt: skip
COMMON = ["git", "logs"]  # on every article: says nothing


def document(group: str, number: int, review: int = 0, **overrides) -> bytes:
    spec = {**GROUPS[group], **overrides}
    text = TEMPLATE.format(
        title=f"{spec['words'].split()[number % 3]} notes {number} for {spec['problem']}",
        body=f"a paragraph about {spec['words']}.",
        topic=f"{spec['problem']} / {spec['stack'][0]}",
        context="before a release",
        problem=spec["problem"],
        stack="\n".join(f"  • {name}" for name in spec["stack"]),
        tools="\n".join(f"  • {name}" for name in [*spec["tools"][: 2 + number % 2], *COMMON]),
        language=spec["language"],
        reference=f"{group}-{number}",
        review=review,
    )
    return text.encode()


def import_all(*documents: tuple[str, bytes]) -> None:
    report = import_documents([Source(path, data) for path, data in documents])
    assert report.failed == 0, report.errors


@pytest.fixture
def handcrafted():
    import_all(*((f"{g}-{n}", document(g, n)) for g in GROUPS for n in range(4)))
    return {g: [Article.objects.get(reference=f"{g}-{n}") for n in range(4)] for g in GROUPS}


def neighbour_refs(article, limit=10):
    return [item["slug"] for item in similarity.neighbours_for([article.pk], limit=limit)[article.pk]]


def test_handcrafted_groups_find_each_other_first(handcrafted):
    for group, articles in handcrafted.items():
        for article in articles:
            top = similarity.neighbours_for([article.pk], limit=3)[article.pk]
            assert {item["slug"] for item in top} == {a.slug for a in articles if a != article}, group
            assert all(item["score"] > 0 for item in top)
            rest = similarity.neighbours_for([article.pk], limit=10)[article.pk][3:]
            assert all(item["score"] < top[-1]["score"] for item in rest)


def test_never_itself_only_live_and_one_query(handcrafted, django_assert_num_queries):
    import_all(("draft", document("migrations", 9, review=1)))
    draft = Article.objects.get(reference="migrations-9")
    article = handcrafted["migrations"][0]
    with django_assert_num_queries(1):
        items = similarity.neighbours_for([article.pk], limit=10)[article.pk]
    slugs = [item["slug"] for item in items]
    assert article.slug not in slugs and draft.slug not in slugs
    assert not SimilarArticle.objects.filter(neighbour=draft).exists()
    assert neighbour_refs(draft)  # a draft has its own list, for staff previews


def test_lists_read_together_are_those_read_alone_cut_to_the_limit(handcrafted):
    ids = [group[0].pk for group in handcrafted.values()]
    together = similarity.neighbours_for(ids, limit=3)
    for pk in ids:
        assert similarity.neighbours_for([pk], limit=3)[pk] == together[pk]
        assert [item["slug"] for item in together[pk]] == neighbour_refs(Article.objects.get(pk=pk))[:3]
        scores = [item["score"] for item in together[pk]]
        assert len(scores) == 3 and scores == sorted(scores, reverse=True)


def test_ties_break_the_same_way_every_time(handcrafted):
    before = list(
        SimilarArticle.objects.order_by(*LIST_ORDER).values_list("article_id", "neighbour_id", "score")
    )
    similarity.rebuild_all()
    after = list(
        SimilarArticle.objects.order_by(*LIST_ORDER).values_list("article_id", "neighbour_id", "score")
    )
    assert before and before == after


def test_archiving_and_publishing_refresh_the_lists(
    handcrafted, reviewer, django_capture_on_commit_callbacks
):
    article = handcrafted["bundles"][1]
    assert SimilarArticle.objects.filter(neighbour=article).exists()
    index = SimilarityIndex.current().pk
    with django_capture_on_commit_callbacks(execute=True):
        services.article_archive(article=article, user=reviewer, note="gone")
    assert not SimilarArticle.objects.filter(neighbour=article).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.article_publish(article=article, user=reviewer, note="back")
    assert SimilarArticle.objects.filter(neighbour=article).exists()
    # Even a corpus of twelve articles is refreshed, not rebuilt: the weights are the same.
    assert SimilarityIndex.current().pk == index


def test_incremental_refresh_matches_a_full_rebuild(handcrafted, monkeypatch):
    import_all(("new", document("rollbacks", 7)))
    new = Article.objects.get(reference="rollbacks-7")
    incremental = {pk: neighbour_refs(Article(pk=pk)) for pk in Article.objects.values_list("pk", flat=True)}
    assert set(neighbour_refs(new)[:4]) == {a.slug for a in handcrafted["rollbacks"]}
    assert new.slug in neighbour_refs(handcrafted["rollbacks"][0])[:4]
    similarity.rebuild_all()
    rebuilt = {pk: neighbour_refs(Article(pk=pk)) for pk in incremental}
    group = dict(Article.objects.values_list("slug", "reference"))
    for pk, slugs in incremental.items():
        # The refresh scores with the weights of the last rebuild, so near ties may swap places;
        # either way every article's first three come from its own group.
        own = Article.objects.get(pk=pk).reference.split("-")[0]
        assert {group[slug].split("-")[0] for slug in slugs[:3]} == {own}, pk
        assert {group[slug].split("-")[0] for slug in rebuilt[pk][:3]} == {own}, pk


def test_common_terms_count_with_the_lowest_weights(handcrafted):
    index = SimilarityIndex.current()
    assert index.live_count == 12
    from articles.models import Tag

    git = Tag.objects.get(kind="tool", name="git")
    assert index.idf[f"t:{git.pk}"] < min(value for term, value in index.idf.items() if term.startswith("e:"))


def test_rebuild_command(handcrafted):
    out = io.StringIO()
    SimilarArticle.objects.all().delete()
    call_command("rebuild_similar", stdout=out)
    assert "rebuilt for 12 articles" in out.getvalue()
    assert SimilarArticle.objects.values("article_id").distinct().count() == 12


def test_evaluate_command_measures_a_synthesized_corpus(tmp_path):
    write_corpus(tmp_path, 400, seed=5, difficulty="hard")
    report = import_documents([Source(str(p), p.read_bytes()) for p in sorted(tmp_path.rglob("*.txt"))])
    assert report.failed == 0
    out = io.StringIO()
    call_command("evaluate_similar", "--clusters", str(tmp_path / "clusters.json"), stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["articles"] == Article.objects.live().count()
    engine, baseline = figures["engine"], figures["shared_tag_baseline"]
    assert engine["precision_at_5"] >= 0.9 and engine["coverage"] >= 0.95
    assert engine["precision_at_5"] > baseline["precision_at_5"]
    assert engine["hubness_max"] >= engine["hubness_mean"] > 0
    plain = figures["idf_cosine_baseline"]
    assert 0 < plain["precision_at_5"] <= 1 and plain["coverage"] >= 0.95


def test_a_list_with_too_few_neighbours_is_topped_up_with_the_newest_live_articles(handcrafted):
    loner = TEMPLATE.format(
        title="mainframe batch windows",
        body="a paragraph about tape drives.",
        topic="mainframe batch",
        context="overnight",
        problem="batch windows overrun",
        stack="  • mainframe",
        tools="  • jcl",
        language="cobol",
        reference="loner-1",
        review=0,
    )
    import_all(("loner", loner.encode()))
    similarity.rebuild_all()

    loner_article = Article.objects.get(reference="loner-1")
    rows = list(SimilarArticle.objects.filter(article=loner_article).order_by(*LIST_ORDER))
    newest = list(Article.objects.live().exclude(pk=loner_article.pk).order_by("-pk"))
    assert [row.top_up for row in rows] == list(range(1, similarity.MIN_NEIGHBOURS + 1))
    assert [row.neighbour_id for row in rows] == [a.pk for a in newest[: similarity.MIN_NEIGHBOURS]]
    assert {row.score for row in rows} == {0.0}
    # The others' own lists are full and scored: no fallback entries among them.
    others = SimilarArticle.objects.exclude(article=loner_article)
    assert others.filter(score=0).count() == 0
    assert set(others.values_list("article_id", flat=True)) == {a.pk for g in handcrafted.values() for a in g}


def test_the_engine_keeps_common_but_informative_terms(tmp_path):
    """Topics made of a common problem and a common stack: every term is on 5-20% of the
    articles, and only their combination tells two articles apart."""
    write_corpus(tmp_path, 1200, seed=5, difficulty="combination")
    report = import_documents([Source(str(p), p.read_bytes()) for p in sorted(tmp_path.rglob("*.txt"))])
    assert report.failed == 0
    out = io.StringIO()
    call_command(
        "evaluate_similar", "--clusters", str(tmp_path / "clusters.json"), "--methods", "capped", stdout=out
    )
    figures = json.loads(out.getvalue())
    engine, plain, capped = figures["engine"], figures["idf_cosine_baseline"], figures["capped"]
    assert engine["precision_at_5"] >= 0.95 and engine["coverage"] >= 0.98
    assert engine["precision_at_5"] >= plain["precision_at_5"]
    assert capped["precision_at_5"] < 0.8  # what leaving the common terms out gave
    assert engine["hubness_max"] <= 10 * engine["hubness_mean"]


def stored_lists() -> dict[int, list[tuple[int, float]]]:
    lists: dict[int, list[tuple[int, float]]] = {}
    for article_id, neighbour_id, score in SimilarArticle.objects.values_list(
        "article_id", "neighbour_id", "score"
    ).order_by(*LIST_ORDER):
        shown = lists.setdefault(article_id, [])
        if len(shown) < similarity.NEIGHBOURS:
            shown.append((neighbour_id, score))
    return lists


def assert_lists_are_a_rebuilds() -> None:
    """The stored lists are exactly the ones a rebuild with the same weights gives."""
    refreshed = stored_lists()
    similarity.rebuild_all(keep_weights=True)
    assert stored_lists() == refreshed


def retargeted(text: str, reference: str, version: str) -> bytes:
    """Another document's text as a new version of the article ``reference``, published."""
    text = re.sub(r"\nreference[^\n]*\n", f"\nreference{reference}\n", text)
    text = re.sub(r"version: [0-9.]+", f"version: {version}", text)
    text = text.replace("needs human review: 1", "needs human review: 0").replace(
        "status: draft", "status: reviewed"
    )
    return text.encode()


@pytest.mark.parametrize("depth", [similarity.DEPTH, similarity.NEIGHBOURS + 1])
def test_incremental_refreshes_give_the_lists_a_rebuild_gives(
    depth, reviewer, django_capture_on_commit_callbacks, monkeypatch
):
    """Random changes, each refreshed incrementally (new articles, changes of topic, archiving,
    publishing again), then every list against a full rebuild with the same weights: the same
    neighbours in the same order with the same scores. Kept lists barely deeper than the shown
    ones make refreshes score lists that lost their entries again, from scratch."""
    for module in (rebuild, incremental):  # where the rebuild and the refresh read it
        monkeypatch.setattr(module, "DEPTH", depth)
    documents = list(synthesize(260, seed=8, difficulty="noisy"))
    import_all(*((d.filename, d.text.encode()) for d in documents[:200]))  # the first run rebuilds
    assert SimilarityIndex.current().live_count == Article.objects.live().count()
    index = SimilarityIndex.current().pk
    rng = random.Random(3)
    spare = iter(documents[200:])
    version = 100
    for _round in range(3):
        for _step in range(8):
            change = rng.choice(("new", "topic", "topic", "archive", "publish"))
            if change == "new":
                document = next(spare)
                import_all((document.filename, document.text.encode()))
            elif change == "topic":
                article = rng.choice(list(Article.objects.order_by("pk")))
                site = article.reference[:3]  # an article stays with its site
                other = rng.choice(
                    [d for d in documents if d.cluster != article.topic and d.reference.startswith(site)]
                )
                version += 1
                import_all(("changed", retargeted(other.text, article.reference, f"{version}.0.0")))
            else:
                state = "published" if change == "archive" else "archived"
                candidates = list(Article.objects.filter(state=state).order_by("pk"))
                if not candidates:
                    continue
                action = services.article_archive if change == "archive" else services.article_publish
                with django_capture_on_commit_callbacks(execute=True):
                    action(article=rng.choice(candidates), user=reviewer, note="random change")
        # Every change was refreshed incrementally: no rebuild replaced the weights.
        assert SimilarityIndex.current().pk == index
        refreshed = stored_lists()
        similarity.rebuild_all(keep_weights=True)
        index = SimilarityIndex.current().pk
        rebuilt = stored_lists()
        assert refreshed == rebuilt
        assert set(rebuilt) == set(Article.objects.values_list("pk", flat=True))


def test_a_refresh_writes_only_the_rows_that_differ(handcrafted):
    """An article whose text changed moves in the other lists: their rows for it are rescored,
    and the rows of the other neighbours, whose scores did not change, stay as they were (the
    same rows, not copies written again)."""

    def rows():
        return {
            (article_id, neighbour_id): (pk, score)
            for pk, article_id, neighbour_id, score in SimilarArticle.objects.values_list(
                "pk", "article_id", "neighbour_id", "score"
            )
        }

    before = rows()
    article = handcrafted["rollbacks"][1]
    text = document("rollbacks", 1, words="canary feature switches").decode()  # a title word of 0 and 3
    import_all(("changed", retargeted(text, article.reference, "9.0.0")))
    assert Article.objects.get(pk=article.pk).version == "9.0.0"
    after = rows()
    rewritten = {key for key in after if before.get(key) != after[key]}
    kept = {key for key in after if before.get(key) == after[key]}
    assert {key[0] for key in rewritten} - {article.pk}  # other lists changed ...
    assert {key[0] for key in rewritten - {key for key in rewritten if article.pk in key}} == set()
    assert {key[0] for key in rewritten} & {key[0] for key in kept}  # ... and kept their other rows
    assert_lists_are_a_rebuilds()


def test_a_bulk_change_refreshes_once_at_the_end(handcrafted, reviewer, django_capture_on_commit_callbacks):
    migrations = handcrafted["migrations"]
    with similarity.deferred():
        for article in migrations[:3]:
            with django_capture_on_commit_callbacks(execute=True):
                services.article_archive(article=article, user=reviewer, note="gone")
        # Not yet: the refresh waits for the end of the block.
        assert SimilarArticle.objects.filter(neighbour__in=migrations[:3]).exists()
    assert not SimilarArticle.objects.filter(neighbour__in=migrations[:3]).exists()
    assert_lists_are_a_rebuilds()


def bulk_publish(reviewer, drafts) -> set[int]:
    """A reviewer publishes approved drafts at once from the review queue; their ids."""
    client = Client()
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:releases_reviewqueueitem_changelist"),
        {"action": "bulk_publish", "_selected_action": [a.pk for a in drafts], "apply": "1",
         "note": "together", "bump": "minor"},
    )  # fmt: skip
    assert response.status_code == 302, response.content
    return {a.pk for a in drafts}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bulk_admin_action_refreshes_similar_posts_once(reviewer, monkeypatch):
    """Publishing several articles from the review queue: one refresh for them all, and the
    lists it leaves are a rebuild's."""
    import_all(*((f"{g}-{n}", document(g, n)) for g in GROUPS for n in range(4)))
    import_all(*((f"bundles-{n}", document("bundles", n, review=1)) for n in range(10, 13)))
    drafts = list(
        Article.objects.filter(reference__in=["bundles-10", "bundles-11", "bundles-12"]).order_by("pk")
    )
    assert len(drafts) == 3
    for article in drafts:
        services.article_submit(article=article, user=reviewer)
        services.article_approve(article=article, user=reviewer)
    runs = []
    original = incremental._Refresh.run
    monkeypatch.setattr(
        incremental._Refresh, "run", lambda self: (runs.append(set(self.touched)), original(self))
    )
    bulk_publish(reviewer, drafts)
    assert Article.objects.filter(pk__in=[a.pk for a in drafts], state="published").count() == 3
    assert runs == [{a.pk for a in drafts}]
    assert_lists_are_a_rebuilds()


def test_a_refresh_that_died_leaves_its_articles_for_the_next(handcrafted, reviewer, monkeypatch):
    """An archive whose refresh failed (a lost connection, a killed worker) stays queued; the
    next refresh, of another article, takes it along, and nothing is refreshed twice."""
    first, second = handcrafted["bundles"][1], handcrafted["migrations"][2]
    for article in (first, second):
        services.article_archive(article=article, user=reviewer, note="gone")
    original = incremental._Refresh.run

    def dies(refresh):
        raise OSError("the connection was lost")

    monkeypatch.setattr(incremental._Refresh, "run", dies)
    with pytest.raises(OSError):
        similarity.refresh([first.pk])
    assert list(SimilarPending.objects.values_list("article_id", flat=True)) == [first.pk]
    assert SimilarArticle.objects.filter(neighbour=first).exists()  # its lists are not fresh yet
    runs = []
    monkeypatch.setattr(
        incremental._Refresh, "run", lambda self: (runs.append(set(self.touched)), original(self))
    )
    similarity.refresh([second.pk])
    assert runs == [{first.pk, second.pk}]
    assert not SimilarPending.objects.exists()
    assert not SimilarArticle.objects.filter(neighbour__in=[first, second]).exists()
    assert_lists_are_a_rebuilds()


def test_a_rebuild_takes_the_queued_articles_with_it(handcrafted, reviewer, monkeypatch):
    """A rebuild reads every article as it is, so it empties the queue; nothing queued is scored
    again after it."""
    article = handcrafted["rollbacks"][0]
    services.article_archive(article=article, user=reviewer, note="gone")
    SimilarPending.objects.create(article_id=article.pk)  # as a refresh that could not run
    runs = []
    monkeypatch.setattr(incremental._Refresh, "run", lambda self: runs.append(set(self.touched)))
    similarity.rebuild_all(keep_weights=True)
    assert not SimilarPending.objects.exists() and runs == []
    assert not SimilarArticle.objects.filter(neighbour=article).exists()


def test_a_request_leaves_a_bulk_queue_to_a_run_that_may_rebuild(handcrafted, monkeypatch):
    """A bulk import's articles left queued (its run died) call for a rebuild: an editor's
    publish does not run it inside the request; the next import does."""
    monkeypatch.setattr(incremental, "REBUILD_MIN", 2)
    monkeypatch.setattr(incremental, "REBUILD_SHARE", 0.1)
    bulk = [a.pk for a in handcrafted["migrations"]]
    SimilarPending.objects.bulk_create([SimilarPending(article_id=pk) for pk in bulk])
    index = SimilarityIndex.current().pk
    similarity.refresh([handcrafted["bundles"][0].pk], wait=False)
    assert SimilarityIndex.current().pk == index  # not rebuilt
    assert SimilarPending.objects.count() == len(bulk) + 1  # and nothing taken off the queue
    similarity.refresh([handcrafted["bundles"][1].pk])  # as an import's
    assert SimilarityIndex.current().pk != index
    assert not SimilarPending.objects.exists()


def test_a_refresh_that_finds_the_queue_taken_scores_nothing(handcrafted, monkeypatch):
    """Two refreshes saw queued articles; the one that had the lock first took them all, so the
    other, once it has the lock, finds the queue empty and scores nothing."""
    assert not SimilarPending.objects.exists()
    seen = iter([True])  # it saw the queue before the other took it
    monkeypatch.setattr(SimilarPending.objects, "exists", lambda: next(seen, False), raising=False)
    runs = []
    monkeypatch.setattr(incremental._Refresh, "run", lambda self: runs.append(set(self.touched)))
    index = SimilarityIndex.current().pk
    incremental._refresh_queued(wait=False)
    assert runs == [] and SimilarityIndex.current().pk == index


def test_the_refresh_state_grows_for_an_id_past_its_last_slice(db):
    """Setting a floor or the attributes of an id beyond the arrays grows them first, so the
    value lands in the grown arrays (an id at a slice boundary used to raise IndexError)."""
    import numpy as np

    from articles.similarity.stored_index import SLICE, _State

    state = _State()
    for pk in (SLICE, 3 * SLICE, 3 * SLICE + 7):
        state.set_floor(pk, 0.25)
        state.set_attributes(pk + 1, 3, 4)
        assert state.floor(pk) == 0.25
        floors, languages, difficulties = state.lookup(np.array([pk + 1]))
        assert (languages[0], difficulties[0]) == (3, 4)


def test_the_index_is_read_in_binary_as_the_orm_reads_it_and_counted(handcrafted, django_assert_num_queries):
    """values_binary gives the rows the queryset gives (bytes for bytea), through Django's
    cursor, so the query is counted."""
    from articles.bulk import values_binary
    from articles.models import SimilarPosting, SimilarState

    for queryset in (
        SimilarState.objects.order_by("bucket").values_list("bucket", "floors", "attributes"),
        SimilarPosting.objects.filter(
            term__in=SimilarPosting.objects.order_by("term").values("term")[:3]
        ).values_list("pk", "term", "bucket", "data"),
    ):
        expected = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in queryset]
        with django_assert_num_queries(1):
            rows = values_binary(queryset.all())
        assert len(expected) > 0
        assert sorted(map(tuple, rows)) == sorted(expected)


def test_the_product_uses_the_cores_the_process_may_run_on(monkeypatch):
    monkeypatch.setattr(rebuild.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert rebuild._threads() is None  # pinned to one core: sequential, no thread pool to fork
    monkeypatch.setattr(rebuild.os, "sched_getaffinity", lambda pid: {0, 1, 5}, raising=False)
    assert rebuild._threads() == 3

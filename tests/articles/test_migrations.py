"""Data migrations, run forward from the migration before them on rows made in its schema."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("articles", "0017_live_id_index")]
AFTER = [("articles", "0018_similar_lists_without_ranks")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # leaves what it found
def test_lists_without_ranks_keep_the_order_of_their_top_ups():
    old = migrate(BEFORE)
    Article = old.get_model("articles", "Article")
    SimilarArticle = old.get_model("articles", "SimilarArticle")
    owner, *others = [
        Article.objects.create(reference=f"m-{n}", slug=f"m-{n}", title=f"m {n}") for n in range(5)
    ]
    # A short list: one scored neighbour, then the fallback's newest three, in the order it gave.
    SimilarArticle.objects.create(article=owner, neighbour=others[0], rank=1, score=0.5)
    for rank, neighbour in enumerate([others[3], others[1], others[2]], start=2):
        SimilarArticle.objects.create(article=owner, neighbour=neighbour, rank=rank, score=0)
    try:
        new = migrate(AFTER)
        rows = new.get_model("articles", "SimilarArticle").objects.order_by(
            "-score", "top_up", "neighbour_id"
        )
        assert [row.neighbour_id for row in rows] == [others[n].pk for n in (0, 3, 1, 2)]
        assert [row.top_up for row in rows] == [0, 2, 3, 4]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

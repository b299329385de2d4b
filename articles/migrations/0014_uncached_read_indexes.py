"""Indexes for uncached reads (docs/scaling.md, "Which index serves which page").

- ``article_difficulty`` and ``article_code_language`` also hold state and id: the home page's
  facets step through their distinct values (one probe each instead of a scan of every live
  article), and a filter on a value reads its live articles in id order, ready to merge with a
  tag's or entity's article ids for the page's count. Rebuilt in place, so the import writes no
  more indexes than before.
- ``article_live_<field>`` for each of the API's descending orderings (quality, view count,
  reading time, last reviewed, publication date, title): live articles in that order, unknown
  values last, as ``ordering=-quality`` reads them: a filtered, ordered page reads the index until
  it is full instead of sorting every match. Ascending orderings read the field's plain index.
"""

from django.db import migrations, models

import articles.models


class Migration(migrations.Migration):
    dependencies = [("articles", "0013_drop_content_generation")]

    operations = [
        migrations.RemoveIndex(model_name="article", name="article_code_language"),
        migrations.RemoveIndex(model_name="article", name="article_difficulty"),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["code_language", "state", "id"], name="article_code_language"),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["difficulty", "state", "id"], name="article_difficulty"),
        ),
        *(
            migrations.AddIndex(
                model_name="article",
                index=articles.models.LiveOrderIndex(
                    models.OrderBy(models.F(name), descending=True, nulls_last=True),
                    models.OrderBy(models.F("id"), descending=True),
                    condition=models.Q(("state", "published")),
                    name=f"article_live_{name}",
                ),
            )
            for name in ("quality", "view_count", "reading_time", "last_reviewed", "published_at", "title")
        ),
    ]

"""The live-list index also carries the filter values the home page offers (docs/data-model.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0008_sqlite_generation_triggers"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="article",
            name="article_live_latest",
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["state", "-published_at", "-id"],
                include=("difficulty", "code_language"),
                name="article_live_latest",
            ),
        ),
    ]

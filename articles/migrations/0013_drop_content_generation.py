"""The read cache without a content generation: its triggers and its row go.

Every write to articles, their parts, tags, entities and similar posts updated one row and held
its lock until commit, so writers queued behind each other. The read cache now keeps versions
of what each answer shows in the cache itself, bumped after commit (articles/read_cache.py,
articles/changes.py). Going back creates the table and its triggers again, as 0006 and 0008 made
them.
"""

from importlib import import_module

from django.db import migrations

content_generation = import_module("articles.migrations.0006_content_generation")


def drop_triggers(apps, schema_editor):
    content_generation.drop_triggers(apps, schema_editor)


def create_triggers(apps, schema_editor):
    content_generation.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("articles", "0012_full_text_search")]

    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.DeleteModel(name="ContentGeneration"),
    ]

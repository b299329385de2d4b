"""SQLite rebuilds a table to alter its fields, and the rebuilds of migration 0007 dropped the
content-generation triggers of those tables: they are created again, as migration 0006 made
them. PostgreSQL alters tables in place and kept its triggers."""

from importlib import import_module

from django.db import migrations

content_generation = import_module("articles.migrations.0006_content_generation")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    content_generation.drop_triggers(apps, schema_editor)  # those that survived, if any
    content_generation.create_sqlite_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_lean_part_keys")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]

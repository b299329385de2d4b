"""SQLite rebuilds a table to alter its fields, and the rebuilds of migration 0007 dropped the
content-generation triggers of those tables: they are created again, as migration 0006 made
them. PostgreSQL alters tables in place and kept its triggers."""

from django.db import migrations

# As in migration 0006.
WATCHED = [
    "articles_article",
    "articles_articletag",
    "articles_articleentity",
    "articles_imagesource",
    "articles_tag",
    "articles_entity",
    "articles_similararticle",
]
SQLITE_BODY = """
    INSERT OR IGNORE INTO articles_contentgeneration (id, value) VALUES (1, abs(random() % 1000000000000000));
    UPDATE articles_contentgeneration SET value = value + 1 WHERE id = 1;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in WATCHED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            name = f"{table}_generation_{event.lower()}"
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {SQLITE_BODY} END")


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_lean_part_keys")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]

"""Bulk writers may advance the content generation once, just before they commit.

A trigger's upsert locks the counter's row until its transaction ends, so two import
transactions writing at the same time would run one after the other. A transaction that sets
``articles.generation_at_commit`` advances the counter itself with
``articles_advance_generation_now()`` as its last statement (``articles.bulk``); every other
write is covered by the triggers as before.

SQLite serialises writers anyway, but rebuilding tables for migration 0007 dropped their
triggers there: they are created again, as migration 0006 made them.
"""

from django.db import migrations

ADVANCE_NOW = """
CREATE FUNCTION articles_advance_generation_now() RETURNS void LANGUAGE sql AS $$
    INSERT INTO articles_contentgeneration (id, value) VALUES (1, floor(random() * 1e15)::bigint)
    ON CONFLICT (id) DO UPDATE SET value = articles_contentgeneration.value + 1;
$$
"""

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION articles_advance_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('articles.generation_at_commit', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM articles_advance_generation_now();
    RETURN NULL;
END
$$
"""

PREVIOUS_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION articles_advance_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO articles_contentgeneration (id, value) VALUES (1, floor(random() * 1e15)::bigint)
    ON CONFLICT (id) DO UPDATE SET value = articles_contentgeneration.value + 1;
    RETURN NULL;
END
$$
"""


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
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(ADVANCE_NOW)
        schema_editor.execute(TRIGGER_FUNCTION)
    elif vendor == "sqlite":
        for table in WATCHED:
            for event in ("INSERT", "UPDATE", "DELETE"):
                name = f"{table}_generation_{event.lower()}"
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
                schema_editor.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {SQLITE_BODY} END")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS_TRIGGER_FUNCTION)
        schema_editor.execute("DROP FUNCTION IF EXISTS articles_advance_generation_now()")


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_lean_part_keys")]

    operations = [migrations.RunPython(forward, backward)]

"""Bulk writers may advance the content generation once, just before they commit.

A trigger's upsert locks the counter's row until its transaction ends, so two import
transactions writing at the same time would run one after the other. A transaction that sets
``articles.generation_at_commit`` advances the counter itself with
``articles_advance_generation_now()`` as its last statement (``articles.bulk``); every other
write is covered by the triggers as before. SQLite serialises writers anyway and is left alone.
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


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADVANCE_NOW)
        schema_editor.execute(TRIGGER_FUNCTION)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS_TRIGGER_FUNCTION)
        schema_editor.execute("DROP FUNCTION IF EXISTS articles_advance_generation_now()")


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_lean_part_keys")]

    operations = [migrations.RunPython(forward, backward)]

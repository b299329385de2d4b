"""Full-text search (docs/search.md).

Every engine: ``Article.labels``, the stack, tool and entity names of the row, written by
``articles.content.article_field_values`` with the other columns (backfilled here).

PostgreSQL: ``search_vector``, a stored generated tsvector (title A; topic, summary and labels
B; outline, checklist and the first ``BODY_CHARS`` characters of the body C) with a GIN index,
so that every writer of the row (COPY imports, updates, restores) keeps it right without code;
pg_trgm with trigram indexes on titles, tag and entity names for "did you mean".

SQLite: ``article_fts``, an FTS5 table (porter stemming) that triggers on ``articles_article``
keep in step with the row, whoever writes it.
"""

from django.db import migrations, models

from articles.migration_ops import lz4_compression

# The body is indexed up to this many characters: the whole body of nearly every article, and a
# bound on the work and size of one row's index entry (a tsvector holds at most 1 MB, and word
# positions stop counting at 16,383).
BODY_CHARS = 20_000

PG_VECTOR = f"""
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig,
           coalesce(topic, '') || ' ' || coalesce(summary, '') || ' ' || labels), 'B')
    || setweight(
           jsonb_to_tsvector('english'::regconfig, coalesce(outline, '{{}}'::jsonb), '["string"]')
           || jsonb_to_tsvector('english'::regconfig, checklist, '["string"]')
           || to_tsvector('english'::regconfig, left(body_text, {BODY_CHARS})), 'C')
"""

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"ALTER TABLE articles_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_VECTOR}) STORED",
    # Kept in the row (compressed) rather than in the TOAST table: ranking reads the vector of
    # every match, and a TOAST lookup per match was most of a search's time at 100,000 articles.
    "ALTER TABLE articles_article ALTER COLUMN search_vector SET STORAGE MAIN",
    "CREATE INDEX article_search_vector ON articles_article USING gin (search_vector)",
    "CREATE INDEX article_title_trgm ON articles_article USING gin (title gin_trgm_ops)",
    "CREATE INDEX tag_name_trgm ON articles_tag USING gin (name gin_trgm_ops)",
    "CREATE INDEX entity_name_trgm ON articles_entity USING gin (name gin_trgm_ops)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS entity_name_trgm",
    "DROP INDEX IF EXISTS tag_name_trgm",
    "DROP INDEX IF EXISTS article_title_trgm",
    "DROP INDEX IF EXISTS article_search_vector",
    "ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector",
]

# The text of each FTS5 column from a row of articles_article (``row`` is NEW or the table).
SQLITE_COLUMNS = "title, topic, summary, labels, outline, checklist, body"


def _sqlite_values(row: str) -> str:
    return (
        f"{row}.id, {row}.title, {row}.topic, {row}.summary, {row}.labels, "
        f"(SELECT group_concat(value, ' ') FROM json_tree({row}.outline) WHERE type = 'text'), "
        f"(SELECT group_concat(value, ' ') FROM json_tree({row}.checklist) WHERE type = 'text'), "
        f"substr({row}.body_text, 1, {BODY_CHARS})"
    )


SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE article_fts USING fts5({SQLITE_COLUMNS}, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    f"INSERT INTO article_fts (rowid, {SQLITE_COLUMNS}) SELECT {_sqlite_values('articles_article')} "
    "FROM articles_article",
    f"""CREATE TRIGGER article_fts_insert AFTER INSERT ON articles_article BEGIN
        INSERT INTO article_fts (rowid, {SQLITE_COLUMNS}) VALUES ({_sqlite_values("NEW")});
    END""",
    f"""CREATE TRIGGER article_fts_update
        AFTER UPDATE OF title, topic, summary, labels, outline, checklist, body_text ON articles_article
    BEGIN
        DELETE FROM article_fts WHERE rowid = OLD.id;
        INSERT INTO article_fts (rowid, {SQLITE_COLUMNS}) VALUES ({_sqlite_values("NEW")});
    END""",
    """CREATE TRIGGER article_fts_delete AFTER DELETE ON articles_article BEGIN
        DELETE FROM article_fts WHERE rowid = OLD.id;
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS article_fts_delete",
    "DROP TRIGGER IF EXISTS article_fts_update",
    "DROP TRIGGER IF EXISTS article_fts_insert",
    "DROP TABLE IF EXISTS article_fts",
]

# Fills labels for the rows already there, as article_field_values would.
LABELS_PG = """
    UPDATE articles_article AS a SET labels = concat_ws(E'\\n',
        (SELECT string_agg(t.name, E'\\n' ORDER BY t.kind, l.position)
           FROM articles_articletag l JOIN articles_tag t ON t.id = l.tag_id WHERE l.article_id = a.id),
        (SELECT string_agg(e.name, E'\\n' ORDER BY l.position)
           FROM articles_articleentity l JOIN articles_entity e ON e.id = l.entity_id
          WHERE l.article_id = a.id))
"""
LABELS_SQLITE = """
    UPDATE articles_article SET labels = coalesce((
        SELECT group_concat(name, char(10)) FROM (
            SELECT t.name AS name FROM articles_articletag l JOIN articles_tag t ON t.id = l.tag_id
             WHERE l.article_id = articles_article.id
            UNION ALL
            SELECT e.name FROM articles_articleentity l JOIN articles_entity e ON e.id = l.entity_id
             WHERE l.article_id = articles_article.id)), '')
"""


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("articles", "0011_similar_postings")]

    operations = [
        migrations.AddField(
            model_name="article",
            name="labels",
            field=models.TextField(
                blank=True, default="", editable=False, help_text="Stack, tools and entity names, for search."
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": [LABELS_PG], "sqlite": [LABELS_SQLITE]}), migrations.RunPython.noop
        ),
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
        lz4_compression("articles_article", ["search_vector"]),
    ]

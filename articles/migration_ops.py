"""Storage tuning shared by migrations."""


def lz4_compression(table: str, columns: list[str]):
    """A migration operation compressing large columns with LZ4 on PostgreSQL (when built in).

    LZ4 compresses and decompresses several times faster than the default pglz, which shows
    in bulk imports of thousands of documents. Other databases are left alone.
    """
    from django.db import migrations

    def forward(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
            )
            if cursor.fetchone() is None:
                return
            quote = connection.ops.quote_name
            alters = ", ".join(f"ALTER COLUMN {quote(column)} SET COMPRESSION lz4" for column in columns)
            cursor.execute(f"ALTER TABLE {quote(table)} {alters}")

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)


def uncompressed(table: str, columns: list[str]):
    """A migration operation storing these columns out of line but uncompressed on PostgreSQL.

    For arrays of numbers that are rewritten often (similar posts' postings and floors):
    compressing them gains little and costs every write and read. Other databases are left alone.
    """
    from django.db import migrations

    def forward(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        quote = connection.ops.quote_name
        alters = ", ".join(f"ALTER COLUMN {quote(column)} SET STORAGE EXTERNAL" for column in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {quote(table)} {alters}")

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)

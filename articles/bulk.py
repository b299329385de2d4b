"""Fast inserts of many new rows.

On PostgreSQL rows go in through COPY, which takes thousands of wide rows (documents, JSON
snapshots) in a fraction of the time of one huge INSERT; primary keys are drawn from the
table's sequence first, so callers get them back as bulk_create would give them. Rows are
plain dicts or tuples, not model instances: building and preparing instances cost more than
the insert itself. Other databases use bulk_create.
"""

import json
from collections.abc import Sequence
from contextlib import contextmanager
from functools import cache

import numpy as np
from django.db import OperationalError, connections, router, transaction
from django.db.models import JSONField, Model, TextField
from django.utils import timezone

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error code for a lock_timeout that ran out


class JSONText(str):
    """A value's JSON text, made by encode_json (possibly in another process): a JSON column
    given one is sent as it is instead of being encoded again."""

    __slots__ = ()


def encode_json(value) -> JSONText:
    """JSON text of a value as a JSONField column stores it (PostgreSQL parses it to jsonb)."""
    return JSONText(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


@cache
def _insert_fields(model: type[Model]) -> tuple:
    """Fields of a model's rows other than the primary key, in column order."""
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


def insert_rows(model: type[Model], rows: Sequence[dict]) -> list[int]:
    """Insert rows given as {attname: value} and return their new primary keys, in order.

    The fast path of bulk imports: no model instances. Values are plain Python values as the
    database adapter takes them (str, int, bool, None, dates, aware datetimes); a JSON column
    takes any JSON-able value or its JSONText. Fields left out take their default, as a new
    instance would, and auto_now fields the current time. No signals, no save(): callers are
    services that own the rules for these rows.
    """
    if not rows:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        objs = [model(**{name: _decoded(value) for name, value in row.items()}) for row in rows]
        model.objects.using(alias).bulk_create(objs)
        return [obj.pk for obj in objs]
    fields = _insert_fields(model)
    now = timezone.now()
    plan = [
        (
            field.attname,
            isinstance(field, JSONField),
            now if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            else field.get_default(),
        )
        for field in fields
    ]  # fmt: skip
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    with _copy(connection, model, (meta.pk.column, *(field.column for field in fields))) as copy:
        for pk, row in zip(ids, rows, strict=True):
            values = [pk]
            for name, is_json, default in plan:
                value = row.get(name, default)
                if is_json and value is not None and not isinstance(value, JSONText):
                    value = encode_json(value)
                values.append(value)
            copy.write_row(values)
    return ids


def _decoded(value):
    return json.loads(value) if isinstance(value, JSONText) else value


def bulk_insert_rows(model: type[Model], fields: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert plain value tuples (no instances, no primary keys returned) for simple link rows."""
    if not rows:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        model.objects.using(alias).bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows])
        return
    with _copy(connection, model, [model._meta.get_field(name).column for name in fields]) as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def _copy(connection, model: type[Model], columns: Sequence[str], *, binary: bool = False):
    """A COPY into these columns of the model's table on PostgreSQL, open for writing."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    if binary:
        sql += " (FORMAT BINARY)"
    # COPY runs on psycopg's own cursor: its errors become Django's, as for any query.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        yield copy


# Binary COPY: the signature, flags and header extension length; a tuple count of -1 ends it.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_BINARY_TRAILER = b"\xff\xff"
_BINARY_TYPES = {"bigint": ">i8", "integer": ">i4", "smallint": ">i2", "double precision": ">f8"}


@contextmanager
def column_writer(model: type[Model], fields: Sequence[str]):
    """Insert rows given as NumPy arrays, one per field, a chunk at a time:

        with column_writer(SimilarArticle, ("article_id", "neighbour_id", "score", "top_up")) as write:
            write(article_ids, neighbour_ids, scores, top_ups)

    On PostgreSQL every chunk goes into one binary COPY, laid out by NumPy without a Python
    loop per row, and the server stores each chunk while the caller computes the next. Only
    integer and float columns, none NULL. Other databases: bulk_insert_rows.
    """
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":

        def insert(*columns):
            bulk_insert_rows(model, fields, list(zip(*(column.tolist() for column in columns), strict=True)))

        yield insert
        return
    model_fields = [model._meta.get_field(name) for name in fields]
    layout = [("count", ">i2")]
    for position, field in enumerate(model_fields):
        layout += [(f"size{position}", ">i4"), (f"value{position}", _BINARY_TYPES[field.db_type(connection)])]
    dtype = np.dtype(layout)
    with _copy(connection, model, [field.column for field in model_fields], binary=True) as copy:
        copy.write(_BINARY_HEADER)

        def write(*values):
            rows = np.empty(len(values[0]), dtype=dtype)
            rows["count"] = len(values)
            for position, value in enumerate(values):
                rows[f"size{position}"] = dtype[f"value{position}"].itemsize
                rows[f"value{position}"] = value
            copy.write(rows.tobytes())

        yield write
        copy.write(_BINARY_TRAILER)


def analyze(models: Sequence[type[Model]]) -> None:
    """Refresh the planner's statistics of these tables after a bulk load.

    Without it, a table that grew from nothing is planned as if it were still tiny (or never
    analysed, where autovacuum is off) and lookups by indexed columns turn into full scans.
    Only columns the planner filters or joins on are sampled: large text and JSON columns
    would have to be read back and decompressed, which costs more than the rest together.
    """
    connection = connections[router.db_for_write(models[0])]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models:
            columns = [
                quote(field.column)
                for field in model._meta.concrete_fields
                if not isinstance(field, (JSONField, TextField))
            ]
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)} ({', '.join(columns)})")
            else:
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")


def commit_without_flush_wait(model: type[Model]) -> None:
    """Let the current transaction commit without waiting for its WAL to reach the disk.

    For bulk writes whose source still exists: imported documents (the files) and similar posts
    (derived data). PostgreSQL stays consistent; a crash of the database server can lose the
    last fraction of a second of such commits, which running the import or rebuild again
    restores. Editors' work is never written this way. Other databases: no effect.
    """
    _in_postgresql_transaction(model, "SET LOCAL synchronous_commit TO OFF")


def check_keys_by_index(model: type[Model]) -> None:
    """Make the current transaction's foreign-key checks probe primary keys by index.

    PostgreSQL checks each new row's foreign keys with a cached plan, and reads a table of a few
    pages whole rather than through its index. It was written for the part tables' keys to tags
    and entities, which migration 0007 removed; the keys an import still writes are the releases
    tables' (revision, release, audit event) to articles, revisions and users. With sequential
    scans off for this transaction (its own queries all use indexes anyway), each check is one
    index probe. Whether it still pays is for the import benchmark to show before it goes.
    Other databases: no effect.
    """
    _in_postgresql_transaction(model, "SET LOCAL enable_seqscan TO OFF")


def lock_for_rewrite(model: type[Model], *, wait: float | None = None) -> bool:
    """Take the table for the current transaction's delete-then-insert rewrite of its rows.

    Two rewrites at once (two imports finishing together) would otherwise insert the same
    unique rows; this one waits for the other instead, for at most ``wait`` seconds when given:
    past that it returns False, holding nothing, and the transaction goes on unharmed. Readers
    are not blocked. On SQLite, write transactions are serialised already.
    """
    connection = _postgresql_transaction(model)
    if connection is None:
        return True
    lock = f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE"
    with connection.cursor() as cursor:
        if wait is None:
            cursor.execute(lock)
            return True
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{max(1, round(wait * 1000))}ms"])
        try:
            with transaction.atomic(using=connection.alias):  # a failed LOCK spoils only this
                cursor.execute(lock)
            taken = True
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            taken = False
        cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    return taken


def _postgresql_transaction(model: type[Model]):
    """The connection that writes ``model`` when it is PostgreSQL inside a transaction, else None."""
    connection = connections[router.db_for_write(model)]
    return connection if connection.vendor == "postgresql" and connection.in_atomic_block else None


def _in_postgresql_transaction(model: type[Model], sql: str) -> None:
    """Run ``sql`` ({table}: the model's quoted table) inside the current transaction on
    PostgreSQL; elsewhere, or outside a transaction, do nothing."""
    connection = _postgresql_transaction(model)
    if connection is not None:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(table=connection.ops.quote_name(model._meta.db_table)))


def values_binary(queryset) -> list[tuple]:
    """The rows of a ``values_list`` queryset, read in PostgreSQL's binary format there.

    For the large bytea columns of the similar-posts index: as text each byte comes as two hex
    digits that psycopg decodes again, which made reading the index two to three times slower
    (the 196 state rows of 100,000 articles: 8 to 15 ms as text, 3 to 5 in binary). The query
    is the queryset's own; other databases run the queryset as it is. Values come as the driver
    gives them (bytes for bytea), without the fields' conversions.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with binary_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def binary_cursor(connection):
    """A cursor that sends bytes parameters and reads results in binary on PostgreSQL (psycopg's
    server-side binding), through Django's cursor wrapper, so its queries are counted and logged
    as any other; elsewhere the connection's own cursor.

    Django's psycopg cursors bind parameters in the client, which writes a bytea value as an
    escaped text literal twice its size, and read results as text. Only for statements whose
    SQL uses plain ``%s`` placeholders and whose values psycopg adapts by itself.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    from psycopg import Cursor
    from psycopg.pq import Format

    connection.ensure_connection()
    raw = Cursor(connection.connection)
    raw.format = Format.BINARY
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:
        yield cursor

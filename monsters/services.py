"""Everything that writes monsters, and the CSV export that reads them back."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from bandersnatch.audit import audit_record
from bandersnatch.db import streaming_reads
from bandersnatch.models import AuditEntry

from .generator import COLUMNS, generate_chunks
from .models import DataVersion, Monster
from .pgcopy import CopyStream, encode_rows, prefetched

logger = logging.getLogger(__name__)

SEED_CHUNK_SIZE = 100_000
SQLITE_BATCH_SIZE = 2_000
EXPORT_COLUMNS = (*COLUMNS, "created_at")
PG_TYPES = {
    "name": "text", "type": "text", "level": "smallint", "rarity": "text", "damage": "text",
    "health": "double precision", "energy": "double precision", "sanity": "double precision",
}  # fmt: skip


def data_version_bump() -> None:
    """Mark the monster data as changed, so caches built on it are rebuilt."""
    DataVersion.objects.filter(pk=DataVersion.SINGLETON).update(
        number=F("number") + 1, changed_at=timezone.now()
    )


def monsters_seed(
    *,
    count: int,
    seed: int | None = None,
    reset: bool = False,
    on_progress: Callable[[int], None] | None = None,
    actor=None,
) -> int:
    """Add `count` generated monsters (after emptying the table if `reset`).

    All or nothing: one transaction, the audit entry included.  The same seed
    gives the same monsters.  `actor`: the user who asked (None: a command).
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    started = time.perf_counter()
    chunks = generate_chunks(count, rng=np.random.default_rng(seed), chunk_size=SEED_CHUNK_SIZE)
    created_at = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy_into_postgres(
                chunks, count=count, reset=reset, created_at=created_at, on_progress=on_progress
            )
        else:
            if reset:
                monsters_empty()
            done = 0
            for chunk in chunks:
                monsters_bulk_create(chunk.assign(created_at=created_at))
                done += len(chunk)
                if on_progress is not None:
                    on_progress(done)
        data_version_bump()
        seeded = f"{count:,} monsters" + (f" (seed {seed})" if seed is not None else "")
        audit_record(
            action=AuditEntry.Action.RESET if reset else AuditEntry.Action.SEED,
            summary=f"Replaced every monster with {seeded}" if reset else f"Added {seeded}",
            actor=actor,
            count=count,
            seed=seed,
        )
    logger.info(
        "Seeded %d monsters (reset=%s, seed=%s) in %.2f s", count, reset, seed, time.perf_counter() - started
    )
    return count


def monsters_empty() -> None:
    """Delete every monster and restart ids at 1 (TRUNCATE on PostgreSQL)."""
    statements = connection.ops.sql_flush(no_style(), [Monster._meta.db_table], reset_sequences=True)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def monsters_bulk_create(monsters: pd.DataFrame) -> None:
    """bulk_create a frame of monsters (every field but id) in batches: the path without COPY.

    Each monster is made by the model's positional fast path, from plain
    Python values taken a column at a time.
    """
    fields = [field.attname for field in Monster._meta.concrete_fields if not field.primary_key]
    columns = [monsters[field].tolist() for field in fields if field != "created_at"]
    columns.insert(fields.index("created_at"), monsters["created_at"].dt.to_pydatetime().tolist())
    Monster.objects.bulk_create(
        (Monster(None, *row) for row in zip(*columns, strict=True)), batch_size=SQLITE_BATCH_SIZE
    )


def _copy_into_postgres(chunks, *, count: int, reset: bool, created_at, on_progress) -> None:
    """Stream the chunks in with binary COPY (see bulk_load for the indexes).

    After TRUNCATE the rows are written frozen, which also lets index-only
    scans work at once.
    """
    table = connection.ops.quote_name(Monster._meta.db_table)
    if reset:
        monsters_empty()
    with connection.cursor() as cursor, bulk_load(cursor, rows=count, reset=reset):

        def encoded() -> Iterator[bytes]:
            done = 0
            for chunk in chunks:
                yield encode_rows(chunk, PG_TYPES, {"created_at": created_at})
                done += len(chunk)
                if on_progress is not None:
                    on_progress(done)

        columns = ", ".join([*PG_TYPES, "created_at"])
        options = "FORMAT binary, FREEZE" if reset else "FORMAT binary"
        stream = CopyStream(prefetched(encoded()))
        try:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH ({options})", stream, 1 << 20)
        except Exception:  # psycopg2's own error: copy_expert is not wrapped by Django
            if stream.error is not None:
                raise stream.error from None
            raise


@contextmanager
def bulk_load(cursor, *, rows: int, reset: bool) -> Iterator[None]:
    """Around a COPY of `rows` monsters into PostgreSQL, in the caller's transaction.

    For a large load the indexes are dropped first and rebuilt after (much
    faster than updating them row by row; a failure restores them with the
    transaction), then the table is analysed for the planner.
    """
    table = Monster._meta.db_table
    rebuild = reset or rows > _estimated_rows(cursor, table)
    indexes = _drop_indexes(cursor, table) if rebuild else []
    yield
    if indexes:
        cursor.execute(
            "SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL max_parallel_maintenance_workers = 1"
        )
        for definition in indexes:
            cursor.execute(definition)
    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def _estimated_rows(cursor, table: str) -> int:
    cursor.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [table])
    return cursor.fetchone()[0]


def _drop_indexes(cursor, table: str) -> list[str]:
    """Drop the table's indexes, the primary key's too; return the SQL that recreates them.

    Indexes that back another constraint stay, and so does a primary key that a
    foreign key depends on.  Rebuilding the primary key in bulk afterwards costs
    a fraction of updating it row by row during the load.
    """
    quote = connection.ops.quote_name
    cursor.execute(
        """
        SELECT index_class.relname, pg_get_indexdef(index_class.oid),
               con.conname, pg_get_constraintdef(con.oid)
        FROM pg_index
        JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
        LEFT JOIN pg_constraint con ON con.conindid = pg_index.indexrelid AND con.conrelid = pg_index.indrelid
        WHERE pg_index.indrelid = %s::regclass
          AND (con.oid IS NULL OR (
            con.contype = 'p'
            AND NOT EXISTS (SELECT 1 FROM pg_constraint fk WHERE fk.confrelid = pg_index.indrelid)
          ))
        """,
        [table],
    )
    recreate = []
    for index_name, index_definition, constraint_name, constraint_definition in cursor.fetchall():
        if constraint_name:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(constraint_name)}")
            recreate.insert(
                0,
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(constraint_name)} {constraint_definition}",
            )
        else:
            cursor.execute(f"DROP INDEX {quote(index_name)}")
            recreate.append(index_definition)
    return recreate


def monsters_export_rows(queryset: QuerySet) -> Iterator[tuple]:
    """The CSV header, then one tuple per monster, read in chunks as they are consumed.

    However many monsters there are, neither Python nor PostgreSQL keeps a copy
    of the result: a server-side cursor, in a transaction that lasts as long as
    the download (see bandersnatch.db.streaming_reads).
    """
    yield EXPORT_COLUMNS
    with streaming_reads():
        yield from queryset.values_list(*EXPORT_COLUMNS).iterator(chunk_size=5_000)


def monsters_frame(columns=(*COLUMNS,), queryset: QuerySet | None = None) -> pd.DataFrame:
    """Monsters as a DataFrame, straight from the database (no model objects).

    On PostgreSQL the rows stream out with COPY as CSV into pandas' C parser:
    a million rows in about a second, where ORM objects take ten times that.
    """
    queryset = (queryset if queryset is not None else Monster.objects.all()).order_by("pk")
    columns = list(columns)
    for column in columns:
        Monster._meta.get_field(column)  # FieldDoesNotExist for anything else
    if connection.vendor != "postgresql":
        return pd.DataFrame.from_records(list(queryset.values_list(*columns)), columns=columns)
    sql, params = queryset.values_list(*columns).query.sql_with_params()
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    kinds = {column: Monster._meta.get_field(column).get_internal_type() for column in columns}
    return pd.read_csv(
        buffer,
        names=columns,
        header=None,
        dtype={column: "category" for column, kind in kinds.items() if kind == "CharField"},
        parse_dates=[column for column, kind in kinds.items() if kind == "DateTimeField"],
        keep_default_na=False,
    )

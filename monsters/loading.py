"""Bulk loads into the monster table: all or nothing, one at a time, readers never blocked.

Seeding and the CSV import both end here.  A load is serialised with every
other load (a PostgreSQL advisory lock), and on PostgreSQL a large one is
written into a staging table beside the live one: rows copied in with binary
COPY, indexes built from two connections at once, then swapped in by one short
transaction that also records the change.  Until that commit every reader
keeps reading the old rows; a failure (or a killed process) leaves the live
table as it was.  A small append goes straight into the live table, which
takes no lock that readers wait for.  SQLite writes in one transaction, and
its write-ahead log lets readers go on reading meanwhile.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pandas as pd
from django.db import OperationalError, connection, connections, transaction

from .models import DataVersion, Monster
from .pgcopy import CopyStream, encode_rows, prefetched

logger = logging.getLogger(__name__)

SQLITE_BATCH_SIZE = 2_000
STAGING_SUFFIX = "__load"
INDEX_BUILDERS = 2  # connections building the staging table's indexes at once
INDEX_MEMORY = "256MB"  # maintenance_work_mem of each index build
# The swap waits this long for readers (an export reads in one transaction while it
# streams) to let go of the table, then steps back and tries again, so readers queued
# behind it never wait longer; after SWAP_WAIT_SECONDS in all it gives up.
SWAP_LOCK_TIMEOUT_MS = 200
SWAP_WAIT_SECONDS = 120
# pg_advisory_lock key of "a bulk load of the monster table is running" (an arbitrary constant).
LOAD_LOCK_KEY = 0x6D6F6E7374657273  # "monsters"
LOCK_POLL_SECONDS = 0.2


class LoadBusy(Exception):
    """Another bulk load holds the table (or readers would not let go): nothing was written."""


class LoadConflict(Exception):
    """The monsters changed while an append was being prepared: nothing was written."""


BUSY = "Another load of the monsters is running; nothing was written. Try again when it has finished."
TABLE_BUSY = "The monster table stayed busy with long reads; nothing was written. Try again."
CHANGED = "The monsters changed while the file was loading; nothing was written. Try again."


def monsters_load(
    chunks: Iterable[pd.DataFrame],
    *,
    rows: int,
    replace: bool,
    record: Callable[[], None],
    constants: dict | None = None,
    wait: float | None = None,
) -> None:
    """Write `chunks` of monsters (every column but id) after emptying the table if `replace`.

    `rows`: how many there will be (it decides how the indexes are handled).
    `constants`: columns with one value for every row, e.g. {"created_at": now}.
    `record` runs in the transaction that makes the rows visible (the audit
    entry and the data version bump).  `wait`: seconds to wait for another
    load to finish (None: as long as it takes); LoadBusy after that.
    """
    constants = constants or {}
    with _load_lock(wait=wait):
        if connection.vendor != "postgresql":
            _sqlite_load(chunks, replace=replace, record=record, constants=constants)
        elif replace or rows > _estimated_rows(Monster._meta.db_table):
            _StagedLoad(Monster._meta.db_table, replace=replace).run(
                chunks, record=record, constants=constants
            )
        else:
            with transaction.atomic():
                _copy(Monster._meta.db_table, chunks, constants=constants)
                record()


def monsters_empty() -> None:
    """Delete every monster and restart ids at 1 (TRUNCATE on PostgreSQL), in the caller's transaction."""
    from django.core.management.color import no_style

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


# The lock --------------------------------------------------------------------


@contextmanager
def _load_lock(*, wait: float | None) -> Iterator[None]:
    """Hold the one bulk-load lock (PostgreSQL: across every process and host)."""
    if connection.vendor != "postgresql":
        with _process_lock(wait=wait):
            yield
        return
    with connection.cursor() as cursor:
        if not _try_advisory_lock(cursor, wait=wait):
            raise LoadBusy(BUSY)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOAD_LOCK_KEY])


def _try_advisory_lock(cursor, *, wait: float | None) -> bool:
    if wait is None:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOAD_LOCK_KEY])
        if cursor.fetchone()[0]:
            return True
        logger.info("Waiting for another load of the monsters to finish")
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOAD_LOCK_KEY])
        return True
    deadline = time.monotonic() + wait
    while True:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOAD_LOCK_KEY])
        if cursor.fetchone()[0]:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(LOCK_POLL_SECONDS)


_sqlite_lock = threading.Lock()


@contextmanager
def _process_lock(*, wait: float | None) -> Iterator[None]:
    """SQLite serialises writers itself (busy timeout); this only orders this process's threads."""
    if not _sqlite_lock.acquire(timeout=-1 if wait is None else wait):
        raise LoadBusy(BUSY)
    try:
        yield
    except OperationalError as exc:
        if "locked" in str(exc):
            raise LoadBusy(BUSY) from exc
        raise
    finally:
        _sqlite_lock.release()


# SQLite ------------------------------------------------------------------------


def _sqlite_load(chunks, *, replace: bool, record, constants: dict) -> None:
    with transaction.atomic():
        if replace:
            monsters_empty()
        for chunk in chunks:
            monsters_bulk_create(chunk.assign(**constants))
        record()


# PostgreSQL ----------------------------------------------------------------------


def _estimated_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [table]
        )
        return cursor.fetchone()[0]


def _pg_types(frame: pd.DataFrame, constants: dict) -> dict[str, str]:
    """The binary COPY type of each column, from the model's fields."""
    kinds = {
        "CharField": "text",
        "PositiveSmallIntegerField": "smallint",
        "FloatField": "double precision",
        "DateTimeField": "timestamptz",
    }
    return {
        column: kinds[Monster._meta.get_field(column).get_internal_type()]
        for column in frame.columns
        if column not in constants
    }


def _encoded(chunks: Iterable[pd.DataFrame], constants: dict) -> Iterator[bytes]:
    for chunk in chunks:
        types = _pg_types(chunk, constants)
        text = [column for column, kind in types.items() if kind == "text"]
        chunk = chunk.astype({column: "category" for column in text if chunk[column].dtype != "category"})
        yield encode_rows(chunk, types, constants)


def _copy(table: str, chunks: Iterable[pd.DataFrame], *, constants: dict, freeze: bool = False) -> None:
    """Stream the chunks into `table` with binary COPY, the encoding a chunk ahead in a thread."""
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        return
    columns = [*_pg_types(first, constants), *constants]

    def all_chunks():
        yield first
        yield from chunks

    quote = connection.ops.quote_name
    sql = (
        f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN WITH "
        f"(FORMAT binary{', FREEZE' if freeze else ''})"
    )
    stream = CopyStream(prefetched(_encoded(all_chunks(), constants)))
    with connection.cursor() as cursor:
        try:
            with connection.wrap_database_errors:  # copy_expert is psycopg2's own
                cursor.copy_expert(sql, stream, 1 << 20)
        except Exception:
            if stream.error is not None:  # the chunks failed, not the database
                raise stream.error from None
            raise


_INDEX_DEFINITION = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(\S+)( ON (?:ONLY )?)(\S+)( .*)$", re.S)


class _StagedLoad:
    """Build the new contents of `table` beside it, then swap them in with one short lock.

    Outside a transaction the staging table is committed, so that two
    connections can build its indexes at once; inside the caller's
    transaction (tests, or a caller that wants one) everything happens in it.
    """

    def __init__(self, table: str, *, replace: bool):
        self.table = table
        self.staging = f"{table}{STAGING_SUFFIX}"
        self.replace = replace
        self.autocommit = not connection.in_atomic_block
        self.quote = connection.ops.quote_name

    def run(self, chunks, *, record, constants: dict) -> None:
        self._drop_staging()  # a killed load's leftover: the load lock says it is nobody's now
        if not self.autocommit:
            with transaction.atomic():
                self._load(chunks, record=record, constants=constants)
            return
        try:
            self._load(chunks, record=record, constants=constants)
        except BaseException:
            self._drop_staging()
            raise

    def _load(self, chunks, *, record, constants: dict) -> None:
        started = time.perf_counter()
        indexes, primary_key = self._index_definitions()
        with transaction.atomic():
            self._create_staging()
            seen_version = self._keep_old_rows()
            _copy(self.staging, chunks, constants=constants, freeze=True)
        copied = time.perf_counter()
        self._build_indexes([definition for _, definition in indexes] + [primary_key[1]])
        built = time.perf_counter()
        self._analyse()
        self._swap(indexes, primary_key, record=record, seen_version=seen_version)
        logger.info(
            "Loaded %s: copy %.2f s, indexes %.2f s, swap %.2f s",
            self.table, copied - started, built - copied, time.perf_counter() - built,
        )  # fmt: skip

    def _execute(self, *statements: str) -> None:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def _drop_staging(self) -> None:
        """Forget a staging table (this load's, or one a killed load left behind)."""
        try:
            with transaction.atomic():
                self._execute(f"DROP TABLE IF EXISTS {self.quote(self.staging)}")
        except Exception:
            logger.exception("Could not drop the staging table %s", self.staging)

    def _index_definitions(self) -> tuple[list[tuple[str, str]], tuple[str, str]]:
        """The live table's indexes as (name, SQL building it on the staging table), and its primary key's.

        Every index is built under a temporary name and renamed at the swap;
        the primary key is built as a unique index and attached then.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT index_class.relname, pg_get_indexdef(index_class.oid), pg_index.indisprimary
                FROM pg_index JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
                WHERE pg_index.indrelid = %s::regclass
                ORDER BY index_class.relname
                """,
                [self.table],
            )
            rows = cursor.fetchall()
        indexes, primary_key = [], None
        for name, definition, is_primary in rows:
            match = _INDEX_DEFINITION.match(definition)
            if match is None:
                raise RuntimeError(f"Cannot read the definition of index {name}: {definition}")
            start, _, on, _, rest = match.groups()
            staged = f"{start}{self.quote(name + STAGING_SUFFIX)}{on}{self.quote(self.staging)}{rest}"
            if is_primary:
                primary_key = (name, staged)
            else:
                indexes.append((name, staged))
        if primary_key is None:
            raise RuntimeError(f"{self.table} has no primary key")
        return indexes, primary_key

    def _create_staging(self) -> None:
        self._execute(
            f"CREATE TABLE {self.quote(self.staging)} "
            f"(LIKE {self.quote(self.table)} INCLUDING ALL EXCLUDING INDEXES)"
        )

    def _keep_old_rows(self) -> int | None:
        """For an append: the live rows, ids kept, and the id sequence carried on; the data version seen."""
        if self.replace:
            return None
        version = (
            DataVersion.objects.filter(pk=DataVersion.SINGLETON).values_list("number", flat=True).first()
        )
        columns = ", ".join(self.quote(field.column) for field in Monster._meta.concrete_fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), last_value, is_called) "
                f"FROM {self._sequence(self.table)}",
                [self.staging],
            )
            cursor.execute(
                f"INSERT INTO {self.quote(self.staging)} ({columns}) "
                f"SELECT {columns} FROM {self.quote(self.table)}"
            )
        return version

    def _sequence(self, table: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            return cursor.fetchone()[0]

    def _build_indexes(self, definitions: list[str]) -> None:
        """Build every index: from INDEX_BUILDERS connections at once outside a transaction."""
        # The slowest first, so the two builders finish together: trigrams, then text.
        definitions = sorted(definitions, key=lambda sql: ("gin" not in sql, "name" not in sql))
        if not self.autocommit:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = %s", [INDEX_MEMORY])
                for sql in definitions:
                    cursor.execute(sql)
            return
        pending = list(definitions)
        lock = threading.Lock()

        def builder() -> None:
            own = connections["default"]  # this thread's own connection
            try:
                with own.cursor() as cursor:
                    cursor.execute("SET maintenance_work_mem = %s", [INDEX_MEMORY])
                    cursor.execute("SET max_parallel_maintenance_workers = 0")  # the builders share the cores
                    while True:
                        with lock:
                            if not pending:
                                return
                            sql = pending.pop(0)
                        cursor.execute(sql)
            finally:
                own.close()

        with ThreadPoolExecutor(INDEX_BUILDERS, thread_name_prefix="index-builder") as pool:
            for future in [pool.submit(builder) for _ in range(INDEX_BUILDERS)]:
                future.result()

    def _analyse(self) -> None:
        statements = [f"ANALYZE {self.quote(self.staging)}"]
        if self.autocommit and not self.replace:
            statements.insert(
                0, f"VACUUM {self.quote(self.staging)}"
            )  # the copied old rows: index-only scans
        self._execute(*statements)

    def _swap(self, indexes, primary_key, *, record, seen_version) -> None:
        """Drop the live table and rename the staging one into its place, in one short transaction."""
        quote = self.quote
        staged_sequence = self._sequence(self.staging)
        live_sequence = f"{self.table}_id_seq"
        statements = [
            f"DROP TABLE {quote(self.table)}",
            f"ALTER TABLE {quote(self.staging)} RENAME TO {quote(self.table)}",
            f"ALTER SEQUENCE {staged_sequence} RENAME TO {quote(live_sequence)}",
            *(f"ALTER INDEX {quote(name + STAGING_SUFFIX)} RENAME TO {quote(name)}" for name, _ in indexes),
            f"ALTER TABLE {quote(self.table)} ADD CONSTRAINT {quote(primary_key[0])} "
            f"PRIMARY KEY USING INDEX {quote(primary_key[0] + STAGING_SUFFIX)}",
        ]
        deadline, attempt = time.monotonic() + SWAP_WAIT_SECONDS, 0
        while True:
            attempt += 1
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = %s", [f"{SWAP_LOCK_TIMEOUT_MS}ms"])
                        cursor.execute(f"LOCK TABLE {quote(self.table)} IN ACCESS EXCLUSIVE MODE")
                        cursor.execute("SET LOCAL lock_timeout = 0")
                        if not self.replace:
                            cursor.execute(
                                f"SELECT number FROM {quote(DataVersion._meta.db_table)} "
                                "WHERE id = %s FOR UPDATE",
                                [DataVersion.SINGLETON],
                            )
                            row = cursor.fetchone()
                            if (row[0] if row else None) != seen_version:
                                raise LoadConflict(CHANGED)
                        for sql in statements:
                            cursor.execute(sql)
                    record()
                return
            except OperationalError as exc:
                lock_not_available = getattr(exc.__cause__, "pgcode", None) == "55P03"
                if not lock_not_available or not self.autocommit:
                    raise
                if time.monotonic() >= deadline:
                    break
                logger.warning("Readers held %s; swap attempt %d failed, trying again", self.table, attempt)
                time.sleep(0.5)
        raise LoadBusy(TABLE_BUSY)
